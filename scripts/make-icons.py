#!/usr/bin/env python3
"""Draws Pixgrab's icon (a 3x3 grid of coloured tiles, the last one a download arrow) as SVG
and as PNGs in the hicolor sizes, into assets/icons/hicolor/. The drawing is defined once,
on a 256-unit grid, here; rerun after changing it:  python3 scripts/make-icons.py
(needs Pillow)."""
import os
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "assets", "icons", "hicolor")
BACK = (32, 38, 52)
TILES = [(235, 110, 90), (240, 190, 80), (110, 190, 120),
         (90, 150, 230), (170, 120, 220), (80, 200, 200),
         (235, 110, 90), (240, 190, 80), (250, 250, 250)]
# Background: a rounded square; tiles 52 units with gaps of 10, from 40.
BG, BG_R = (8, 8, 248, 248), 40
TILE, GAP, START, TILE_R = 52, 10, 40, 9
# The arrow on the last tile: a shaft and a head.
SHAFT = (184, 170, 196, 190)
HEAD = [(173, 189), (207, 189), (190, 209)]


def tile_box(i):
    x = START + (i % 3) * (TILE + GAP)
    y = START + (i // 3) * (TILE + GAP)
    return (x, y, x + TILE, y + TILE)


def svg():
    rgb = lambda c: "#%02x%02x%02x" % c
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">',
             f'<rect x="{BG[0]}" y="{BG[1]}" width="{BG[2] - BG[0]}" height="{BG[3] - BG[1]}" rx="{BG_R}" fill="{rgb(BACK)}"/>']
    for i, c in enumerate(TILES):
        x0, y0, x1, y1 = tile_box(i)
        parts.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="{TILE_R}" fill="{rgb(c)}"/>')
    x0, y0, x1, y1 = SHAFT
    parts.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="{rgb(BACK)}"/>')
    parts.append('<polygon points="%s" fill="%s"/>' % (" ".join(f"{x},{y}" for x, y in HEAD), rgb(BACK)))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png(size):
    k = 8 * size / 256  # drawn 8x larger, then shrunk: smooth edges
    big = Image.new("RGBA", (round(256 * k), round(256 * k)), (0, 0, 0, 0))
    d = ImageDraw.Draw(big)
    s = lambda box: tuple(round(v * k) for v in box)
    d.rounded_rectangle(s(BG), radius=round(BG_R * k), fill=BACK)
    for i, c in enumerate(TILES):
        d.rounded_rectangle(s(tile_box(i)), radius=round(TILE_R * k), fill=c)
    d.rectangle(s(SHAFT), fill=BACK)
    d.polygon([(round(x * k), round(y * k)) for x, y in HEAD], fill=BACK)
    return big.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    os.makedirs(os.path.join(OUT, "scalable", "apps"), exist_ok=True)
    with open(os.path.join(OUT, "scalable", "apps", "pixgrab.svg"), "w") as f:
        f.write(svg())
    for size in (48, 64, 128, 256, 512):
        d = os.path.join(OUT, f"{size}x{size}", "apps")
        os.makedirs(d, exist_ok=True)
        png(size).save(os.path.join(d, "pixgrab.png"), optimize=True)
    print("wrote", OUT)
