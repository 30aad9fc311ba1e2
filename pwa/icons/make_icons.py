"""Draw the app's PNG icons (the same tick on blue as icon.svg) with Pillow.

Run: .venv/bin/python pwa/icons/make_icons.py  (the PNGs are committed; rerun after a change)
"""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
BLUE = (11, 79, 138, 255)
WHITE = (255, 255, 255, 255)


def icon(size: int, maskable: bool = False) -> Image.Image:
    scale = 4  # draw large, then downsample for smooth edges
    s = size * scale
    img = Image.new("RGBA", (s, s), BLUE if maskable else (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if not maskable:
        draw.rounded_rectangle([0, 0, s - 1, s - 1], radius=s * 12 // 64, fill=BLUE)
    # The tick of icon.svg (viewBox 64): 18,34 -> 27,43 -> 46,22. Maskable icons keep it
    # inside the 80 % safe zone.
    k = 0.72 if maskable else 1.0
    def point(x, y):
        return ((32 + (x - 32) * k) * s / 64, (32 + (y - 32) * k) * s / 64)
    width = round(7 * k * s / 64)
    pts = [point(18, 34), point(27, 43), point(46, 22)]
    draw.line(pts, fill=WHITE, width=width, joint="curve")
    for x, y in (pts[0], pts[-1]):
        r = width / 2
        draw.ellipse([x - r, y - r, x + r, y + r], fill=WHITE)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    icon(192).save(HERE / "icon-192.png", optimize=True)
    icon(512).save(HERE / "icon-512.png", optimize=True)
    icon(512, maskable=True).save(HERE / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
