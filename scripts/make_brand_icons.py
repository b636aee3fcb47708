"""Draw the integration's brand icons (brand/icon.png 256 px, brand/icon@2x.png 512 px).

Standard library only, so anyone can regenerate them: every shape is a signed distance
field, and a pixel's coverage is its distance to the edge clamped to one pixel, which
anti-aliases without supersampling. The picture: a rounded square in a blue-to-teal
gradient holding a white meter dial (an open arc) with a lightning bolt in it.

    python scripts/make_brand_icons.py
"""

from __future__ import annotations

import math
from pathlib import Path
import struct
import zlib

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "energy_gateway" / "brand"

# Colours (RGB): gradient from top-left to bottom-right, white foreground.
TOP = (21, 101, 192)
BOTTOM = (0, 150, 136)
WHITE = (255, 255, 255)

# Geometry in units of the image side (0..1).
MARGIN = 0.03
CORNER = 0.2
DIAL_CENTRE = (0.5, 0.53)
DIAL_RADIUS = 0.31
DIAL_HALF_WIDTH = 0.045
DIAL_GAP = math.radians(80)  # opening at the bottom of the dial
BOLT = (
    (0.53, 0.315),
    (0.395, 0.565),
    (0.49, 0.565),
    (0.45, 0.785),
    (0.615, 0.48),
    (0.52, 0.48),
    (0.595, 0.315),
)
TICK_ANGLES = tuple(math.radians(a) for a in (-120, -60, 60, 120))  # from straight up
TICK_INNER = 0.19
TICK_OUTER = 0.225
TICK_HALF_WIDTH = 0.017


def rounded_square(x: float, y: float) -> float:
    """Signed distance to the background's rounded square (negative inside)."""
    half = 0.5 - MARGIN - CORNER
    qx = abs(x - 0.5) - half
    qy = abs(y - 0.5) - half
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - CORNER


def dial(x: float, y: float) -> float:
    """Signed distance to the open arc with round ends."""
    dx = x - DIAL_CENTRE[0]
    dy = y - DIAL_CENTRE[1]
    # Angle measured from straight down, so the gap is centred there.
    angle = math.atan2(dx, dy)
    if abs(angle) >= DIAL_GAP / 2:
        return abs(math.hypot(dx, dy) - DIAL_RADIUS) - DIAL_HALF_WIDTH
    end = math.copysign(DIAL_GAP / 2, angle)
    ex = DIAL_CENTRE[0] + DIAL_RADIUS * math.sin(end)
    ey = DIAL_CENTRE[1] + DIAL_RADIUS * math.cos(end)
    return math.hypot(x - ex, y - ey) - DIAL_HALF_WIDTH


def segment(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from a point to a line segment."""
    ax, ay = a
    bx, by = b
    vx, vy = bx - ax, by - ay
    t = ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)
    t = min(max(t, 0.0), 1.0)
    return math.hypot(px - ax - t * vx, py - ay - t * vy)


def ticks(x: float, y: float) -> float:
    """Signed distance to the dial's tick marks (short capsules inside the arc)."""
    best = math.inf
    for angle in TICK_ANGLES:
        sx, sy = math.sin(angle), -math.cos(angle)
        a = (DIAL_CENTRE[0] + sx * TICK_INNER, DIAL_CENTRE[1] + sy * TICK_INNER)
        b = (DIAL_CENTRE[0] + sx * TICK_OUTER, DIAL_CENTRE[1] + sy * TICK_OUTER)
        best = min(best, segment(x, y, a, b) - TICK_HALF_WIDTH)
    return best


def polygon(x: float, y: float, points: tuple[tuple[float, float], ...]) -> float:
    """Signed distance to a simple polygon (even-odd inside test)."""
    inside = False
    best = math.inf
    for i, a in enumerate(points):
        b = points[i - 1]
        best = min(best, segment(x, y, a, b))
        if (a[1] > y) != (b[1] > y) and x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]:
            inside = not inside
    return -best if inside else best


def coverage(distance: float, pixel: float) -> float:
    """Share of a pixel a shape covers, from the signed distance at the pixel's centre."""
    return min(max(0.5 - distance / pixel, 0.0), 1.0)


def render(size: int) -> bytes:
    """Return the RGBA rows of the icon, each prefixed by PNG filter byte 0."""
    pixel = 1.0 / size
    rows = bytearray()
    for row in range(size):
        rows.append(0)
        y = (row + 0.5) * pixel
        for col in range(size):
            x = (col + 0.5) * pixel
            back = coverage(rounded_square(x, y), pixel)
            if back == 0.0:
                rows.extend(b"\0\0\0\0")
                continue
            # Union of the white shapes: the nearest edge decides.
            fore = coverage(min(polygon(x, y, BOLT), dial(x, y), ticks(x, y)), pixel)
            mix = min(max((x + y) / 2, 0.0), 1.0)
            colour = (
                (TOP[i] + (BOTTOM[i] - TOP[i]) * mix) * (1 - fore) + WHITE[i] * fore
                for i in range(3)
            )
            rows.extend(round(channel) for channel in colour)
            rows.append(round(255 * back))
    return bytes(rows)


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(size: int) -> bytes:
    """Encode the icon at `size` px as an 8-bit RGBA PNG."""
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(render(size), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    """Write both icon sizes next to the integration."""
    BRAND.mkdir(parents=True, exist_ok=True)
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        (BRAND / name).write_bytes(png(size))
        print(f"wrote {BRAND / name} ({size}x{size})")


if __name__ == "__main__":
    main()
