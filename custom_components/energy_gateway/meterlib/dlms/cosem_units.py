"""DLMS unit enumeration (IEC 62056-6-2, class 3 `scaler_unit`) and scaler application."""

from __future__ import annotations

import math

UNIT_NONE = 255
"""`count` / unitless: power factors, counters, identifiers."""

# The unit enum values meters use, in the spellings `units.canonical_unit` produces (W, Wh,
# varh, m³, °C, ...). Values not listed (calendar units, currency, exotic physics) come out
# as `unit <n>`, so nothing is lost silently and nothing is mistaken for another unit.
_DLMS_UNITS: dict[int, str | None] = {
    4: "d",
    5: "h",
    6: "min",
    7: "s",
    8: "°",
    9: "°C",
    11: "m",
    12: "m/s",
    13: "m³",
    14: "m³",  # corrected volume
    15: "m³/h",
    16: "m³/h",  # corrected flow
    17: "m³/d",
    18: "m³/d",
    19: "L",
    20: "kg",
    21: "N",
    22: "Nm",
    23: "Pa",
    24: "bar",
    25: "J",
    26: "J/h",
    27: "W",
    28: "VA",
    29: "var",
    30: "Wh",
    31: "VAh",
    32: "varh",
    33: "A",
    35: "V",
    36: "V/m",
    37: "F",
    38: "Ω",
    44: "Hz",
    52: "K",
    56: "%",
    57: "Ah",
    254: None,  # "other unit"
    UNIT_NONE: None,
}


def unit_name(code: int) -> str | None:
    """Canonical spelling of a DLMS unit enum value; None for unitless (255) and "other"."""
    if code in _DLMS_UNITS:
        return _DLMS_UNITS[code]
    return f"unit {code}"


def apply_scaler(raw: int | float, scaler: int, unit: str | None) -> int | float | None:
    """`raw` times 10^scaler, as the reading model wants numbers; None for NaN or infinity.

    Quantities with a unit or a decimal scaler become floats, like a P1 value with a
    decimal point; unitless integers with scaler 0 (counters, states) stay ints. Negative
    scalers divide by the exact power of ten, which Python rounds correctly, so 2337 with
    scaler -1 is 233.7 (not 233.70000000000002 as 2337 * 0.1 would give).
    """
    if isinstance(raw, bool):
        return int(raw)
    if scaler == 0 and isinstance(raw, int):
        return raw if unit is None else float(raw)
    if scaler >= 0:
        factor: int = 10**scaler
        value = float(raw * factor)
    else:
        divisor: int = 10**-scaler
        value = raw / divisor
    return value if math.isfinite(value) else None
