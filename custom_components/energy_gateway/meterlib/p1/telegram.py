"""Parse one P1/DSMR telegram (`/header ... !CRC`) into a Snapshot.

One pass over the lines with a generic grammar: `A-B:C.D.E` (an F group such as `*255` is
dropped), then one or more `(...)` groups. Every well-formed line becomes a reading, known or
not; a malformed line is skipped without losing the rest. Only a few multi-value layouts need
their own code (dict dispatch on `C.D.E`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta, timezone, tzinfo
import re

from ..core.crc import crc16_arc
from ..core.errors import ChecksumError, DecodeError
from ..core.ids import decode_hex_ascii
from ..core.manufacturers import manufacturer_from_flag
from ..core.model import FLEMISH_VARIANT, Reading, ReadingValue, Snapshot
from ..core.units import canonical_unit as _canonical_unit

# (winter, summer) offsets for the S/W flag of meter timestamps. CET/CEST is the convention of
# NL, BE, LU, AT, SE and HU. Irish meters keep Irish time: GMT in winter, IST (UTC+1) in summer.
type Zones = tuple[tzinfo, tzinfo]
_CET_ZONES: Zones = (timezone(timedelta(hours=1)), timezone(timedelta(hours=2)))
_IRISH_ZONES: Zones = (UTC, timezone(timedelta(hours=1)))

_OBIS = re.compile(r"(\d{1,3}-\d{1,3}:(\d{1,3}\.\d{1,3}\.\d{1,3}))(?:[*.&]\d{1,3})?", re.ASCII)
# Caches of OBIS ids and unit spellings seen; cleared when full, so noise cannot grow them.
type _Code = tuple[str, str, bool]
_CODE_CACHE: dict[str, _Code | None] = {}
_UNIT_CACHE: dict[str, str | None] = {}
_CACHE_LIMIT = 512
# Cache-miss markers, told apart by identity (None is a cached answer).
_UNSEEN_CODE: _Code = ("", "", False)
_UNSEEN_UNIT = "unseen unit"
_MAX_CODE_LENGTH = len("255-255:255.255.255*255")  # keeps garbage out of the _code cache
_LINE_ENDS = (b"\r", b"\n")
_CRC_TEXT = re.compile(rb"[0-9A-Fa-f]{1,4}")
_DECIMAL_CHARS = "0123456789.-"

# C.D.E of identifiers and version strings: their digits are text ("09610", "50"), not numbers.
_TEXT_CODES = frozenset(
    {
        "0.0.0",
        "0.2.0",
        "0.2.8",
        "42.0.0",
        "96.5.5",
        "96.13.0",
        "96.13.1",
        "96.1.255",
        *(f"96.1.{e}" for e in range(10)),
    }
)

# Where the meter's own identity lives, best first (channel 0 only: 0-n are M-Bus devices).
_ID_CODES = ("0-0:96.1.1", "0-0:96.1.0", "0-0:42.0.0", "0-0:96.1.255", "1-0:0.0.0")
_TIMESTAMP_CODE = "0-0:1.0.0"
_VERSION_CODE = "1-3:0.2.8"
_BE_VERSION_CODE = "0-0:96.1.4"
_MONTH_HISTORY_CODE = "0-0:98.1.0"


def parse_telegram(data: bytes, *, verify_crc: bool = True) -> Snapshot:
    """Parse one telegram; raise ChecksumError on a CRC mismatch, DecodeError if not a telegram.

    Bytes before `/` and after the CRC line are ignored. A telegram without CRC (DSMR 2.2/3,
    EasyMeter Q3D) is accepted, unless it names a DSMR 4+ version (those always carry one) or
    its `!` does not stand on a line of its own. A telegram without one readable line fails.
    """
    return _parse(data, verify_crc=verify_crc, encrypted=False)


def parse_decrypted_telegram(plaintext: bytes) -> Snapshot:
    """Parse a telegram that arrived inside an encrypted frame (format `p1-encrypted`)."""
    return _parse(plaintext, verify_crc=True, encrypted=True)


def _parse(data: bytes, *, verify_crc: bool, encrypted: bool) -> Snapshot:
    start = data.find(b"/")
    if start < 0:
        raise DecodeError("no telegram header ('/') found", raw=data)
    end = data.find(b"!", start)
    if end < 0:
        raise DecodeError("telegram has no end marker ('!')", raw=data)
    has_crc = _check_crc(data, start, end, verify_crc)

    lines = data[start + 1 : end].decode("latin-1").splitlines()
    header = lines[0].strip() if lines else ""
    zones = _IRISH_ZONES if _is_iskra_ie(header) else _CET_ZONES
    readings = _parse_lines(lines[1:], zones)
    if not readings:
        # Nothing usable (e.g. `/ABC!` found in noise): not a message worth reporting as good.
        raise DecodeError("telegram holds no readable line", raw=data)
    if verify_crc and not has_crc and (_VERSION_CODE in readings or _BE_VERSION_CODE in readings):
        # DSMR 4+ and e-MUCS always send a CRC. Without one, a corrupted `)` read as `!` cut
        # the telegram short and would slip through unchecked.
        raise DecodeError("DSMR 4+ telegram without checksum: cut short", raw=data)

    stamp = readings.get(_TIMESTAMP_CODE)
    return Snapshot(
        format="p1-encrypted" if encrypted else "p1",
        meter_id=_meter_id(readings),
        timestamp=stamp.value if stamp and isinstance(stamp.value, datetime) else None,
        readings=readings,
        variant=_variant(header, readings, has_crc=has_crc, encrypted=encrypted),
        header=header or None,
        encrypted=encrypted,
        manufacturer=manufacturer_from_flag(header),
        model=header or None,
    )


def _check_crc(data: bytes, start: int, end: int, verify: bool) -> bool:
    """Check the CRC after `!` at `end`; return whether the telegram carries one."""
    line_end = data.find(b"\n", end)
    text = data[end + 1 : line_end if line_end >= 0 else len(data)].strip(b" \t\r\0")
    if not text:
        if data[end - 1 : end] != b"\n" or data[end + 1 : end + 2] not in _LINE_ENDS:
            # Without CRC the `!` stands on a line of its own. Anywhere else it is a corrupted
            # byte (`)` and `1` are one bit away from `!`) that cut the telegram short, and no
            # CRC would catch it.
            raise DecodeError("end marker inside a line: telegram cut short", raw=data)
        return False
    if not _CRC_TEXT.fullmatch(text):
        raise DecodeError(f"malformed checksum {text[:16]!r}", raw=data)
    if verify:
        expected = int(text, 16)
        actual = crc16_arc(data[start : end + 1])
        if actual != expected:
            raise ChecksumError(
                f"checksum mismatch: telegram says {expected:04X}, content gives {actual:04X}",
                raw=data,
            )
    return True


# --- lines -------------------------------------------------------------------------------------

type _Handler = Callable[[str, list[str], Zones], Reading]
type _PendingGas = tuple[str, datetime | None, str | None]


def _reduce_code(text: str) -> _Code | None:
    """Reduce an OBIS id to (`A-B:C.D.E`, `C.D.E`, holds text); None when it is not one."""
    match = _OBIS.fullmatch(text)
    if match is None:
        return None
    cde = match[2]
    return match[1], cde, cde in _TEXT_CODES


def _code(text: str) -> _Code | None:
    """`_reduce_code`, remembered: the same few dozen ids arrive every second."""
    cache = _CODE_CACHE
    code = cache.get(text, _UNSEEN_CODE)
    if code is _UNSEEN_CODE:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()  # noise could otherwise grow it without bound
        code = cache[text] = _reduce_code(text)
    return code


def _unit(text: str) -> str | None:
    """`canonical_unit`, remembered like `_code`."""
    cache = _UNIT_CACHE
    unit = cache.get(text, _UNSEEN_UNIT)
    if unit is _UNSEEN_UNIT:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        unit = cache[text] = _canonical_unit(text)
    return unit


def _parse_lines(lines: list[str], zones: Zones) -> dict[str, Reading]:
    readings: dict[str, Reading] = {}
    gas: _PendingGas | None = None  # a DSMR 2.2/3 gas header waiting for its value line
    # Locals: this loop runs for every line of every telegram.
    code_cache, unit_cache, decimal_chars = _CODE_CACHE, _UNIT_CACHE, _DECIMAL_CHARS
    for raw_line in lines:
        line = raw_line
        if not line.endswith(")"):
            line = line.rstrip()
            if not line.endswith(")"):
                gas = None
                continue
        open_at = line.find("(")
        if not 0 < open_at <= _MAX_CODE_LENGTH:
            if open_at == 0 and gas is not None:
                with suppress(ValueError):
                    reading = _legacy_gas_value(line[1:-1], gas, zones)
                    readings[reading.obis] = reading
            gas = None
            continue
        gas = None
        head = line[:open_at]
        code = code_cache.get(head, _UNSEEN_CODE)
        if code is _UNSEEN_CODE:
            code = _code(head)
        if code is None:
            continue
        obis, cde, holds_text = code
        body = line[open_at + 1 : -1]
        try:
            if "(" not in body:
                if ")" in body:
                    continue
                star = body.find("*")
                if star >= 0:
                    # The common shape, `number*unit`, inline.
                    number = body[:star]
                    if number.strip(decimal_chars):
                        continue
                    unit_text = body[star + 1 :]
                    unit = unit_cache.get(unit_text, _UNSEEN_UNIT)
                    if unit is _UNSEEN_UNIT:
                        unit = _unit(unit_text)
                    reading = Reading(obis, float(number), unit)
                elif holds_text:
                    reading = Reading(obis, body or None)
                elif cde == "1.0.0":  # the meter clock, also when sent without S/W flag
                    reading = Reading(obis, _timestamp(body, zones))
                elif body.isdecimal():  # counters and indicators, next most common
                    reading = Reading(obis, int(body))
                elif cde == "99.97.0":
                    reading = _power_failures(obis, [body], zones)
                else:
                    reading = Reading(obis, _plain(body, zones))
            else:
                groups = body.split(")(")
                if any("(" in group or ")" in group for group in groups):
                    continue
                reading = _MULTI_VALUE.get(cde, _multi_value)(obis, groups, zones)
                if cde == "24.3.0":
                    gas = _legacy_gas_header(obis, groups, zones)
        except ValueError:
            # A bad number or date in one line must not cost the rest of the telegram.
            continue
        readings[obis] = reading
    return readings


def _decimal(text: str) -> float:
    """Parse a plain decimal number strictly (float() alone also takes `nan`, `1e5`, `1_0`)."""
    # Stripping the allowed characters leaves something exactly when another one is present;
    # float() then rejects misplaced signs and points.
    if text.strip(_DECIMAL_CHARS):
        raise ValueError(f"not a decimal number: {text!r}")
    return float(text)


def _plain(text: str, zones: Zones) -> ReadingValue:
    """Classify a value without unit: empty, counter, timestamp, decimal or text."""
    if not text:
        return None
    if text.isdecimal():
        return int(text)
    if len(text) == 13 and text[12] in "SW" and text[:12].isdecimal():
        return _timestamp(text, zones)
    try:
        return _decimal(text)
    except ValueError:
        return text


def _value_and_unit(text: str, zones: Zones) -> tuple[ReadingValue, str | None]:
    if "*" in text:
        number, _, unit = text.partition("*")
        return _decimal(number), _unit(unit)
    return _plain(text, zones), None


def _timestamp(text: str, zones: Zones) -> datetime | None:
    """Parse `YYMMDDhhmmss[S|W]`; None for anything that is not a real date (placeholders)."""
    if len(text) == 13:
        flag = text[12]
        if flag == "W":
            zone = zones[0]
        elif flag == "S":
            zone = zones[1]
        else:
            return None
    elif len(text) == 12:
        zone = zones[0]  # no flag (DSMR 2.2/3): standard time
    else:
        return None
    if not text[:12].isdecimal():
        return None
    year = int(text[0:2])
    # strptime's pivot, so the empty M-Bus slot stamp `700101010000W` reads as 1970.
    year += 2000 if year < 69 else 1900
    try:
        return datetime(
            year,
            int(text[2:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            tzinfo=zone,
        )
    except ValueError:
        return None


def _looks_like_time(text: str) -> bool:
    if len(text) == 13:
        return text[12] in "SW" and text[:12].isdecimal()
    return len(text) == 12 and text.isdecimal()


def _multi_value(obis: str, groups: list[str], zones: Zones) -> Reading:
    """Generic multi-value line: `(time)(value)` pairs and first-value-plus-row otherwise."""
    if len(groups) == 2 and _looks_like_time(groups[0]):
        # Value with its capture time: M-Bus 24.2.1/24.2.3, month maximum 1.6.0, ...
        value, unit = _value_and_unit(groups[1], zones)
        return Reading(obis, value, unit, captured=_timestamp(groups[0], zones))
    if _looks_like_time(groups[0]):  # e.g. DSMR 2.2/3 gas header, E.ON billing snapshot
        value, unit = _timestamp(groups[0], zones), None
    else:
        value, unit = _value_and_unit(groups[0], zones)
    row = tuple(_value_and_unit(group, zones)[0] for group in groups[1:])
    return Reading(obis, value, unit, entries=(row,))


def _power_failures(obis: str, groups: list[str], zones: Zones) -> Reading:
    """`1-0:99.97.0(n)(0-0:96.7.19)` then n pairs (end of failure)(duration*s)."""
    entries = tuple(
        (_timestamp(groups[i], zones), _value_and_unit(groups[i + 1], zones)[0])
        for i in range(2, len(groups) - 1, 2)
    )
    return Reading(obis, len(entries), entries=entries)


def _month_history(obis: str, groups: list[str], zones: Zones) -> Reading:
    """Belgian peak history `(n)(1-0:1.6.0)(1-0:1.6.0)` + n (month)(peak time)(kW) triples.

    E.ON Hungary reuses the code for a billing snapshot (a time and 19 values): generic path.
    """
    if not (len(groups) >= 3 and groups[0].isdecimal() and ":" in groups[1]):
        return _multi_value(obis, groups, zones)
    entries = tuple(
        (
            _timestamp(groups[i], zones),
            _timestamp(groups[i + 1], zones),  # `632525252525W` (empty month) gives None
            _value_and_unit(groups[i + 2], zones)[0],
        )
        for i in range(3, len(groups) - 2, 3)
    )
    return Reading(obis, len(entries), entries=entries)


def _legacy_gas_header(obis: str, groups: list[str], zones: Zones) -> _PendingGas:
    """DSMR 2.2/3 `0-n:24.3.0(ts)(00)(60)(1)(0-n:24.2.1)(m3)`: the value is on the next line."""
    target = _code(groups[4]) if len(groups) > 4 and len(groups[4]) <= _MAX_CODE_LENGTH else None
    value_obis = target[0] if target else obis[:-6] + "24.2.1"
    unit = _unit(groups[5]) if len(groups) > 5 else None
    return value_obis, _timestamp(groups[0], zones), unit


def _legacy_gas_value(body: str, gas: _PendingGas, zones: Zones) -> Reading:
    obis, captured, unit = gas
    value, own_unit = _value_and_unit(body, zones)
    return Reading(obis, value, own_unit or unit, captured=captured)


_MULTI_VALUE: dict[str, _Handler] = {
    "99.97.0": _power_failures,
    "98.1.0": _month_history,
}


# --- identity and dialect ------------------------------------------------------------------


def _meter_id(readings: dict[str, Reading]) -> str | None:
    for code in _ID_CODES:
        reading = readings.get(code)
        if reading is not None and isinstance(reading.value, str) and reading.value:
            return decode_hex_ascii(reading.value)
    return None


def _is_iskra_ie(header: str) -> bool:
    return header[:3].upper() == "ISK" and "MIE" in header


def _variant(header: str, readings: dict[str, Reading], *, has_crc: bool, encrypted: bool) -> str:
    flag = header[:3].upper()
    if flag == "ESY":
        return "q3d"
    if flag == "FLU" or _BE_VERSION_CODE in readings:
        return FLEMISH_VARIANT
    if flag == "EST":
        return "sagemcom"
    if _is_iskra_ie(header):
        return "iskra_ie"
    history = readings.get(_MONTH_HISTORY_CODE)
    if history is not None and isinstance(history.value, datetime):
        return "eon_hu"  # its 98.1.0 is a dated billing snapshot, not a peak count
    if encrypted or flag == "LUX":
        return "smarty"
    if not has_crc:
        return "dsmr2"
    version = readings.get(_VERSION_CODE)
    text = version.value if version is not None and isinstance(version.value, str) else ""
    if text.startswith("4"):
        return "dsmr4"
    if text.startswith("5"):
        return "dsmr5"
    return "p1"
