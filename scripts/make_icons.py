"""Draw the portal's favicon and app icons into static/icons/ (run once; the PNGs are committed).

    /work/main/.venv/bin/python scripts/make_icons.py

A white 3×3 grid (网格) on the portal's red, drawn with Pillow at each size (no
scaling blur); the maskable icon keeps the grid inside the 80 % safe zone.
"""

from pathlib import Path

from PIL import Image, ImageDraw

RED = (164, 22, 26)
WHITE = (255, 255, 255)
OUT = Path(__file__).resolve().parents[1] / "static" / "icons"


def draw(size, *, safe=0.72, rounded=True):
    scale = 4  # drawn large, then reduced: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    radius = big // 5 if rounded else 0
    pen.rounded_rectangle([0, 0, big - 1, big - 1], radius=radius, fill=RED)
    inner = big * safe
    left = (big - inner) / 2
    width = max(scale * 2, round(big * 0.06))
    for k in range(4):
        at = left + inner * k / 3
        pen.line([(left, at), (left + inner, at)], fill=WHITE, width=width)
        pen.line([(at, left), (at, left + inner)], fill=WHITE, width=width)
    # The grid's middle cell filled: "this grid", where the worker is.
    pen.rectangle([left + inner / 3, left + inner / 3, left + inner * 2 / 3, left + inner * 2 / 3], fill=WHITE)
    return image.resize((size, size), Image.LANCZOS)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for size, name in ((192, "icon-192.png"), (512, "icon-512.png")):
        draw(size).save(OUT / name, optimize=True)
    draw(512, safe=0.56, rounded=False).save(OUT / "icon-maskable-512.png", optimize=True)
    draw(180, rounded=False).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    draw(64).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
