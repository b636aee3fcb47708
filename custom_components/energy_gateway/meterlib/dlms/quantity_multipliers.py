"""Per-quantity multipliers: one factor for all energy registers, one for all powers, ...

Users know that "the energy is ten times too high", not which OBIS codes their meter uses
(channel 0 or 1, tariffs, reactive registers). This module expands a factor per quantity
into the per-code table `DlmsDecoder(multipliers=...)` takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Quantity(StrEnum):
    """A kind of electricity value a multiplier can correct."""

    ENERGY = "energy"
    POWER = "power"
    VOLTAGE = "voltage"
    CURRENT = "current"


# The meters push electricity registers on channel (B) 0 or 1.
_CHANNELS = (0, 1)
_TARIFFS = range(5)  # E = 0 total, 1..4 tariff registers
# C groups per quantity; per phase the same quantities repeat 20 higher (L1 21.., L2 41..,
# L3 61..). Active, reactive (incl. quadrants) and apparent energy and power.
_TOTAL_POWER_C = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16)
_PHASE_POWER_C = tuple(c + offset for offset in (20, 40, 60) for c in range(1, 11))
_ENERGY_OR_POWER_C = _TOTAL_POWER_C + _PHASE_POWER_C
_VOLTAGE_C = (12, 32, 52, 72)
_CURRENT_C = (11, 31, 51, 71, 91)
_INSTANTANEOUS = 7
_CUMULATIVE = 8


def _codes(c_groups: tuple[int, ...], d: int, tariffs: range | tuple[int, ...]) -> tuple[str, ...]:
    return tuple(f"1-{b}:{c}.{d}.{e}" for b in _CHANNELS for c in c_groups for e in tariffs)


QUANTITY_CODES: Mapping[Quantity, tuple[str, ...]] = {
    Quantity.ENERGY: _codes(_ENERGY_OR_POWER_C, _CUMULATIVE, _TARIFFS),
    Quantity.POWER: _codes(_ENERGY_OR_POWER_C, _INSTANTANEOUS, (0,)),
    Quantity.VOLTAGE: _codes(_VOLTAGE_C, _INSTANTANEOUS, (0,)),
    Quantity.CURRENT: _codes(_CURRENT_C, _INSTANTANEOUS, (0,)),
}
"""The OBIS codes each quantity's multiplier applies to: meter readings (D = 8, total and
tariffs) for energy, instantaneous values (D = 7) for the others."""


def code_multipliers(factors: Mapping[Quantity, float]) -> dict[str, float]:
    """The per-code table for `DlmsDecoder(multipliers=...)`; a factor of 1 adds nothing, so
    a meter without corrections costs nothing per message."""
    return {
        code: factor
        for quantity, factor in factors.items()
        if factor != 1
        for code in QUANTITY_CODES[quantity]
    }
