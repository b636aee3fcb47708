"""data-notification APDUs (tag 0x0F) and the readings their bodies carry.

`0F | long-invoke-id-and-priority(4) | date-time | body`, where the date-time is `00`
(absent), `0C` + 12 bytes, or `09 0C` + 12 bytes (a tagged octet-string, Kaifa Norway).

The body is a structure or array, laid out in one of the ways meters use:

* structures of (OBIS octet-string(6), value[, scaler-unit]) — Aidon, Iskraemeco, the
  KSM-West Kaifa list (`obis-structures`);
* the same triples flat in one structure — Netz NÖ (`obis-triples`);
* flat (OBIS, value) pairs without scaler-unit — Kamstrup, Landis+Gyr (`obis-pairs`), scaled
  by `lists.pair_scale`;
* positional values without OBIS — Kaifa Norway, mapped by `lists.positional_fields`, and
  Netz Burgenland's E450, recognised by the types of its values (`lists.shaped_list`);
* a push-object list first, then the values it names — Landis+Gyr E450/E570 in Swiss
  configurations (`push-object-list`, see `pushlist.py`), scaled by `lists.PUSH_LIST_SCALES`.

A body in none of these layouts raises UnsupportedListError: nothing is published under a
guessed code. A push setup's logical name (0-b:25.9.e) is never taken for a value's code,
and an OBIS-keyed list must not hold numbers without code (that is a positional list in
which a value looked like an OBIS code).

In the OBIS-keyed layouts a few values come without code: a leading list identifier
(Kamstrup) or clock (Netz NÖ, Landis+Gyr), a trailing meter number (Netz NÖ). They are
reported as 1-1:0.2.129, 0-0:1.0.0 and 0-0:96.1.0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import NamedTuple

from ..core.errors import DecodeError, UnsupportedListError
from ..core.manufacturers import manufacturer_from_flag
from ..core.model import Reading, ReadingValue
from ..cosem.axdr import (
    DATE_TIME_LENGTH,
    BitString,
    CosemDate,
    CosemDateTime,
    CosemTime,
    Data,
    Tag,
    TruncatedError,
    decode,
    parse_date_time,
)
from . import lists
from .cosem_units import apply_scaler, unit_name
from .pushlist import (
    DATA_CLASS,
    REGISTER_CLASSES,
    SCALER_UNIT_ATTRIBUTE,
    VALUE_ATTRIBUTE,
    PushObject,
    describes_itself,
    is_push_setup,
    opens_with_push_list,
    push_objects,
)

NOTIFICATION_TAG = 0x0F
_INVOKE_ID = 4
OBIS_LENGTH = 6
_OBIS_A = frozenset((0, 1))  # abstract and electricity: what these meters push
_NUMBERS = frozenset(
    (
        Tag.DOUBLE_LONG,
        Tag.DOUBLE_LONG_UNSIGNED,
        Tag.INTEGER,
        Tag.LONG,
        Tag.UNSIGNED,
        Tag.LONG_UNSIGNED,
        Tag.LONG64,
        Tag.LONG64_UNSIGNED,
        Tag.ENUM,
        Tag.FLOAT32,
        Tag.FLOAT64,
        Tag.BCD,
    )
)
_TEXT = frozenset((Tag.OCTET_STRING, Tag.VISIBLE_STRING, Tag.UTF8_STRING))
_CONTAINERS = frozenset((Tag.STRUCTURE, Tag.ARRAY))

LAYOUT_STRUCTURES = "obis-structures"
LAYOUT_TRIPLES = "obis-triples"
LAYOUT_PAIRS = "obis-pairs"
LAYOUT_POSITIONAL = "positional"
LAYOUT_PUSH_LIST = "push-object-list"
LOGICAL_DEVICE_NAME = "0-0:42.0.0"


@dataclass(frozen=True, slots=True)
class Notification:
    """One data-notification."""

    invoke_id: int
    """long-invoke-id-and-priority, as sent."""
    date_time: CosemDateTime | None
    body: Data
    length: int
    """Bytes the APDU occupied."""


class Content(NamedTuple):
    """What a notification body says."""

    readings: dict[str, Reading]
    list_id: str | None
    """The list version identifier, when the list names itself."""
    layout: str
    """How the values were laid out (see the module docstring), or a positional list's name."""
    manufacturer: str | None
    """Maker named by the list identifier or the logical device name (0-0:42.0.0)."""


def parse_notification(data: bytes, pos: int = 0) -> Notification:
    """Read the data-notification starting at `pos`.

    Raises TruncatedError when the bytes end inside it, DecodeError when it is malformed.
    """
    invoke_id, date_time, body_start = notification_header(data, pos)
    body, end = decode(data, body_start)
    return Notification(invoke_id, date_time, body, end - pos)


def notification_header(data: bytes, pos: int) -> tuple[int, CosemDateTime | None, int]:
    """invoke-id, date-time and where the body starts, of the notification at `pos`."""
    if pos >= len(data):
        raise TruncatedError("data-notification is cut off")
    if data[pos] != NOTIFICATION_TAG:
        raise DecodeError(f"not a data-notification (APDU tag 0x{data[pos]:02X})")
    start = pos + 1 + _INVOKE_ID
    if start >= len(data):
        raise TruncatedError("data-notification header is cut off")
    invoke_id = int.from_bytes(data[pos + 1 : start], "big")
    form = data[start]
    if form == 0:
        date_time, body_start = None, start + 1
    elif form == DATE_TIME_LENGTH:
        date_time, body_start = _date_time(data, start + 1)
    elif form == Tag.OCTET_STRING:
        if start + 1 >= len(data):
            raise TruncatedError("data-notification date-time is cut off")
        if data[start + 1] != DATE_TIME_LENGTH:
            raise DecodeError(f"data-notification date-time of {data[start + 1]} bytes")
        date_time, body_start = _date_time(data, start + 2)
    else:
        raise DecodeError(f"data-notification date-time starts with 0x{form:02X}")
    return invoke_id, date_time, body_start


def _date_time(data: bytes, pos: int) -> tuple[CosemDateTime, int]:
    end = pos + DATE_TIME_LENGTH
    if end > len(data):
        raise TruncatedError("data-notification date-time is cut off")
    return parse_date_time(data[pos:end]), end


def parse_notifications(data: bytes) -> tuple[Notification, ...]:
    """Read the data-notifications that fill `data` back to back (usually one).

    Raises DecodeError unless the bytes are exactly a sequence of notifications.
    """
    notifications = []
    pos = 0
    while pos < len(data):
        try:
            notification = parse_notification(data, pos)
        except TruncatedError as err:
            raise DecodeError(f"{err} (the APDU ends inside it)") from None
        notifications.append(notification)
        pos += notification.length
    if not notifications:
        raise DecodeError("empty APDU")
    return tuple(notifications)


def plausible(notifications: tuple[Notification, ...]) -> bool:
    """Whether unauthenticated plaintext looks like what a meter sends (wrong-key check).

    The caller already knows the bytes parse as notifications to the last byte; on top of
    that every date-time must be a plausible clock reading and every body a structure or
    array.
    """
    return all(
        (note.date_time is None or note.date_time.plausible()) and note.body.tag in _CONTAINERS
        for note in notifications
    )


def read_body(body: Data) -> Content:
    """Turn a notification body into readings.

    Raises DecodeError when the body holds no OBIS code and is no known positional list.
    """
    items = body.value if body.tag in _CONTAINERS else (body,)
    assert isinstance(items, tuple)
    if opens_with_push_list(items):
        return _push_list(body, items)
    keyed, unkeyed, forms = _split(items)
    if not keyed:
        return _positional(body, items)
    uncoded = sum(1 for _, item in unkeyed if item.tag in _NUMBERS)
    if uncoded:
        # No known OBIS-keyed layout sends numbers without code: this is a positional list
        # in which something merely looked like an OBIS code.
        shape = describe_layout(body)
        raise UnsupportedListError(
            f"list mixing OBIS codes with {uncoded} numbers without code: {shape}", shape=shape
        )
    list_id = next(
        (
            value.value
            for _, obis, value, _ in keyed
            if obis[2:5] == b"\x00\x02\x81" and isinstance(value.value, str)
        ),
        None,
    )
    extra = unkeyed_readings(unkeyed, len(items))
    if list_id is None and lists.LIST_ID in extra:
        text = extra[lists.LIST_ID][1].value
        list_id = text if isinstance(text, str) else None
    found: list[tuple[int, Reading]] = list(extra.values())
    codes = _CODES
    numbers = _NUMBERS
    for index, obis, value, scaler_unit in keyed:
        entry = codes.get((list_id, obis))
        if entry is None:
            entry = _code_entry(list_id, obis)
        code, pair = entry
        tag, raw = value
        if tag in numbers and isinstance(raw, (int, float)):  # the usual case, inline
            if scaler_unit is not None:
                unit = unit_name(scaler_unit[1])
                found.append((index, Reading(code, apply_scaler(raw, scaler_unit[0], unit), unit)))
            elif pair is not None:
                found.append((index, Reading(code, apply_scaler(raw, *pair), pair[1])))
            else:
                found.append((index, Reading(code, apply_scaler(raw, 0, None))))
            continue
        reading = reading_of(code, obis, value, scaler_unit, list_id)
        if reading is not None:
            found.append((index, reading))
    readings: dict[str, Reading] = {}
    for _, reading in sorted(found, key=lambda pair: pair[0]):
        readings.setdefault(reading.obis, reading)
    layout = forms.most_common(1)[0][0]
    return Content(readings, list_id, layout, maker_of(list_id, readings))


def maker_of(list_id: str | None, readings: dict[str, Reading]) -> str | None:
    """Maker named by the list identifier, else by the logical device name's FLAG id."""
    maker = lists.manufacturer_from_list_id(list_id)
    if maker is None:
        device = readings.get(LOGICAL_DEVICE_NAME)
        if device is not None and isinstance(device.value, str):
            return manufacturer_from_flag(device.value)
    return maker


type _Keyed = tuple[int, bytes, Data, tuple[int, int] | None]
"""Position in the body, OBIS code, value, scaler-unit."""


def _split(items: tuple[Data, ...]) -> tuple[list[_Keyed], list[tuple[int, Data]], Counter[str]]:
    """Sort the items into OBIS-keyed values and the rest (with their positions)."""
    keyed: list[_Keyed] = []
    unkeyed: list[tuple[int, Data]] = []
    counts: dict[str, int] = {}
    count = len(items)
    index = 0
    structure, octet_string = Tag.STRUCTURE, Tag.OCTET_STRING
    while index < count:
        item = items[index]
        tag, inner = item
        if tag == structure and isinstance(inner, tuple) and 2 <= len(inner) <= 3:
            head_tag, obis = inner[0]
            if (
                head_tag == octet_string
                and isinstance(obis, bytes)
                and len(obis) == OBIS_LENGTH
                and obis[0] in _OBIS_A
                and not is_push_setup(obis)
            ):
                scaler_unit = _scaler_unit(inner[2]) if len(inner) == 3 else None
                keyed.append((index, obis, inner[1], scaler_unit))
                counts[LAYOUT_STRUCTURES] = counts.get(LAYOUT_STRUCTURES, 0) + 1
                index += 1
                continue
        if (
            tag == octet_string
            and isinstance(inner, bytes)
            and len(inner) == OBIS_LENGTH
            and inner[0] in _OBIS_A
            and not is_push_setup(inner)
            and index + 1 < count
        ):
            scaler_unit = _scaler_unit(items[index + 2]) if index + 2 < count else None
            keyed.append((index, inner, items[index + 1], scaler_unit))
            form = LAYOUT_PAIRS if scaler_unit is None else LAYOUT_TRIPLES
            counts[form] = counts.get(form, 0) + 1
            index += 2 if scaler_unit is None else 3
            continue
        unkeyed.append((index, item))
        index += 1
    forms: Counter[str] = Counter(counts)
    return keyed, unkeyed, forms


def _scaler_unit(item: Data) -> tuple[int, int] | None:
    tag, inner = item
    if tag == Tag.STRUCTURE and isinstance(inner, tuple) and len(inner) == 2:
        (scaler_tag, scaler), (unit_tag, unit) = inner
        if scaler_tag == Tag.INTEGER and unit_tag == Tag.ENUM:
            assert isinstance(scaler, int)
            assert isinstance(unit, int)
            return scaler, unit
    return None


type _CodeEntry = tuple[str, tuple[int, str | None] | None]
_CODES: dict[tuple[str | None, bytes], _CodeEntry] = {}
"""(list id, OBIS) -> reported code and the list's scaling of an unscaled number."""


def _code_entry(list_id: str | None, obis: bytes) -> _CodeEntry:
    entry = (
        lists.alias(list_id, obis_text(obis)),
        lists.pair_scale(list_id, obis[0], obis[2], obis[3]),
    )
    if len(_CODES) >= MAX_OBIS_TEXTS:
        _CODES.clear()
    _CODES[list_id, obis] = entry
    return entry


_OBIS_TEXTS: dict[bytes, str] = {}
MAX_OBIS_TEXTS = 1024


def obis_text(obis: bytes) -> str:
    text = _OBIS_TEXTS.get(obis)
    if text is None:
        text = f"{obis[0]}-{obis[1]}:{obis[2]}.{obis[3]}.{obis[4]}"
        if len(_OBIS_TEXTS) >= MAX_OBIS_TEXTS:
            _OBIS_TEXTS.clear()
        _OBIS_TEXTS[obis] = text
    return text


def reading_of(
    code: str, obis: bytes, value: Data, scaler_unit: tuple[int, int] | None, list_id: str | None
) -> Reading | None:
    raw = value.value
    if value.tag in _NUMBERS and isinstance(raw, (int, float)):
        if scaler_unit is not None:
            unit = unit_name(scaler_unit[1])
            return Reading(code, apply_scaler(raw, scaler_unit[0], unit), unit)
        scale = lists.pair_scale(list_id, obis[0], obis[2], obis[3])
        if scale is not None:
            return Reading(code, apply_scaler(raw, *scale), scale[1])
        return Reading(code, apply_scaler(raw, 0, None))
    if value.tag == Tag.OCTET_STRING and isinstance(raw, bytes):
        clock = obis[0] == 0 and obis[2:5] == b"\x01\x00\x00"
        if clock or (len(raw) == DATE_TIME_LENGTH and not printable(raw)):
            moment = octet_date_time(raw)
            if moment is not None or clock:
                return Reading(code, moment)
    converted = _plain(value)
    if converted is _SKIP:
        return None
    assert not isinstance(converted, _Skip)
    return Reading(code, converted)


class _Skip:
    """Marks a value the reading model cannot hold (a nested structure or array)."""


_SKIP = _Skip()


def _plain(value: Data) -> ReadingValue | _Skip:
    """A value as the reading model holds it, without scaling."""
    raw = value.value
    if isinstance(raw, bytes):
        return _text(raw)
    if isinstance(raw, str):
        return raw.rstrip("\x00") or None
    if isinstance(raw, (int, float)):
        return apply_scaler(raw, 0, None)  # booleans as 0/1, NaN and infinities as None
    if raw is None:
        return raw
    if isinstance(raw, CosemDateTime):
        return raw.to_datetime()
    if isinstance(raw, CosemDate):
        day = raw.to_date()
        return None if day is None else day.isoformat()
    if isinstance(raw, CosemTime):
        clock = raw.to_time()
        return None if clock is None else clock.isoformat()
    if isinstance(raw, BitString):
        return str(raw)
    return _SKIP


_PRINTABLE = bytes(range(0x20, 0x7F))


def printable(raw: bytes) -> bool:
    return not raw.translate(None, _PRINTABLE)


def _text(raw: bytes) -> str | None:
    """An octet-string as text: the characters when printable, else upper-case hex."""
    if not raw:
        return None
    return raw.decode("ascii") if printable(raw) else raw.hex().upper()


def octet_date_time(raw: bytes) -> datetime | None:
    if len(raw) != DATE_TIME_LENGTH:
        return None
    return parse_date_time(raw).to_datetime()


def unkeyed_readings(unkeyed: list[tuple[int, Data]], count: int) -> dict[str, tuple[int, Reading]]:
    """Readings (with their positions) for the values of an OBIS-keyed list sent without code.

    A leading date-time is the clock, leading text the list identifier, trailing text the
    meter number (Netz NÖ); anything else without a code (numbers, binary strings) cannot be
    named and is left out.
    """
    readings: dict[str, tuple[int, Reading]] = {}
    for index, item in unkeyed:
        raw = item.value
        if item.tag not in _TEXT:
            continue
        if isinstance(raw, bytes) and len(raw) == DATE_TIME_LENGTH and not printable(raw):
            moment = octet_date_time(raw)
            if moment is not None and index == 0:
                readings[lists.CLOCK] = index, Reading(lists.CLOCK, moment)
            continue
        if isinstance(raw, bytes) and not printable(raw):
            continue  # binary without a code: nothing says what it is
        text = _plain(item)
        if not isinstance(text, str):
            continue
        if index == 0:
            readings[lists.LIST_ID] = index, Reading(lists.LIST_ID, text)
        elif index == count - 1:
            readings[lists.METER_ID] = index, Reading(lists.METER_ID, text)
    return readings


def _positional(body: Data, items: tuple[Data, ...]) -> Content:
    """A list without OBIS codes: one of the known positional lists, or unsupported."""
    list_id = _plain(items[0]) if items and items[0].tag in _TEXT else None
    if not isinstance(list_id, str):
        list_id = None
    layout = LAYOUT_POSITIONAL
    maker: str | None
    fields: tuple[lists.Field, ...] | None
    if list_id is None:
        shaped = lists.shaped_list(tuple(_kind_of(item) for item in items))
        layout, maker, fields = shaped or (layout, None, None)
    else:
        maker = lists.manufacturer_from_list_id(list_id)
        fields = lists.positional_fields(list_id, len(items))
    if fields is None or not all(map(_fits, fields, items)):
        shape = describe_layout(body)
        what = "unknown list" if fields is None else "known list with values of other types"
        raise UnsupportedListError(f"{what} without OBIS codes: {shape}", shape=shape)
    readings: dict[str, Reading] = {}
    for field, item in zip(fields, items, strict=True):
        if field.kind != lists.Kind.UNKNOWN:
            readings[field.obis] = _positional_reading(field, item)
    return Content(readings, list_id, layout, maker)


_KINDS: dict[int, str] = {
    Tag.LONG_UNSIGNED: "long-unsigned",
    Tag.DOUBLE_LONG_UNSIGNED: "double-long-unsigned",
    **dict.fromkeys(_TEXT, "text"),
}


def _kind_of(item: Data) -> str:
    return _KINDS.get(item.tag, "other")


def _fits(field: lists.Field, item: Data) -> bool:
    """Whether a value has a type its positional field can hold."""
    raw = item.value
    if field.kind in (lists.Kind.NUMBER, lists.Kind.UNKNOWN):
        return item.tag in _NUMBERS and isinstance(raw, (int, float))
    if field.kind == lists.Kind.TEXT:
        return item.tag in _TEXT
    return item.tag == Tag.DATE_TIME or (
        item.tag == Tag.OCTET_STRING and isinstance(raw, bytes) and len(raw) == DATE_TIME_LENGTH
    )


def _positional_reading(field: lists.Field, item: Data) -> Reading:
    raw = item.value
    if field.kind == lists.Kind.DATETIME:
        if isinstance(raw, bytes):
            return Reading(field.obis, octet_date_time(raw))
        if isinstance(raw, CosemDateTime):
            return Reading(field.obis, raw.to_datetime())
    if field.kind == lists.Kind.NUMBER and item.tag in _NUMBERS and isinstance(raw, (int, float)):
        return Reading(field.obis, apply_scaler(raw, field.scaler, field.unit), field.unit)
    converted = _plain(item)
    return Reading(field.obis, None if isinstance(converted, _Skip) else converted)


def _push_list(body: Data, items: tuple[Data, ...]) -> Content:
    """A body that opens with its push-object list: each value under the code the list gives.

    Only attribute 2 (the value) of objects other than push setups is read. Registers are
    scaled by a scaler-unit the list itself carries (attribute 3), else by
    `lists.PUSH_LIST_SCALES`; a register of unknown scale is left out.
    """
    return push_list_content(body, items, push_objects(items[0]))


def push_list_content(
    body: Data, items: tuple[Data, ...], objects: tuple[PushObject, ...] | None
) -> Content:
    """What a body that opens with a push-object list says, given the list's entries
    (None when its first element is no well-formed push-object list)."""
    if objects is None or len(objects) != len(items) or not describes_itself(objects):
        shape = describe_layout(body)
        if objects is None:
            why = "malformed push-object list"
        elif len(objects) != len(items):
            why = f"push-object list of {len(objects)} entries for {len(items)} elements"
        else:
            why = "push-object list that does not open with the push setup's own list"
        raise UnsupportedListError(f"{why}: {shape}", shape=shape)
    scaler_units = {
        entry.obis: scaler_unit
        for entry, item in zip(objects, items, strict=True)
        if entry.attribute == SCALER_UNIT_ATTRIBUTE
        and entry.class_id in REGISTER_CLASSES
        and (scaler_unit := _scaler_unit(item)) is not None
    }
    readings: dict[str, Reading] = {}
    for entry, item in zip(objects[1:], items[1:], strict=True):
        reading = _pushed_reading(entry, item, scaler_units)
        if reading is not None:
            readings.setdefault(reading.obis, reading)
    if not readings:
        shape = describe_layout(body)
        raise UnsupportedListError(
            f"push-object list names nothing this decoder reads: {shape}", shape=shape
        )
    return Content(readings, None, LAYOUT_PUSH_LIST, maker_of(None, readings))


def _pushed_reading(
    entry: PushObject, item: Data, scaler_units: dict[bytes, tuple[int, int]]
) -> Reading | None:
    obis = entry.obis
    if (
        entry.attribute != VALUE_ATTRIBUTE
        or entry.data_index != 0
        or is_push_setup(obis)
        or obis[0] not in _OBIS_A
    ):
        return None  # names, scaler-units, parts of values, other media: not readings here
    code = obis_text(obis)
    raw = item.value
    if item.tag in _NUMBERS and isinstance(raw, (int, float)):
        if entry.class_id in REGISTER_CLASSES or obis[0] == 1:
            scaler_unit = scaler_units.get(obis)
            if scaler_unit is not None:
                unit = unit_name(scaler_unit[1])
                return Reading(code, apply_scaler(raw, scaler_unit[0], unit), unit)
            scale = lists.push_list_scale(obis[0], obis[2], obis[3], obis[4])
            if scale is None:
                return None  # its scale is not known: left out rather than guessed
            return Reading(code, apply_scaler(raw, *scale), scale[1])
        if entry.class_id != DATA_CLASS:
            return None
    return reading_of(code, obis, item, None, None)


def describe_layout(body: Data) -> str:
    """A short description of a body's shape for messages and diagnostics:
    `structure(11): long-unsigned x6, double-long-unsigned x4, octet-string`."""
    items = body.value if body.tag in _CONTAINERS else (body,)
    assert isinstance(items, tuple)
    names = (
        f"{_type_name(item.tag)}({len(item.value)})"
        if item.tag in _CONTAINERS and isinstance(item.value, tuple)
        else _type_name(item.tag)
        for item in items
    )
    runs = []
    for name, run in groupby(names):
        count = sum(1 for _ in run)
        runs.append(name if count == 1 else f"{name} x{count}")
    head = f"{_type_name(body.tag)}({len(items)})" if body.tag in _CONTAINERS else "value"
    return f"{head}: {', '.join(runs)}" if runs else head


def _type_name(tag: int) -> str:
    try:
        return Tag(tag).name.lower().replace("_", "-")
    except ValueError:
        return f"tag 0x{tag:02X}"
