"""Draw the Teams app icons (stdlib only): `python deploy/teams/make_icons.py`.

* color.png: 192 x 192, a white magnifying glass on NHS blue (#005EB8);
* outline.png: 32 x 32, the same glass as a white outline on a transparent background, as
  Teams requires for the outline icon.

Edges are anti-aliased by 4 x 4 supersampling. The PNGs are committed; run this again only to
change the design.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
NHS_BLUE = (0, 94, 184)
SAMPLES = 4

Shape = Callable[[float, float], bool]


def _png(width: int, height: int, rgba: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    stride = width * 4
    raw = b"".join(b"\x00" + rgba[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _segment_distance(x: float, y: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))


def magnifier(size: int, ring: float, handle: float) -> Shape:
    """A ring (lens) and a rounded bar (handle) in a `size` square, scaled from 192."""
    scale = size / 192
    centre, outer = 84 * scale, 50 * scale
    inner = outer - ring * scale
    start, end = (121 * scale, 121 * scale), (158 * scale, 158 * scale)
    half = handle * scale / 2

    def inside(x: float, y: float) -> bool:
        distance = math.hypot(x - centre, y - centre)
        return inner <= distance <= outer or _segment_distance(x, y, start, end) <= half

    return inside


def _coverage(shape: Shape, x: int, y: int) -> float:
    step = 1 / SAMPLES
    hits = sum(
        shape(x + (i + 0.5) * step, y + (j + 0.5) * step)
        for i in range(SAMPLES)
        for j in range(SAMPLES)
    )
    return hits / (SAMPLES * SAMPLES)


def color_icon(size: int = 192) -> bytes:
    shape = magnifier(size, ring=16, handle=22)
    pixels = bytearray()
    for y in range(size):
        for x in range(size):
            c = _coverage(shape, x, y)
            pixels += bytes(round(base + (255 - base) * c) for base in NHS_BLUE) + b"\xff"
    return _png(size, size, bytes(pixels))


def outline_icon(size: int = 32) -> bytes:
    shape = magnifier(size, ring=22, handle=30)
    pixels = bytearray()
    for y in range(size):
        for x in range(size):
            pixels += b"\xff\xff\xff" + bytes([round(255 * _coverage(shape, x, y))])
    return _png(size, size, bytes(pixels))


def main() -> None:
    (HERE / "color.png").write_bytes(color_icon())
    (HERE / "outline.png").write_bytes(outline_icon())


if __name__ == "__main__":
    main()
