"""Shrink the browser journey's screenshots into the README's pictures.

Called by `scripts/screenshots` with the journey's screenshot folder and `docs/images`. Each
picture is one journey step (found by the step name that follows the screenshot's number),
scaled to the README's width and saved as a small palette PNG.
"""

from __future__ import annotations

from pathlib import Path
import sys

from PIL import Image

WIDTH = 760
"""Pixels: wide enough to read the dialogs, narrow enough for a README column."""
PICTURES = {
    "add-meter-menu": "add-meter.png",
    "p1-found": "p1-found.png",
    "mbus-wrong-key": "wrong-key.png",
    "modbus-found": "modbus-found.png",
    "integration-entries": "entries.png",
    "p1-device": "device-page.png",
    "energy-dashboard": "energy-dashboard.png",
}
"""Journey step -> picture name under docs/images."""


def shrink(source: Path, target: Path) -> None:
    with Image.open(source) as image:
        height = round(image.height * WIDTH / image.width)
        small = image.convert("RGB").resize((WIDTH, height), Image.Resampling.LANCZOS)
        small.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main(shots: Path, images: Path) -> int:
    images.mkdir(parents=True, exist_ok=True)
    missing = []
    for step, name in PICTURES.items():
        found = sorted(shots.glob(f"[0-9][0-9]-{step}.png"))
        if not found:
            missing.append(step)
            continue
        shrink(found[0], images / name)
        print(f"{images / name}: {(images / name).stat().st_size // 1024} KiB")
    if missing:
        print("No screenshot of: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
