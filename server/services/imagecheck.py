"""Does an image's data hold what its header claims? Checked before a photo is accepted.

Pillow decodes leniently: a JPEG whose frame header says 8000 x 8000 over 16 x 16 of
data decodes to 8000 x 8000 of grey, and a PNG cut short or without its end chunk
decodes with the missing rows blank. Either would be stored as evidence that is not
what the device took. These checks walk the file's own structure, with no pixel
decoded, and refuse what is incomplete:

- JPEG: markers from SOI; the entropy-coded data of the scans must hold at least one bit
  per 8 x 8 block of the frame (every block's DC coefficient takes a Huffman code of at
  least one bit, in baseline and progressive alike), and the file must reach an EOI. Arithmetic-coded JPEGs (no phone or browser writes them, and they escape that
  bound) are refused.
- PNG: every chunk whole with a correct CRC, IHDR first, IEND present; the IDAT stream
  inflates to at least the bytes the header's size, depth and interlacing call for
  (counted in bounded pieces, never held).
- WebP: the RIFF size fits the bytes; libwebp refuses a cut or lying bitstream itself.
"""

import re
import zlib

from ..errors import Invalid

# Start-of-frame markers: C0-C3 Huffman, C5-C7 differential Huffman, C9-CB and CD-CF arithmetic.
SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
ARITHMETIC = {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Inside entropy-coded data, FF is followed by 00 (a stuffed byte), D0-D7 (a restart
# marker) or FF (fill); anything else is the marker that ends the scan.
SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
INFLATE_PIECE = 1 << 20


class UnreadablePhoto(Invalid):
    code = "unreadable_photo"


class IncompleteImage(UnreadablePhoto):
    """Cut short, damaged, or claiming more than it holds (same code: the client's remedy is the same)."""


class UnsupportedCoding(Invalid):
    code = "unsupported_coding"


def _cut(what: str) -> IncompleteImage:
    return IncompleteImage(f"The photo is cut short (truncated) or damaged: {what}. Upload the whole file again.")


def check_complete(data: bytes, fmt: str) -> None:
    """Refuse `data` (a `fmt` image) whose data does not hold what its header claims.

    :raise IncompleteImage (422): cut short, damaged, or claiming more than it holds.
    :raise UnsupportedCoding (422): an arithmetic-coded JPEG.
    """
    {"JPEG": _jpeg, "PNG": _png, "WEBP": _webp}[fmt](data)


def _jpeg(data: bytes) -> None:
    """Walk the markers; scan data is searched only as far as the bound needs.

    Once the scans seen hold enough bytes for the frame's blocks, the rest of the scan
    data is not searched (a 3 MB photo is proven by its first few tens of KB); the file
    must still end in an EOI after that point.
    """
    size = len(data)
    pos = 2  # after SOI
    frame = None
    needed = None  # bytes of scan data the frame's blocks need at the least
    entropy = 0
    while True:
        if pos >= size:
            raise _cut("the JPEG ends before its end marker")
        if data[pos] != 0xFF:
            raise _cut("the JPEG has bytes where a marker should be")
        while pos < size and data[pos] == 0xFF:
            pos += 1
        if pos >= size:
            raise _cut("the JPEG ends before its end marker")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI: anything after it is not part of the image
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue  # markers without a length
        if pos + 2 > size:
            raise _cut("the JPEG ends inside a marker")
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > size:
            raise _cut("a JPEG segment runs past the end of the file")
        if marker in SOF:
            if marker in ARITHMETIC:
                raise UnsupportedCoding("Arithmetic-coded JPEGs are not accepted; send the photo as a "
                                        "standard (Huffman-coded) JPEG, as cameras and phones write it.")
            if length < 8:
                raise _cut("the JPEG frame header is too short")
            frame = (int.from_bytes(data[pos + 5:pos + 7], "big"), int.from_bytes(data[pos + 3:pos + 5], "big"))
            if not frame[0] or not frame[1]:
                raise _cut("the JPEG's frame header gives no size")
            needed = -(-(-(-frame[0] // 8) * -(-frame[1] // 8)) // 8)
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            if needed is None:
                raise _cut("the JPEG has a scan before its frame header")
            window = pos + (needed - entropy)
            end = SCAN_END.search(data, pos, window) if window <= size else SCAN_END.search(data, pos)
            if end is None and window <= size:
                # this scan holds what is still needed: enough is proven; the file must still end
                if data.rfind(b"\xff\xd9", window) == -1:
                    raise _cut("the JPEG ends before its end marker")
                return
            if end is None:
                raise _cut("the JPEG's image data ends without an end marker")
            entropy += end.start() - pos
            pos = end.start()
    if frame is None:
        raise _cut("the JPEG has no frame header")
    width, height = frame
    if entropy < needed:
        raise _cut(f"its header claims {width} x {height} pixels, but its image data ({entropy} bytes) "
                   f"cannot hold that many (at least {needed} bytes)")


def _png(data: bytes) -> None:
    size = len(data)
    pos = 8
    header = None
    expected = None
    inflated = 0
    inflater = zlib.decompressobj()
    while True:
        if pos + 12 > size:
            raise _cut("the PNG ends before its IEND chunk")
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > size:
            raise _cut(f"the PNG's {kind.decode('latin-1')!r} chunk runs past the end of the file")
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != int.from_bytes(data[end - 4:end], "big"):
            raise _cut(f"the PNG's {kind.decode('latin-1')!r} chunk fails its checksum")
        if header is None:
            if kind != b"IHDR" or length != 13:
                raise _cut("the PNG does not start with its header chunk")
            header = body
            expected = _png_raw_bytes(body)
        elif kind == b"IDAT" and inflated < expected:
            inflated += _inflate_count(inflater, body, expected - inflated)
        elif kind == b"IEND":
            break
        pos = end
    if inflated < expected:
        width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
        raise _cut(f"its header claims {width} x {height} pixels, but its image data holds only "
                   f"{inflated} of the {expected} bytes they take")


def _inflate_count(inflater, piece: bytes, wanted: int) -> int:
    """Feed `piece` to `inflater`; how many bytes it gives, stopping once `wanted` is reached."""
    count = 0
    try:
        out = inflater.decompress(piece, INFLATE_PIECE)
        while True:
            count += len(out)
            if count >= wanted or not inflater.unconsumed_tail:
                return count
            out = inflater.decompress(inflater.unconsumed_tail, INFLATE_PIECE)
    except zlib.error:
        raise _cut("the PNG's compressed image data is damaged") from None


def _png_raw_bytes(header: bytes) -> int:
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour, interlace = header[8], header[9], header[12]
    channels = PNG_CHANNELS.get(colour)
    if channels is None or not width or not height:
        raise _cut("the PNG's header is not valid")
    bits = channels * depth

    def rows(w: int, h: int) -> int:
        return h * (1 + -(-w * bits // 8)) if w and h else 0

    if interlace != 1:
        return rows(width, height)
    return sum(rows(-(-(width - x0) // dx), -(-(height - y0) // dy)) for x0, y0, dx, dy in ADAM7)


def _webp(data: bytes) -> None:
    if len(data) < 12 or int.from_bytes(data[4:8], "little") + 8 > len(data):
        raise _cut("the WebP file is shorter than its header says")
