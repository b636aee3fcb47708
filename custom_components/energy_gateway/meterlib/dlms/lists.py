"""Push lists that do not describe themselves fully: positional lists and unscaled pairs.

Most meters send each value with its OBIS code and a scaler-unit. Four kinds of list leave
something out, and these tables fill it in:

* Positional lists without OBIS codes: Kaifa's Norwegian HAN lists (list identifier
  `KFM_001`, after the NEK HAN list definitions) and its single-value list 1, told apart by
  their length; Netz Burgenland's Landis+Gyr E450 lists, told apart by their shape (the
  count and types of their values). A value must have the type its field expects.
* Lists that carry their own push-object list (Landis+Gyr E450/E570 in Swiss
  configurations): the codes are in the frame, but registers come without scaler-unit, so
  their scale comes from `PUSH_LIST_SCALES`.
* (OBIS, value) pairs without scaler-unit: Kamstrup (`Kamstrup_V0001`, Norway and Denmark)
  sends raw integers in fixed units (currents and power factors in hundredths, energy in
  10 Wh steps); Landis+Gyr's CII push sends Wh, W, varh and var unscaled. Units follow from
  the OBIS code (`pair_scale`), scalers from a per-list override.
* Flat Netz NÖ structures put the clock first and the meter number last, both without OBIS
  code; `notification.py` maps those by their position and shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class Kind(StrEnum):
    """How a positional value is read."""

    NUMBER = "number"
    TEXT = "text"
    DATETIME = "datetime"
    UNKNOWN = "unknown"
    """A number no source explains: checked for its type, never published."""


@dataclass(frozen=True, slots=True)
class Field:
    """One position of a positional list."""

    obis: str
    scaler: int = 0
    unit: str | None = None
    kind: Kind = Kind.NUMBER


LIST_ID = "1-1:0.2.129"
"""OBIS code of the list version identifier (NEK HAN: `AIDON_V0001`, `KFM_001`, ...)."""
CLOCK = "0-0:1.0.0"
METER_ID = "0-0:96.1.0"
METER_TYPE = "0-0:96.1.7"

_KAIFA_IDS = (
    Field(LIST_ID, kind=Kind.TEXT),
    Field(METER_ID, kind=Kind.TEXT),
    Field(METER_TYPE, kind=Kind.TEXT),
)
_KAIFA_POWERS = (
    Field("1-0:1.7.0", 0, "W"),
    Field("1-0:2.7.0", 0, "W"),
    Field("1-0:3.7.0", 0, "var"),
    Field("1-0:4.7.0", 0, "var"),
)
# Kaifa sends currents in mA and voltages in tenths of a volt.
_KAIFA_L1 = (Field("1-0:31.7.0", -3, "A"), Field("1-0:32.7.0", -1, "V"))
_KAIFA_THREE_PHASE = (
    Field("1-0:31.7.0", -3, "A"),
    Field("1-0:51.7.0", -3, "A"),
    Field("1-0:71.7.0", -3, "A"),
    Field("1-0:32.7.0", -1, "V"),
    Field("1-0:52.7.0", -1, "V"),
    Field("1-0:72.7.0", -1, "V"),
)
_KAIFA_HOURLY = (
    Field(CLOCK, kind=Kind.DATETIME),
    Field("1-0:1.8.0", 0, "Wh"),
    Field("1-0:2.8.0", 0, "Wh"),
    Field("1-0:3.8.0", 0, "varh"),
    Field("1-0:4.8.0", 0, "varh"),
)
_KAIFA_LISTS: dict[int, tuple[Field, ...]] = {
    9: _KAIFA_IDS + _KAIFA_POWERS + _KAIFA_L1,  # list 2, one phase
    13: _KAIFA_IDS + _KAIFA_POWERS + _KAIFA_THREE_PHASE,  # list 2, three phases
    14: _KAIFA_IDS + _KAIFA_POWERS + _KAIFA_L1 + _KAIFA_HOURLY,  # list 3, one phase
    18: _KAIFA_IDS + _KAIFA_POWERS + _KAIFA_THREE_PHASE + _KAIFA_HOURLY,  # list 3
}
_KAIFA_LIST_1 = (Field("1-0:1.7.0", 0, "W"),)
KAIFA_LIST_1 = "kaifa-list-1"
"""Variant name of Kaifa's list 1, one double-long-unsigned without list identifier."""
KAIFA = "Kaifa"


def positional_fields(list_id: str, count: int) -> tuple[Field, ...] | None:
    """The fields of a positional list named `list_id` with `count` values, None when it
    is not known."""
    if list_id.startswith("KFM_"):
        return _KAIFA_LISTS.get(count)
    return None


LANDIS_GYR = "Landis+Gyr"
_U16, _U32, _TEXT = "long-unsigned", "double-long-unsigned", "text"
# Netz Burgenland's E450 (security 0x30): voltages in whole volts, currents in hundredths of
# an ampere, powers in W and energy in Wh, then the meter number; the 14-value form has three
# more long-unsigned values before the meter number that no public source explains, so they
# are checked for their type and left out.
_BURGENLAND = (
    Field("1-0:32.7.0", 0, "V"),
    Field("1-0:52.7.0", 0, "V"),
    Field("1-0:72.7.0", 0, "V"),
    Field("1-0:31.7.0", -2, "A"),
    Field("1-0:51.7.0", -2, "A"),
    Field("1-0:71.7.0", -2, "A"),
    Field("1-0:1.7.0", 0, "W"),
    Field("1-0:2.7.0", 0, "W"),
    Field("1-0:1.8.0", 0, "Wh"),
    Field("1-0:2.8.0", 0, "Wh"),
)
_BURGENLAND_VALUES = (_U16,) * 6 + (_U32,) * 4
_UNEXPLAINED = Field("", kind=Kind.UNKNOWN)
_METER_NUMBER = Field(METER_ID, kind=Kind.TEXT)
NETZ_BURGENLAND = "netz-burgenland"
NETZ_BURGENLAND_14 = "netz-burgenland-14"


class ShapedList(NamedTuple):
    """A positional list without list identifier, known by the types of its values."""

    name: str
    manufacturer: str
    fields: tuple[Field, ...]


_SHAPED_LISTS: dict[tuple[str, ...], ShapedList] = {
    (_U32,): ShapedList(KAIFA_LIST_1, KAIFA, _KAIFA_LIST_1),
    (*_BURGENLAND_VALUES, _TEXT): ShapedList(
        NETZ_BURGENLAND, LANDIS_GYR, (*_BURGENLAND, _METER_NUMBER)
    ),
    (*_BURGENLAND_VALUES, _U16, _U16, _U16, _TEXT): ShapedList(
        NETZ_BURGENLAND_14,
        LANDIS_GYR,
        (*_BURGENLAND, _UNEXPLAINED, _UNEXPLAINED, _UNEXPLAINED, _METER_NUMBER),
    ),
}


def shaped_list(types: tuple[str, ...]) -> ShapedList | None:
    """The positional list whose values have these types (`long-unsigned`,
    `double-long-unsigned`, `text` for any string), None when no known list has them."""
    return _SHAPED_LISTS.get(types)


type Scale = tuple[int, str | None]
"""Scaler (power of ten) and canonical unit."""

PUSH_LIST_SCALES: Mapping[str, Scale] = MappingProxyType(
    {
        **{f"1-0:{c}.8.{e}": (0, "Wh") for c in (1, 2) for e in range(5)},
        **{f"1-0:{c}.8.{e}": (0, "varh") for c in (3, 4) for e in range(5)},
        **{f"1-0:{c}.7.0": (0, "W") for c in (1, 2, 21, 22, 41, 42, 61, 62)},
        **{f"1-0:{c}.7.0": (0, "var") for c in (3, 4)},
        **{f"1-0:{c}.7.0": (0, "V") for c in (32, 52, 72)},
        **{f"1-0:{c}.7.0": (-2, "A") for c in (31, 51, 71)},
    }
)
"""Scale of the registers of Landis+Gyr lists that carry their push-object list, whose
registers come without scaler-unit. Energy, power and their reactive kin are unscaled Wh, W,
varh and var, as in the same meters' CII push (`hdlc_landis_gyr_e450`); voltages whole volts
and currents hundredths of an ampere, as the E450 sends them in Netz Burgenland's list.
Keyed by the code with B = 0: the meters number registers on channel 0 or 1. A register
missing here is left out; `DlmsDecoder(multipliers=...)` corrects a meter that differs."""


def push_list_scale(a: int, c: int, d: int, e: int) -> Scale | None:
    """Default scale of an unscaled register named in a push-object list, None if unknown."""
    if a != 1:
        return None
    return PUSH_LIST_SCALES.get(f"1-0:{c}.{d}.{e}")


# Units of unscaled electricity values, by the quantity (C group folded onto L1..L3 as in
# `catalogue.py`) for instantaneous/demand values (D = 4..7) and cumulative ones (D = 8, 9).
_POWER_UNITS: dict[int, str | None] = {
    1: "W",
    2: "W",
    3: "var",
    4: "var",
    5: "var",
    6: "var",
    7: "var",
    8: "var",
    9: "VA",
    10: "VA",
    11: "A",
    12: "V",
    13: None,  # power factor
    14: "Hz",
    15: "W",
    16: "W",
}
_ENERGY_UNITS: dict[int, str | None] = {
    1: "Wh",
    2: "Wh",
    3: "varh",
    4: "varh",
    5: "varh",
    6: "varh",
    7: "varh",
    8: "varh",
    9: "VAh",
    10: "VAh",
    15: "Wh",
    16: "Wh",
}
_NEUTRAL = {91: "A", 92: "V"}
_POWER_D = frozenset((4, 5, 6, 7))
_ENERGY_D = frozenset((8, 9))
_CURRENT, _POWER_FACTOR = 11, 13
_PHASES = 80  # C groups 1..80: total and L1..L3 in steps of 20


def _quantity(c: int) -> int:
    return (c - 1) % 20 + 1


def pair_scale(list_id: str | None, a: int, c: int, d: int) -> tuple[int, str | None] | None:
    """Scaler and unit of an unscaled value with OBIS groups A, C, D; None when unknown.

    Only electricity values (A = 1) are known; the scaler is 0 unless the list says
    otherwise (Kamstrup).
    """
    if a != 1:
        return None
    unit: str | None
    if d in _POWER_D:
        if c in _NEUTRAL:
            unit = _NEUTRAL[c]
        elif 1 <= c <= _PHASES and _quantity(c) in _POWER_UNITS:
            unit = _POWER_UNITS[_quantity(c)]
        else:
            return None
    elif d in _ENERGY_D and 1 <= c <= _PHASES and _quantity(c) in _ENERGY_UNITS:
        unit = _ENERGY_UNITS[_quantity(c)]
    else:
        return None
    return _kamstrup_scaler(c, d) if _is_kamstrup(list_id) else 0, unit


def _is_kamstrup(list_id: str | None) -> bool:
    return list_id is not None and list_id.startswith("Kamstrup")


def _kamstrup_scaler(c: int, d: int) -> int:
    """Kamstrup: currents and power factors in hundredths, energy registers in 10 Wh.

    No Kamstrup document in hand says so; two independent HAN decoders agree on these units
    (amsreader-firmware multiplies the counters by 10 Wh and divides currents and power
    factors by 100, hass-AMS divides counters and currents by 100 to get kWh and A).
    """
    if d in _ENERGY_D:
        return 1
    if d in _POWER_D and 1 <= c <= _PHASES and _quantity(c) in (_CURRENT, _POWER_FACTOR):
        return -2
    return 0


def alias(list_id: str | None, obis: str) -> str:
    """The code a value is reported under.

    Kamstrup numbers the meter's own registers on channel B = 1, its clock too
    (0-1:1.0.0). Elsewhere in this library A = 0 codes with B ≠ 0 belong to M-Bus
    sub-meters, so the clock is reported as the meter clock 0-0:1.0.0. Electricity codes
    keep their B = 1, which the catalogue ignores.
    """
    if obis == "0-1:1.0.0" and _is_kamstrup(list_id):
        return CLOCK
    return obis


_LIST_MANUFACTURERS = (("AIDON", "Aidon"), ("Kamstrup", "Kamstrup"), ("KFM", KAIFA))


def manufacturer_from_list_id(list_id: str | None) -> str | None:
    """Manufacturer named by a list identifier (`AIDON_V0001`, `Kamstrup_V0001`, `KFM_001`)."""
    if list_id:
        for prefix, name in _LIST_MANUFACTURERS:
            if list_id.startswith(prefix):
                return name
    return None
