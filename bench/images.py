"""Camera-like test photos, made with Pillow so the benchmarks need no fixture files.

A flat colour or a gradient compresses to almost nothing and decodes unrealistically
fast; a camera JPEG has structure at every scale plus sensor grain. These images stack
blurred noise at a few scales (shapes, shading) and fine grain on top, so a 12 MP frame
at quality 90 lands in the few-megabyte range a phone produces.
"""

import io
from datetime import datetime

from PIL import Image, ImageFilter, ImageOps

ORIENTATION = 0x0112
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
MAKE, MODEL = 0x010F, 0x0110
GPS_IFD, EXIF_IFD = 0x8825, 0x8769


def _structure(size: tuple[int, int], seed_sigma: float, cell: int) -> Image.Image:
    """Noise at one scale: a small noise field blown up and blurred into soft shapes."""
    small = Image.effect_noise((max(2, size[0] // cell), max(2, size[1] // cell)), seed_sigma)
    return small.resize(size, Image.Resampling.BICUBIC)


def camera_pixels(width: int, height: int) -> Image.Image:
    """An RGB frame with shapes, shading, edges and grain, like a photo of a workshop."""
    size = (width, height)
    channels = []
    for shift, cell in ((0, 200), (7, 170), (13, 230)):
        coarse = _structure(size, 60, cell + shift)
        middle = _structure(size, 50, 24 + shift)
        texture = _structure(size, 70, 3)  # fabric, concrete, rust: detail a few pixels wide
        grain = Image.effect_noise(size, 30)
        band = Image.blend(Image.blend(coarse, middle, 0.35), texture, 0.25)
        channels.append(Image.blend(band, grain, 0.2))
    image = Image.merge("RGB", channels)
    # A few hard edges (shelving, a door frame) so there is high-frequency content too.
    edges = ImageOps.posterize(_structure(size, 80, 90).convert("RGB"), 2).filter(ImageFilter.SMOOTH)
    return Image.blend(image, edges, 0.3)


def camera_exif(orientation: int = 1, gps: bool = True, taken: datetime | None = None) -> Image.Exif:
    """EXIF as a phone writes it: make and model, orientation, capture time and a GPS fix."""
    exif = Image.Exif()
    exif[MAKE] = "Gemba Bench"
    exif[MODEL] = "Phone 12MP"
    exif[ORIENTATION] = orientation
    taken = taken or datetime(2026, 3, 14, 9, 26, 53)
    exif_ifd = exif.get_ifd(EXIF_IFD)
    exif_ifd[DATETIME_ORIGINAL] = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif_ifd[OFFSET_TIME_ORIGINAL] = "+01:00"
    if gps:
        gps_ifd = exif.get_ifd(GPS_IFD)
        gps_ifd[1] = "N"
        gps_ifd[2] = (52.0, 22.0, 51.3)
        gps_ifd[3] = "E"
        gps_ifd[4] = (4.0, 53.0, 32.8)
    return exif


def jpeg(width: int, height: int, *, orientation: int = 1, gps: bool = True, quality: int = 90) -> bytes:
    """A camera-like JPEG of `width` x `height` stored pixels with EXIF (orientation, GPS)."""
    out = io.BytesIO()
    camera_pixels(width, height).save(
        out, "JPEG", quality=quality, exif=camera_exif(orientation, gps), subsampling="4:2:0"
    )
    return out.getvalue()


def camera_12mp() -> bytes:
    """A 4000 x 3000 phone photo taken in portrait (EXIF orientation 6) with a GPS fix."""
    return jpeg(4000, 3000, orientation=6, gps=True, quality=90)


def device_2048() -> bytes:
    """What the field app uploads: already downscaled to a 2048 px long edge, upright."""
    return jpeg(2048, 1536, orientation=1, gps=True, quality=85)


if __name__ == "__main__":
    for name, make in (("camera_12mp", camera_12mp), ("device_2048", device_2048)):
        data = make()
        print(f"{name}: {len(data) / 1e6:.2f} MB")
