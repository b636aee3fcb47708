"""A-XDR decoding of the COSEM data types that meters push (IEC 62056-6-2 `Data`).

Every value is a type tag followed by its encoding; multi-byte numbers are big-endian and
variable-length items (arrays, structures, strings) carry an A-XDR length. Nothing here
trusts a length: each one is checked against the bytes that remain before anything is sliced
or allocated, so a corrupt or hostile length costs nothing. Nesting is limited too.

Decoded values are `Data(tag, value)` pairs: the tag says what the meter sent (an OBIS code
and a meter number are both octet-strings; a scaler is an `integer`, a unit an `enum`),
the value is the natural Python form:

| tag | type | value |
|---|---|---|
| 00 | null-data | None |
| 01 / 02 | array / structure | tuple of `Data` |
| 03 | boolean | bool |
| 04 | bit-string | `BitString` |
| 05 06 0F 10 11 12 14 15 16 | integers and enum | int |
| 09 | octet-string | bytes |
| 0A / 0C | visible-string / utf8-string | str |
| 0D | bcd | int (two decimal digits) |
| 17 / 18 | float32 / float64 | float |
| 19 / 1A / 1B | date-time / date / time | `CosemDateTime` / `CosemDate` / `CosemTime` |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import IntEnum
from functools import lru_cache
import struct
from typing import Any, NamedTuple

from ..core.errors import DecodeError


def read_length(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int] | None:
    """Read an A-XDR length at `pos`: return (length, position after it), None if cut off.

    Short form is one byte below 0x80; long form is 0x8n followed by n big-endian bytes.
    """
    if pos >= len(data):
        return None
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    size = first & 0x7F
    if not 1 <= size <= 4:
        raise DecodeError(f"unsupported A-XDR length prefix 0x{first:02X}")
    end = pos + 1 + size
    if end > len(data):
        return None
    return int.from_bytes(data[pos + 1 : end], "big"), end


class Tag(IntEnum):
    """A-XDR type tags of the COSEM `Data` choice."""

    NULL = 0x00
    ARRAY = 0x01
    STRUCTURE = 0x02
    BOOLEAN = 0x03
    BIT_STRING = 0x04
    DOUBLE_LONG = 0x05
    DOUBLE_LONG_UNSIGNED = 0x06
    OCTET_STRING = 0x09
    VISIBLE_STRING = 0x0A
    UTF8_STRING = 0x0C
    BCD = 0x0D
    INTEGER = 0x0F
    LONG = 0x10
    UNSIGNED = 0x11
    LONG_UNSIGNED = 0x12
    LONG64 = 0x14
    LONG64_UNSIGNED = 0x15
    ENUM = 0x16
    FLOAT32 = 0x17
    FLOAT64 = 0x18
    DATE_TIME = 0x19
    DATE = 0x1A
    TIME = 0x1B


MAX_DEPTH = 16
"""Deepest nesting of arrays and structures accepted; real pushes use two or three levels."""

DATE_TIME_LENGTH = 12
_DATE_LENGTH = 5
_TIME_LENGTH = 4

DEVIATION_UNSPECIFIED = -0x8000
STATUS_DST = 0x80
_STATUS_UNSPECIFIED = 0xFF
_UNSPECIFIED = 0xFF
_YEAR_UNSPECIFIED = 0xFFFF
_MAX_DEVIATION = 14 * 60  # minutes; anything larger is a corrupt field, not a time zone

# Meters that leave the deviation unspecified (Nordic HAN lists, Kamstrup, Kaifa NO) push
# Central European wall-clock time; the clock status says whether summer time is on.
_CET = timezone(timedelta(hours=1))
_CEST = timezone(timedelta(hours=2))

_NUMBERS: dict[int, struct.Struct] = {
    Tag.DOUBLE_LONG: struct.Struct(">i"),
    Tag.DOUBLE_LONG_UNSIGNED: struct.Struct(">I"),
    Tag.INTEGER: struct.Struct(">b"),
    Tag.LONG: struct.Struct(">h"),
    Tag.UNSIGNED: struct.Struct(">B"),
    Tag.LONG_UNSIGNED: struct.Struct(">H"),
    Tag.LONG64: struct.Struct(">q"),
    Tag.LONG64_UNSIGNED: struct.Struct(">Q"),
    Tag.ENUM: struct.Struct(">B"),
    Tag.FLOAT32: struct.Struct(">f"),
    Tag.FLOAT64: struct.Struct(">d"),
}
_STRINGS = frozenset((Tag.OCTET_STRING, Tag.VISIBLE_STRING, Tag.UTF8_STRING))
_DATE_TIME = struct.Struct(">HBBBBBBBhB")
_DATE = struct.Struct(">HBBB")


class TruncatedError(DecodeError):
    """The bytes end inside a value: more input could complete it."""


@dataclass(frozen=True, slots=True)
class BitString:
    """A bit-string: `length` bits, most significant bit of `data[0]` first."""

    data: bytes
    length: int

    def __str__(self) -> str:
        bits = "".join(f"{byte:08b}" for byte in self.data)
        return bits[: self.length]


class CosemDate(NamedTuple):
    """A COSEM date; 0xFFFF / 0xFF fields are unspecified."""

    year: int
    month: int
    day: int
    weekday: int

    def to_date(self) -> date | None:
        """The calendar date, or None when a field is unspecified or out of range."""
        if self.year == _YEAR_UNSPECIFIED or self.month > 12 or self.day > 31:
            return None
        try:
            return date(self.year, self.month, self.day)
        except ValueError:
            return None


class CosemTime(NamedTuple):
    """A COSEM time of day; 0xFF fields are unspecified."""

    hour: int
    minute: int
    second: int
    hundredths: int

    def to_time(self) -> time | None:
        """The time of day (unspecified seconds read as 0), None if hour or minute is missing."""
        if self.hour > 23 or self.minute > 59:
            return None
        second = 0 if self.second == _UNSPECIFIED else self.second
        hundredths = 0 if self.hundredths == _UNSPECIFIED else self.hundredths
        if second > 59 or hundredths > 99:
            return None
        return time(self.hour, self.minute, second, hundredths * 10_000)


class CosemDateTime(NamedTuple):
    """A COSEM date-time (12 bytes): date, time, deviation from UTC and clock status."""

    date: CosemDate
    time: CosemTime
    deviation: int
    """Minutes to add to local time to get UTC (so the UTC offset is its negation);
    `DEVIATION_UNSPECIFIED` when the meter leaves it open."""
    status: int
    """Clock status bits; 0x80 = daylight saving time active, 0xFF = not specified."""

    def plausible(self) -> bool:
        """Whether the fields can be a real clock reading (used to spot a wrong key).

        Year 2000-2099 (or unspecified), month 1-12, day 1-31, hour, minute and second in
        range, each of them possibly unspecified (0xFF); month and day may also carry the
        DST markers 0xFD / 0xFE.
        """
        year = self.date.year
        if year != _YEAR_UNSPECIFIED and not 2000 <= year <= 2099:
            return False
        month, day = self.date.month, self.date.day
        if not (1 <= month <= 12 or month >= 0xFD) or not (1 <= day <= 31 or day >= 0xFD):
            return False
        hour, minute, second, _ = self.time
        return (
            (hour <= 23 or hour == _UNSPECIFIED)
            and (minute <= 59 or minute == _UNSPECIFIED)
            and (second <= 59 or second == _UNSPECIFIED)
        )

    def to_datetime(self) -> datetime | None:
        """The aware datetime, or None when the date or time is unspecified.

        A specified deviation gives the UTC offset (its negation). An unspecified one
        (0x8000) means Central European wall-clock time: UTC+2 when the clock status has
        the DST bit, UTC+1 when it has not, and, when the status itself is unspecified
        (0xFF), by the EU summer-time rule for that date.
        """
        return _aware(self)


@lru_cache(maxsize=64)
def _aware(moment: CosemDateTime) -> datetime | None:
    # Cached: one push often carries its time twice (notification header and clock value),
    # and a stream converts each moment more than once.
    day = moment.date.to_date()
    clock = moment.time.to_time()
    if day is None or clock is None:
        return None
    local = datetime.combine(day, clock)
    deviation = moment.deviation
    if deviation != DEVIATION_UNSPECIFIED and abs(deviation) <= _MAX_DEVIATION:
        return local.replace(tzinfo=timezone(timedelta(minutes=-deviation)))
    if moment.status != _STATUS_UNSPECIFIED:
        return local.replace(tzinfo=_CEST if moment.status & STATUS_DST else _CET)
    return local.replace(tzinfo=_CEST if _eu_summer_time(local) else _CET)


def _last_sunday(year: int, month: int) -> int:
    """Day of the month of the last Sunday of March or October (both have 31 days)."""
    weekday = date(year, month, 31).weekday()  # Monday 0 .. Sunday 6
    return 31 - (weekday + 1) % 7


def _eu_summer_time(local: datetime) -> bool:
    """Whether Central European wall-clock time `local` (naive) falls in summer time.

    Summer time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
    Sunday of October, which on the wall clock is 02:00 (jumping to 03:00) to 03:00 (going
    back to 02:00). The repeated hour in October is read as winter time.
    """
    year = local.year
    start = datetime(year, 3, _last_sunday(year, 3), 2)
    end = datetime(year, 10, _last_sunday(year, 10), 2)
    return start <= local < end


class Data(NamedTuple):
    """One decoded A-XDR value: its type tag and its Python form."""

    tag: int
    value: AxdrValue


type AxdrValue = (
    bool
    | int
    | float
    | bytes
    | str
    | BitString
    | CosemDateTime
    | CosemDate
    | CosemTime
    | tuple[Data, ...]
    | None
)


def parse_date_time(raw: bytes | bytearray | memoryview) -> CosemDateTime:
    """Read a 12-byte COSEM date-time (from a date-time value or a 12-byte octet-string)."""
    if len(raw) != DATE_TIME_LENGTH:
        raise DecodeError(f"a date-time has {DATE_TIME_LENGTH} bytes, got {len(raw)}")
    year, month, day, weekday, hour, minute, second, hundredths, deviation, status = (
        _DATE_TIME.unpack(raw)
    )
    return CosemDateTime(
        CosemDate(year, month, day, weekday),
        CosemTime(hour, minute, second, hundredths),
        deviation,
        status,
    )


def decode(data: bytes, pos: int = 0, *, max_depth: int = MAX_DEPTH) -> tuple[Data, int]:
    """Decode one value starting at `pos`; return it and the position after it.

    Raises TruncatedError when the bytes end inside the value, DecodeError when they
    cannot be a value (unknown tag, bad length prefix, nesting deeper than `max_depth`).
    """
    return _decode(data, pos, max_depth)


def _length(data: bytes, pos: int) -> tuple[int, int]:
    found = read_length(data, pos)
    if found is None:
        raise TruncatedError("A-XDR length is cut off")
    return found


# (size, unpack_from) per fixed-size number tag, for the inner loop.
_FIXED: dict[int, tuple[int, Callable[[bytes, int], tuple[Any, ...]]]] = {
    tag: (number.size, number.unpack_from) for tag, number in _NUMBERS.items()
}
_new_tuple = tuple.__new__


def _decode(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    size = len(data)
    if pos >= size:
        raise TruncatedError("A-XDR value is cut off before its tag")
    tag = data[pos]
    if tag == Tag.STRUCTURE or tag == Tag.ARRAY:  # noqa: PLR1714 - ints, not a set lookup
        return _container(data, pos + 1, tag, depth, size)
    return _scalar(data, pos + 1, tag, size)


def _container(data: bytes, pos: int, tag: int, depth: int, size: int) -> tuple[Data, int]:
    """An array or structure whose tag ended at `pos`; its elements decoded in one loop.

    Numbers and octet-strings are decoded inline; only nested containers recurse.
    """
    if depth <= 0:
        raise DecodeError("A-XDR data nested too deeply")
    if pos < size and data[pos] < 0x80:
        count = data[pos]
        pos += 1
    else:
        count, pos = _length(data, pos)
    # Each element takes at least one byte: a count beyond the remaining bytes is
    # either cut off or a lie, and must not size anything.
    if count > size - pos:
        raise TruncatedError(f"A-XDR {_name(tag)} of {count} elements exceeds the input")
    items: list[Data] = []
    append = items.append
    fixed_get = _FIXED.get
    new = _new_tuple
    for _ in range(count):
        if pos >= size:
            raise TruncatedError("A-XDR value is cut off before its tag")
        item_tag = data[pos]
        pos += 1
        fixed = fixed_get(item_tag)
        if fixed is not None:
            end = pos + fixed[0]
            if end > size:
                raise TruncatedError(f"A-XDR value of type 0x{item_tag:02X} is cut off")
            append(new(Data, (item_tag, fixed[1](data, pos)[0])))
            pos = end
        elif item_tag == Tag.OCTET_STRING and pos < size and data[pos] < 0x80:
            end = pos + 1 + data[pos]
            if end > size:
                raise TruncatedError(f"A-XDR octet-string of {data[pos]} bytes exceeds the input")
            append(new(Data, (item_tag, data[pos + 1 : end])))
            pos = end
        elif item_tag == Tag.STRUCTURE or item_tag == Tag.ARRAY:  # noqa: PLR1714
            item, pos = _container(data, pos, item_tag, depth - 1, size)
            append(item)
        else:
            item, pos = _scalar(data, pos, item_tag, size)
            append(item)
    return new(Data, (tag, tuple(items))), pos


def _scalar(data: bytes, pos: int, tag: int, size: int) -> tuple[Data, int]:
    """Any value but a container, its tag ending at `pos`."""
    number = _NUMBERS.get(tag)
    if number is not None:
        end = pos + number.size
        if end > size:
            raise TruncatedError(f"A-XDR value of type 0x{tag:02X} is cut off")
        return Data(tag, number.unpack_from(data, pos)[0]), end
    if tag in _STRINGS:
        length, pos = _length(data, pos)
        end = pos + length
        if end > size:
            raise TruncatedError(f"A-XDR {_name(tag)} of {length} bytes exceeds the input")
        raw = data[pos:end]
        if tag == Tag.OCTET_STRING:
            return Data(tag, raw), end
        if tag == Tag.VISIBLE_STRING:
            return Data(tag, raw.decode("latin-1")), end
        return Data(tag, raw.decode("utf-8", errors="replace")), end
    return _decode_other(data, pos, tag)


def _decode_other(data: bytes, pos: int, tag: int) -> tuple[Data, int]:
    size = len(data)
    if tag == Tag.NULL:
        return Data(tag, None), pos
    if tag in (Tag.BOOLEAN, Tag.BCD):
        if pos >= size:
            raise TruncatedError(f"A-XDR {_name(tag)} is cut off")
        byte = data[pos]
        if tag == Tag.BOOLEAN:
            return Data(tag, byte != 0), pos + 1
        high, low = byte >> 4, byte & 0x0F
        if high > 9 or low > 9:
            raise DecodeError(f"A-XDR bcd byte 0x{byte:02X} is not two decimal digits")
        return Data(tag, high * 10 + low), pos + 1
    if tag == Tag.BIT_STRING:
        bits, pos = _length(data, pos)
        end = pos + (bits + 7) // 8
        if end > size:
            raise TruncatedError(f"A-XDR bit-string of {bits} bits exceeds the input")
        return Data(tag, BitString(data[pos:end], bits)), end
    if tag == Tag.DATE_TIME:
        end = pos + DATE_TIME_LENGTH
        if end > size:
            raise TruncatedError("A-XDR date-time is cut off")
        return Data(tag, parse_date_time(data[pos:end])), end
    if tag == Tag.DATE:
        end = pos + _DATE_LENGTH
        if end > size:
            raise TruncatedError("A-XDR date is cut off")
        return Data(tag, CosemDate(*_DATE.unpack_from(data, pos))), end
    if tag == Tag.TIME:
        end = pos + _TIME_LENGTH
        if end > size:
            raise TruncatedError("A-XDR time is cut off")
        return Data(tag, CosemTime(*data[pos:end])), end
    raise DecodeError(f"unsupported A-XDR type tag 0x{tag:02X}")


def _name(tag: int) -> str:
    return Tag(tag).name.lower().replace("_", "-")
