"""Chromium from the distribution's packages: Playwright's own browser download does not work
on our machines, so the tests drive Debian's `chromium` and install it when it is missing."""

from __future__ import annotations

from pathlib import Path
import shutil
import subprocess

CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> Path:
    """The Chromium executable, installed with apt-get first if the machine has none."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:
        raise RuntimeError(f"{CHROMIUM} is missing and there is no apt-get to install it")
    # A fresh machine may have no package lists yet; an install without them finds nothing.
    subprocess.run([apt, "update", "-qq"], check=True, capture_output=True)
    result = subprocess.run(
        [apt, "install", "-y", "-qq", "chromium"], check=False, capture_output=True, text=True
    )
    if result.returncode != 0 or not CHROMIUM.exists():
        raise RuntimeError(f"apt-get install chromium failed:\n{result.stderr[-2000:]}")
    return CHROMIUM
