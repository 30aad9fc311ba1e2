"""Photos for the demo's evidence, painted with Pillow: simple scenes a phone might have taken.

Each scene is named in the organisation file (`{"scene": "spill", ...}`) with the words it
shows. A photo is drawn from its scene, a seed and the moment it was taken, and nothing
else: the same three give the same bytes, so rebuilding the demo finds the photos it
stored before, and two photos with different seeds never share a hash. Grain, light
fall-off and a slight tilt stand in for a camera; EXIF carries the capture time with
the site's UTC offset, as a phone writes it.
"""

import io
import math
import random
from collections.abc import Callable
from datetime import datetime
from functools import cache

from PIL import Image, ImageChops, ImageDraw, ImageFont

# Scenes are drawn on a 1600 x 1200 canvas and framed at 1440 x 1080 (about 1.5 megapixels,
# 150-200 KB): big enough to look like a photo, small enough to build dozens in a second or two.
SIZE = (1600, 1200)
FRAME = (1440, 1080)
QUALITY = 82
BAND = 10  # pixels per step of a shaded wall or floor; the grain hides the steps
# EXIF tags a phone writes: who made the camera, and when (local time and its offset).
MAKE, MODEL, SOFTWARE = 0x010F, 0x0110, 0x0131
EXIF_IFD, DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x8769, 0x9003, 0x9011

Painter = Callable[[ImageDraw.ImageDraw, random.Random, dict], None]


def photograph(scene: dict, seed: str, taken_at: datetime) -> bytes:
    """Paint `scene` as a JPEG taken at `taken_at` (aware, in the site's time zone)."""
    rng = random.Random(seed)
    image = Image.new("RGB", SIZE)
    PAINTERS[scene["scene"]](ImageDraw.Draw(image), rng, scene)
    image = _as_if_photographed(image, rng)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, exif=_exif(taken_at))
    return out.getvalue()


def signature(seed: str) -> bytes:
    """A signature as the field app's pad draws it: a pen's loops on white, 600 x 200 PNG."""
    rng = random.Random(seed)
    image = Image.new("RGB", (600, 200), "white")
    draw = ImageDraw.Draw(image)
    x, points = 40.0, []
    while x < 540:
        # Loops that lean forward, of varying height, like a hurried hand.
        height, width = rng.uniform(30, 70), rng.uniform(25, 45)
        for step in range(12):
            angle = 2 * math.pi * step / 12
            points.append((x + width * step / 12 + 12 * math.sin(angle), 110 - height * math.sin(angle / 2) ** 2
                           + 10 * math.cos(angle)))
        x += width
    draw.line(points, fill="black", width=3, joint="curve")
    draw.line([(50, 160), (rng.uniform(300, 520), 150 + rng.uniform(-8, 8))], fill="black", width=2)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _exif(taken_at: datetime) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[SOFTWARE] = "Gemba", "Demo camera", "gemba demo"
    offset = taken_at.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    exif.get_ifd(EXIF_IFD).update({
        DATETIME_ORIGINAL: taken_at.strftime("%Y:%m:%d %H:%M:%S"),
        OFFSET_TIME_ORIGINAL: f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
    })
    return exif


def _as_if_photographed(image: Image.Image, rng: random.Random) -> Image.Image:
    """A slight tilt, light that falls off to the corners, and sensor grain, framed at FRAME."""
    # One affine step turns the canvas a little, zooms in enough to hide its corners and
    # scales it to the frame: output pixel (x, y) takes the canvas pixel (a x + b y + c, d x + e y + f).
    angle = math.radians(rng.uniform(-2.5, 2.5))
    scale = SIZE[0] / FRAME[0] / (1.0 + 0.6 * abs(angle))
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    (fx, fy), (cx, cy) = (FRAME[0] / 2, FRAME[1] / 2), (SIZE[0] / 2, SIZE[1] / 2)
    image = image.transform(FRAME, Image.Transform.AFFINE,
                            (cos, -sin, cx - cos * fx + sin * fy, sin, cos, cy - sin * fx - cos * fy),
                            resample=Image.Resampling.NEAREST)
    return ImageChops.multiply(image, _lens())


@cache
def _lens() -> Image.Image:
    """What the camera does to every picture, as one layer to multiply it by.

    Light falls off to about two thirds in the corners, and grain of a few levels either
    way sits in 2 x 2 pixel specks, as a phone's noise reduction leaves it. Seeded, so
    it is the same in every process.
    """
    falloff = Image.radial_gradient("L").resize(FRAME, Image.Resampling.BILINEAR).point(
        lambda v: 247 - max(0, v - 110) * 0.6)
    specks = (FRAME[0] // 2, FRAME[1] // 2)
    noise = Image.frombytes("L", specks, random.Random("gemba demo grain").randbytes(specks[0] * specks[1]))
    grain = noise.point(lambda v: 128 + (v - 128) // 24).resize(FRAME, Image.Resampling.NEAREST)
    return ImageChops.add(falloff, grain, offset=-128).convert("RGB")


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _jitter(colour: tuple, rng: random.Random, spread: int = 12) -> tuple:
    """`colour` a little lighter or darker, as paint and light vary."""
    shift = rng.randint(-spread, spread)
    return tuple(max(0, min(255, c + shift)) for c in colour)


def _backdrop(draw: ImageDraw.ImageDraw, rng: random.Random, wall: tuple, floor: tuple, horizon: int) -> None:
    """A wall down to `horizon`, then a floor, each shaded from top to bottom."""
    width, height = SIZE
    wall, floor = _jitter(wall, rng), _jitter(floor, rng)
    for y in range(0, horizon, BAND):
        shade = 1.0 - 0.18 * y / horizon
        draw.rectangle((0, y, width, y + BAND), fill=tuple(int(c * shade) for c in wall))
    for y in range(horizon, height, BAND):
        shade = 0.75 + 0.3 * (y - horizon) / (height - horizon)
        draw.rectangle((0, y, width, y + BAND), fill=tuple(min(255, int(c * shade)) for c in floor))
    for _ in range(60):  # scuffs and stains on the floor
        x, y = rng.randrange(width), rng.randrange(horizon, height)
        r = rng.randint(4, 30)
        draw.ellipse((x - r, y - r // 3, x + r, y + r // 3), fill=_jitter(floor, rng, 25))


def _text_block(draw, box, lines, rng, ink=(25, 25, 25), fill=(245, 245, 240), outline=(40, 40, 40), size=None):
    """A sticker, tag or sign: a filled box with lines of text, the first one larger."""
    left, top, right, bottom = box
    draw.rounded_rectangle(box, radius=14, fill=fill, outline=outline, width=5)
    size = size or max(18, (bottom - top) // (len(lines) + 2))
    y = top + size // 2
    for number, line in enumerate(lines):
        font = _font(int(size * (1.25 if number == 0 else 0.9)))
        draw.text((left + size // 2 + rng.randint(0, 4), y), line, font=font, fill=ink)
        y += int(size * (1.5 if number == 0 else 1.2))


# ---- the scenes --------------------------------------------------------------------------

def label(draw, rng, scene):
    """A close-up of a label on a tool or a bottle: brushed metal, a sticker, its words."""
    width, height = SIZE
    base = _jitter((150, 154, 160), rng, 20)
    for y in range(0, height, 3):
        draw.line((0, y, width, y), fill=_jitter(base, rng, 10), width=3)
    draw.rounded_rectangle((80, 380, width - 80, 820), radius=60, fill=_jitter((70, 74, 80), rng), outline=(30, 30, 30), width=6)
    colour = tuple(scene.get("colour", (250, 220, 60)))
    _text_block(draw, (300, 260, 1300, 940), scene["text"], rng, fill=colour, size=70)
    if scene.get("stamp"):
        draw.rectangle((820, 760, 1280, 880), outline=(200, 20, 20), width=8)
        draw.text((850, 780), scene["stamp"], font=_font(64), fill=(200, 20, 20))


def document(draw, rng, scene):
    """A sheet of paper on a workbench: a title, lines of print, a revision box."""
    width, height = SIZE
    wood = _jitter((150, 105, 60), rng)
    draw.rectangle((0, 0, width, height), fill=wood)
    for y in range(0, height, 7):
        draw.line((0, y + rng.randint(-3, 3), width, y + rng.randint(-3, 3)), fill=_jitter(wood, rng, 18), width=2)
    sheet = (330 + rng.randint(-30, 30), 90, 1270 + rng.randint(-30, 30), 1130)
    draw.rectangle((sheet[0] + 14, sheet[1] + 14, sheet[2] + 14, sheet[3] + 14), fill=(70, 50, 30))
    draw.rectangle(sheet, fill=(246, 244, 236))
    left, top = sheet[0] + 60, sheet[1] + 60
    draw.text((left, top), scene["text"][0], font=_font(56), fill=(20, 20, 20))
    y = top + 110
    for line in scene["text"][1:]:
        draw.text((left, y), line, font=_font(34), fill=(40, 40, 40))
        y += 56
    while y < sheet[3] - 200:  # the body of the instruction, too small to read
        draw.rectangle((left, y, left + rng.randint(400, 820), y + 12), fill=(120, 120, 120))
        y += 34
    if scene.get("stamp"):
        draw.rectangle((sheet[2] - 420, sheet[3] - 170, sheet[2] - 60, sheet[3] - 70), outline=(30, 60, 170), width=6)
        draw.text((sheet[2] - 400, sheet[3] - 150), scene["stamp"], font=_font(44), fill=(30, 60, 170))


def shelf(draw, rng, scene):
    """Racking with three levels of stock: boxes, bins or pumps, each with a tag or none."""
    width, height = SIZE
    _backdrop(draw, rng, (200, 200, 195), (120, 120, 118), 1000)
    for x in (120, width - 160):
        draw.rectangle((x, 60, x + 40, 1060), fill=(225, 110, 20))
    tags = scene.get("tags", [])
    for level, y in enumerate((300, 620, 940)):
        draw.rectangle((120, y, width - 120, y + 36), fill=(30, 70, 160))
        for slot in range(4):
            x = 210 + slot * 310
            kind = scene.get("items", "boxes")
            if kind == "pumps":
                draw.rounded_rectangle((x, y - 200, x + 240, y - 10), radius=30, fill=_jitter((40, 90, 150), rng, 20))
                draw.ellipse((x + 150, y - 170, x + 270, y - 40), fill=(90, 95, 100), outline=(30, 30, 30), width=4)
            elif kind == "bins":
                draw.polygon(((x, y - 170), (x + 250, y - 170), (x + 230, y), (x + 20, y)), fill=_jitter((30, 110, 200), rng, 15))
            else:
                draw.rectangle((x, y - 220, x + 250, y - 2), fill=_jitter((190, 150, 100), rng, 15), outline=(120, 90, 60), width=3)
                draw.rectangle((x + 110, y - 220, x + 140, y - 2), fill=(210, 190, 150))
            tag = tags[(level * 4 + slot) % len(tags)] if tags else None
            if tag:
                colour = {"PASSED": (60, 170, 70), "FAILED": (210, 40, 40)}.get(tag, (250, 250, 245))
                _text_block(draw, (x + 20, y + 44, x + 230, y + 110), [tag], rng, fill=colour, size=30)
    if scene.get("sign"):
        _text_block(draw, (560, 70, 1040, 200), [scene["sign"]], rng, fill=(255, 255, 255), size=48)


def spill(draw, rng, scene):
    """A dark puddle spreading from under a machine across a concrete floor."""
    width, height = SIZE
    _backdrop(draw, rng, (60, 110, 80), (165, 165, 160), 420)
    draw.rectangle((200, 120, 1400, 470), fill=(40, 95, 70), outline=(20, 40, 30), width=6)
    draw.text((240, 150), scene.get("machine", "PRESS 2"), font=_font(60), fill=(240, 240, 230))
    if not scene.get("clean"):
        cx, cy = 760 + rng.randint(-60, 60), 720
        for _ in range(14):
            rx, ry = rng.randint(120, 330), rng.randint(40, 120)
            dx, dy = rng.randint(-260, 260), rng.randint(-60, 260)
            draw.ellipse((cx + dx - rx, cy + dy - ry, cx + dx + rx, cy + dy + ry), fill=_jitter((35, 28, 20), rng, 6))
        draw.ellipse((cx - 160, cy - 20, cx + 40, cy + 20), fill=(120, 110, 100))  # the light on the oil
    for x, y in scene.get("cones", []):
        draw.polygon(((x, y - 190), (x - 70, y), (x + 70, y)), fill=(245, 120, 20))
        draw.rectangle((x - 42, y - 110, x + 42, y - 80), fill=(250, 250, 250))
        draw.rectangle((x - 95, y, x + 95, y + 22), fill=(230, 100, 15))
    if scene.get("sign"):
        _text_block(draw, (1050, 880, 1520, 1080), scene["sign"], rng, fill=(255, 215, 0), size=40)


def machine(draw, rng, scene):
    """The front of a machine tool: its door and window, the interlock switch, and what is on it."""
    width, height = SIZE
    _backdrop(draw, rng, (205, 205, 200), (110, 112, 110), 1040)
    draw.rectangle((140, 80, 1460, 1060), fill=_jitter((170, 180, 175), rng), outline=(60, 60, 60), width=6)
    draw.rectangle((260, 220, 1000, 860), fill=(95, 100, 100), outline=(50, 50, 50), width=8)
    draw.rectangle((300, 260, 960, 820), fill=(35, 40, 45))
    draw.line((320, 280, 620, 800), fill=(70, 80, 90), width=10)  # a reflection in the window
    draw.rectangle((1000, 420, 1040, 680), fill=(40, 40, 40))  # the door handle
    draw.text((180, 110), scene.get("name", "CNC-3"), font=_font(70), fill=(30, 30, 30))
    draw.rectangle((1080, 440, 1200, 620), fill=(250, 200, 0), outline=(40, 40, 40), width=4)  # interlock
    draw.rectangle((1110, 480, 1170, 560), fill=(60, 60, 60))
    if scene.get("tie"):
        for offset in (0, 26):
            draw.line((1060, 500 + offset, 1220, 470 + offset), fill=(15, 15, 15), width=12)
        draw.rectangle((1196, 460, 1226, 490), fill=(15, 15, 15))
    if scene.get("locked"):
        draw.arc((1240, 520, 1340, 620), 180, 360, fill=(160, 160, 160), width=18)
        draw.rectangle((1230, 570, 1350, 690), fill=(210, 30, 30))
        _text_block(draw, (1180, 720, 1440, 980), ["DANGER", "DO NOT", "OPERATE"], rng, fill=(250, 250, 250),
                    ink=(200, 20, 20), size=40)
    if scene.get("chips"):
        for _ in range(80):
            x, y = rng.randint(320, 940), rng.randint(600, 810)
            draw.arc((x, y, x + 60, y + 30), rng.randint(0, 180), 360, fill=(200, 200, 190), width=3)


def exit_door(draw, rng, scene):
    """A fire exit: the green sign, the door, and whatever stands in front of it."""
    width, height = SIZE
    _backdrop(draw, rng, (215, 210, 200), (130, 128, 120), 980)
    draw.rectangle((520, 260, 1080, 990), fill=_jitter((110, 120, 130), rng), outline=(50, 50, 50), width=8)
    draw.rectangle((560, 600, 1040, 640), fill=(200, 30, 30))  # the push bar
    sign, font = scene.get("sign", "FIRE EXIT"), _font(76)
    right = 600 + int(draw.textlength(sign, font=font)) + 150
    draw.rectangle((520, 90, right, 220), fill=(0, 150, 70))
    draw.text((560, 115), sign, font=font, fill=(255, 255, 255))
    draw.polygon(((right - 110, 120), (right - 30, 155), (right - 110, 190)), fill=(255, 255, 255))
    if scene.get("hatched"):
        zone = (430, 1000, 1170, 1190)
        draw.rectangle(zone, fill=(250, 215, 0))
        for x in range(zone[0] - 200, zone[2], 70):
            draw.polygon(((x, zone[3]), (x + 35, zone[3]), (x + 235, zone[1]), (x + 200, zone[1])), fill=(20, 20, 20))
        draw.rectangle(zone, outline=(20, 20, 20), width=6)
    for stack in range(scene.get("pallets", 0)):
        x = 380 + stack * 300 + rng.randint(-30, 30)
        for layer in range(3):
            y = 1140 - layer * 240
            draw.rectangle((x, y - 30, x + 380, y), fill=_jitter((170, 130, 80), rng))
            draw.rectangle((x + 10, y - 230, x + 370, y - 30), fill=_jitter((185, 150, 105), rng), outline=(110, 80, 50), width=3)
            draw.line((x + 10, y - 160, x + 370, y - 160), fill=(200, 180, 140), width=14)


def walkway(draw, rng, scene):
    """A floor seen from eye height: a pedestrian walkway's lines running away from the camera."""
    width, height = SIZE
    _backdrop(draw, rng, (190, 195, 200), (140, 140, 135), 420)
    draw.rectangle((0, 120, width, 420), fill=(90, 100, 120))  # the dock doors
    for x in range(100, width, 480):
        draw.rectangle((x, 140, x + 380, 420), fill=(170, 175, 180), outline=(60, 60, 60), width=5)
    worn = scene.get("worn", False)
    for near, far in ((250, 690), (1350, 910)):
        for step in range(0, 40):
            if worn and rng.random() < 0.55:
                continue
            t0, t1 = step / 40, (step + 0.8) / 40
            y0, y1 = height - t0 * (height - 420), height - t1 * (height - 420)
            x0, x1 = near + (far - near) * t0, near + (far - near) * t1
            w0, w1 = 60 * (1 - t0) + 8, 60 * (1 - t1) + 8
            colour = (230, 200, 40) if not worn else _jitter((175, 160, 95), rng, 15)
            draw.polygon(((x0 - w0 / 2, y0), (x0 + w0 / 2, y0), (x1 + w1 / 2, y1), (x1 - w1 / 2, y1)), fill=colour)
    if scene.get("text"):
        draw.text((600, 1040), scene["text"], font=_font(64), fill=(230, 200, 40) if not worn else (175, 165, 120))
    for box in range(scene.get("boxes", 0)):
        x, y = 200 + box * 170 + rng.randint(-20, 20), 760 + (box % 2) * 150
        draw.rectangle((x, y, x + 210, y + 170), fill=_jitter((185, 145, 95), rng), outline=(110, 80, 50), width=4)
        if box % 3 == 1:
            draw.polygon(((x, y), (x + 70, y), (x, y + 60)), fill=(130, 100, 65))  # a crushed corner


def bench(draw, rng, scene):
    """A workbench against a wall with bottles or cans on it, labelled or not."""
    width, height = SIZE
    _backdrop(draw, rng, (180, 190, 185), (110, 100, 90), 760)
    draw.rectangle((0, 700, width, 800), fill=(120, 95, 70), outline=(70, 55, 40), width=6)
    items = scene.get("items", [])
    for number, item in enumerate(items):
        x = 180 + number * (1200 // max(1, len(items)))
        if item.get("can"):
            draw.rounded_rectangle((x, 380, x + 220, 720), radius=24, fill=(200, 30, 30), outline=(90, 10, 10), width=5)
            draw.rectangle((x + 70, 330, x + 110, 390), fill=(210, 180, 40))
        else:
            draw.rounded_rectangle((x + 40, 360, x + 180, 720), radius=40, fill=_jitter((185, 215, 225), rng, 10))
            draw.rectangle((x + 85, 300, x + 135, 370), fill=_jitter((40, 110, 200), rng, 20))
            draw.rectangle((x + 50, 560, x + 170, 710), fill=(210, 200, 140))  # what is inside
        if item.get("label"):
            _text_block(draw, (x + 20, 460, x + 200, 620), item["label"], rng, fill=(255, 240, 80), size=24)
    if scene.get("sign"):
        _text_block(draw, (1100, 80, 1520, 300), scene["sign"], rng, fill=(255, 255, 255), size=40)


def board(draw, rng, scene):
    """A board on the wall: tools on a shadow board, hoods on hooks, an eyewash station, notices."""
    width, height = SIZE
    _backdrop(draw, rng, (200, 200, 205), (120, 120, 120), 1080)
    draw.rectangle((140, 100, 1460, 1020), fill=_jitter((245, 245, 240), rng, 6), outline=(60, 60, 60), width=8)
    if scene.get("title"):
        draw.text((200, 130), scene["title"], font=_font(60), fill=(30, 30, 30))
    items = scene.get("items", "tools")
    for slot in range(scene.get("count", 6)):
        x, y = 230 + (slot % 3) * 400, 290 + (slot // 3) * 360
        empty = slot in scene.get("missing", [])
        if items == "tools":
            draw.rounded_rectangle((x, y, x + 300, y + 80), radius=30, fill=None if empty else (200, 30, 30),
                                   outline=(20, 20, 20), width=6)
            draw.rectangle((x + 240, y - 40, x + 300, y + 120), fill=None if empty else (120, 120, 125),
                           outline=(20, 20, 20), width=6)
        elif items == "hoods":
            draw.ellipse((x + 120, y - 30, x + 160, y + 10), fill=(80, 80, 80))
            if not empty:
                draw.chord((x + 20, y, x + 260, y + 260), 180, 360, fill=_jitter((230, 230, 225), rng, 6), outline=(60, 60, 60), width=4)
                draw.rectangle((x + 40, y + 130, x + 240, y + 220), fill=(60, 70, 90))
                draw.line((x + 140, y + 220, x + 100, y + 300), fill=(40, 40, 40), width=16)
        elif items == "eyewash":
            if slot < 2:
                draw.rounded_rectangle((x, y, x + 220, y + 300), radius=40, fill=(30, 160, 70), outline=(20, 80, 40), width=5)
                _text_block(draw, (x + 20, y + 90, x + 200, y + 230), ["EYE WASH", "EXP " + scene.get("expiry", "")],
                            rng, fill=(255, 255, 255), size=24)
        else:
            draw.rectangle((x, y, x + 300, y + 280), fill=_jitter((255, 250, 200), rng, 8), outline=(90, 90, 90), width=3)
            for line in range(6):
                draw.rectangle((x + 20, y + 30 + line * 40, x + 40 + rng.randint(120, 240), y + 44 + line * 40), fill=(110, 110, 110))
    if scene.get("sign"):
        _text_block(draw, (200, 900, 900, 1000), [scene["sign"]], rng, fill=(255, 255, 255), size=44)


def gauge(draw, rng, scene):
    """A round pressure gauge on a pipe, its needle where the scene says."""
    width, height = SIZE
    _backdrop(draw, rng, (150, 160, 170), (100, 100, 100), 1100)
    draw.rectangle((0, 520, width, 680), fill=(90, 110, 90))  # the pipe
    cx, cy, r = 800, 520, 380
    draw.ellipse((cx - r - 30, cy - r - 30, cx + r + 30, cy + r + 30), fill=(60, 60, 60))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(248, 248, 242))
    draw.arc((cx - r + 40, cy - r + 40, cx + r - 40, cy + r - 40), 315, 405, fill=(210, 30, 30), width=30)
    for tick in range(11):
        angle = math.radians(135 + tick * 27)
        draw.line((cx + (r - 70) * math.cos(angle), cy + (r - 70) * math.sin(angle),
                   cx + (r - 20) * math.cos(angle), cy + (r - 20) * math.sin(angle)), fill=(20, 20, 20), width=8)
    angle = math.radians(135 + 270 * scene.get("reading", 0.5))
    draw.line((cx, cy, cx + (r - 60) * math.cos(angle), cy + (r - 60) * math.sin(angle)), fill=(20, 20, 20), width=14)
    draw.ellipse((cx - 30, cy - 30, cx + 30, cy + 30), fill=(20, 20, 20))
    draw.text((cx - 60, cy + 140), "bar", font=_font(54), fill=(30, 30, 30))
    if scene.get("text"):
        _text_block(draw, (1240, 120, 1560, 380), scene["text"], rng, fill=(255, 240, 80), size=36)


PAINTERS: dict[str, Painter] = {
    "label": label,
    "document": document,
    "shelf": shelf,
    "spill": spill,
    "machine": machine,
    "exit": exit_door,
    "walkway": walkway,
    "bench": bench,
    "board": board,
    "gauge": gauge,
}
