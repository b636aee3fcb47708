"""The ANSI C12.19 tables the MEP client reads, and their decoding into OBIS readings.

Table data is little-endian (protocol fields are big-endian). Offsets follow the MEP
Client Developer's Guide: BT01 manufacturer/model/firmware, ET03 utility serial number,
BT21 dimensions (which place the values in BT23 and BT28), BT23 energy summations, BT28
present values, BT52 UTC clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import struct
from typing import Final

from ..core.errors import DecodeError
from ..core.model import Reading

BT01: Final = 0x0001
BT21: Final = 0x0015
BT23: Final = 0x0017
BT28: Final = 0x001C
BT52: Final = 0x0034
ET03: Final = 0x0803

BT01_READ: Final = 16
"""Manufacturer (4), model (8), reserved (2), firmware version word (2)."""
ET03_SERIAL_READ: Final = 30
BT21_READ: Final = 10
BT52_READ: Final = 7
"""LTIME_DATE (6) and the status byte."""

_INT32: Final = 4
_REGISTERS_READ: Final = 4
"""Summations read from BT23: active import/export, reactive import/export."""

_RESET_COUNTER_FLAG: Final = 0x04  # BT21 byte 0 bit 2: UINT8 demand-reset counter in BT23
_TIME_REMAINING_FLAG: Final = 0x40  # BT21 byte 0 bit 6: TIME(3) before each demand in BT28
_DEMAND_TIME_SIZE: Final = 3


@dataclass(frozen=True, slots=True)
class MepIdentity:
    """Who the meter is: BT01 and ET03."""

    manufacturer: str
    model: str
    firmware: str
    """`x.yy.zz` as the guide writes it, e.g. `3.10.21`."""
    serial: str | None
    """Utility serial number (ET03); None when the utility left it empty."""


@dataclass(frozen=True, slots=True)
class Dimensions:
    """BT21: how many values the register tables hold, hence where each one sits."""

    reset_counter: bool
    time_remaining: bool
    summations: int
    tiers: int
    demands: int
    present_values: int

    @property
    def registers_offset(self) -> int:
        """Offset of the first summation in BT23 (after the optional reset counter)."""
        return 1 if self.reset_counter else 0

    @property
    def registers_count(self) -> int:
        """Bytes of BT23 the client reads: the first summations, up to four."""
        return _INT32 * min(_REGISTERS_READ, self.summations)

    @property
    def present_offset(self) -> int:
        """Offset of present value 0 in BT28 (after the present-demand records)."""
        time_size = _DEMAND_TIME_SIZE if self.time_remaining else 0
        return (time_size + _INT32) * self.demands

    @property
    def present_count(self) -> int:
        """Bytes of BT28 holding the present values."""
        return _INT32 * self.present_values


def _text(data: bytes) -> str:
    return data.split(b"\x00", 1)[0].decode("latin-1").strip()


def _require(data: bytes, size: int, table: str) -> None:
    if len(data) < size:
        raise DecodeError(f"{table} data holds {len(data)} bytes, expected {size}", raw=data)


def firmware_text(word: int) -> str:
    """BT01's firmware word as `x.yy.zz`: bits 15-12 major, 11-5 minor, 4-0 build."""
    return f"{word >> 12}.{(word >> 5) & 0x7F:02d}.{word & 0x1F:02d}"


def decode_manufacturer(data: bytes) -> tuple[str, str, str]:
    """BT01 → (manufacturer, model, firmware)."""
    _require(data, BT01_READ, "BT01")
    word = int.from_bytes(data[14:16], "big")  # version byte, then revision byte
    return _text(data[0:4]), _text(data[4:12]), firmware_text(word)


def decode_serial(data: bytes) -> str | None:
    """ET03 → utility serial number (NUL-terminated, spaces trimmed), None when empty."""
    _require(data, ET03_SERIAL_READ, "ET03")
    return _text(data[:ET03_SERIAL_READ]) or None


def decode_dimensions(data: bytes) -> Dimensions:
    """BT21 → the dimensions deciding BT23/BT28 offsets."""
    _require(data, BT21_READ, "BT21")
    flags = data[0]
    return Dimensions(
        reset_counter=bool(flags & _RESET_COUNTER_FLAG),
        time_remaining=bool(flags & _TIME_REMAINING_FLAG),
        summations=data[3],
        tiers=data[7],
        demands=data[8],
        present_values=data[9],
    )


@dataclass(frozen=True, slots=True)
class _Value:
    """Where a value sits in its table and how it becomes a reading."""

    index: int
    obis: str
    unit: str | None
    divisor: int = 1


# BT23 summations 0-3 (Wh and varh, CT/VT ratios included).
REGISTER_VALUES: Final = (
    _Value(0, "1-0:1.8.0", "Wh"),
    _Value(1, "1-0:2.8.0", "Wh"),
    _Value(2, "1-0:3.8.0", "varh"),
    _Value(3, "1-0:4.8.0", "varh"),
)

# BT28 present values: W, var, VA whole; mA, mV, mHz and power factor in thousandths.
PRESENT_VALUES: Final = (
    _Value(0, "1-0:1.7.0", "W"),
    _Value(1, "1-0:2.7.0", "W"),
    _Value(2, "1-0:3.7.0", "var"),
    _Value(3, "1-0:4.7.0", "var"),
    _Value(4, "1-0:31.7.0", "A", 1000),
    _Value(5, "1-0:51.7.0", "A", 1000),
    _Value(6, "1-0:71.7.0", "A", 1000),
    _Value(7, "1-0:32.7.0", "V", 1000),
    _Value(8, "1-0:52.7.0", "V", 1000),
    _Value(9, "1-0:72.7.0", "V", 1000),
    _Value(10, "1-0:33.7.0", None, 1000),
    _Value(11, "1-0:14.7.0", "Hz", 1000),
    _Value(12, "1-0:9.7.0", "VA"),
    _Value(13, "1-0:53.7.0", None, 1000),
    _Value(14, "1-0:73.7.0", None, 1000),
    # Per-phase active power exists from firmware 3.50 on (BT21 then lists enough values).
    _Value(26, "1-0:21.7.0", "W"),
    _Value(27, "1-0:41.7.0", "W"),
    _Value(28, "1-0:61.7.0", "W"),
    _Value(29, "1-0:22.7.0", "W"),
    _Value(30, "1-0:42.7.0", "W"),
    _Value(31, "1-0:62.7.0", "W"),
)


def _readings(data: bytes, values: tuple[_Value, ...], table: str) -> dict[str, Reading]:
    if len(data) % _INT32:
        raise DecodeError(f"{table} data of {len(data)} bytes is not whole INT32s", raw=data)
    raw = struct.unpack(f"<{len(data) // _INT32}i", data)
    return {
        value.obis: Reading(value.obis, raw[value.index] / value.divisor, value.unit)
        for value in values
        if value.index < len(raw)
    }


def decode_registers(data: bytes) -> dict[str, Reading]:
    """BT23 summations (read from the first one on) → energy readings."""
    return _readings(data, REGISTER_VALUES, "BT23")


def decode_present_values(data: bytes) -> dict[str, Reading]:
    """BT28 present values (read from value 0 on) → power, voltage, current, ... readings."""
    return _readings(data, PRESENT_VALUES, "BT28")


def decode_clock(data: bytes) -> datetime:
    """BT52 LTIME_DATE (YY MM DD hh mm ss, UTC) → aware datetime."""
    _require(data, 6, "BT52")
    year, month, day, hour, minute, second = data[:6]
    try:
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as err:
        raise DecodeError(f"BT52 holds no valid date: {err}", raw=data) from err
