"""OBIS codes as the library writes them: reduced `A-B:C.D.E` strings.

One place that reads a code's groups, so no caller slices strings by hand.
"""

from __future__ import annotations

from functools import lru_cache
import re
from typing import NamedTuple

_CODE = re.compile(r"(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})")


class Obis(NamedTuple):
    """The five value groups of a reduced OBIS code."""

    a: int
    """Medium: 0 abstract, 1 electricity, 7 gas, ..."""
    b: int
    """Channel: for A = 0 the M-Bus sub-meter (0 is the meter itself)."""
    c: int
    d: int
    e: int

    def __str__(self) -> str:
        return f"{self.a}-{self.b}:{self.c}.{self.d}.{self.e}"


@lru_cache(maxsize=2048)
def parse_obis(code: str) -> Obis | None:
    """The groups of `code`, or None for a key that is no OBIS code (a computed value)."""
    match = _CODE.fullmatch(code)
    if match is None:
        return None
    a, b, c, d, e = (int(group) for group in match.groups())
    return Obis(a, b, c, d, e)


def mbus_channel(code: str) -> int:
    """The M-Bus sub-meter a code belongs to (abstract codes with B = 1..n); 0 otherwise."""
    obis = parse_obis(code)
    if obis is None or obis.a != 0:
        return 0
    return obis.b


def sub_meter_code(channel: int, groups: str) -> str:
    """The code of an M-Bus sub-meter's value: channel 2, `24.2.1` -> `0-2:24.2.1`."""
    return f"0-{channel}:{groups}"
