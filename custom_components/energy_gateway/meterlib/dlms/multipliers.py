"""Per-code multipliers: the user's correction for a meter whose values are off by a factor.

Meters send registers without scaler-unit, in other precisions than their siblings, or
change precision with a firmware update (volts times 10, amperes times 100, energy times
10). A multiplier keyed by the reported OBIS code fixes one quantity without touching the
others.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from types import MappingProxyType

from ..core.model import Reading
from ..core.obis import parse_obis

_SIGNIFICANT = 15  # digits kept: 2301 * 0.1 is 230.1, not 230.10000000000002


def check_multipliers(multipliers: Mapping[str, float]) -> Mapping[str, float]:
    """A read-only copy of `multipliers`; ValueError for a bad code or factor."""
    checked: dict[str, float] = {}
    for code, factor in multipliers.items():
        if not isinstance(code, str) or parse_obis(code) is None:
            raise ValueError(f"multiplier code {code!r} is not an OBIS code A-B:C.D.E")
        if (
            isinstance(factor, bool)
            or not isinstance(factor, (int, float))
            or not math.isfinite(factor)
            or factor == 0
        ):
            raise ValueError(f"multiplier for {code} must be a finite non-zero number")
        checked[code] = float(factor)
    return MappingProxyType(checked)


def apply_multipliers(readings: dict[str, Reading], multipliers: Mapping[str, float]) -> None:
    """Multiply the numbers of the codes in `multipliers`, in place; other values stay."""
    # Walk the message, not the table: a per-quantity table names hundreds of codes, a
    # message a few dozen.
    for code, reading in readings.items():
        factor = multipliers.get(code)
        if factor is None:
            continue
        value = reading.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        product = float(f"{value * factor:.{_SIGNIFICANT}g}")
        readings[code] = reading._replace(value=product if math.isfinite(product) else None)
