"""The fast path from notification bytes to readings, and the body shapes it remembers.

The common OBIS-keyed bodies (structures of OBIS, value[, scaler-unit]; flat triples; flat
pairs) are read straight from the bytes into readings, without building the `Data` tree. The
walk recognises only values it can read exactly as the tree path would (fixed-size numbers,
short octet-, visible- and utf8-strings, `02 02 0F s 16 u` scaler-units); on anything else it
gives up and the caller takes the `Data` path (`notification.read_body`), so results and
errors are those of that path.

Bodies that open with their push-object list (`pushlist.py`) have a path of their own: the
list is the same in every push, so its entries are parsed once and remembered by its bytes;
only the values after it are decoded, one `decode` each, as the `Data` path decodes them.

A meter pushes the same list again and again: only the values change. So each walked body
also leaves a *shape*: which of its bytes are values (numbers, the clock) and which are
structure (tags, lengths, OBIS codes, scaler-units, fixed texts). A later body whose
structure bytes are identical is read from the shape with one masked compare and one
`struct` unpack; any difference in structure, or a value the shape cannot vouch for (a clock
field turned printable text), sends it through the walk again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import struct
from typing import Any

from ..core.errors import DecodeError
from ..core.model import Reading, ReadingValue
from ..cosem.axdr import DATE_TIME_LENGTH, MAX_DEPTH, CosemDateTime, Data, Tag, decode
from . import lists
from .cosem_units import apply_scaler, unit_name
from .notification import (
    LAYOUT_PAIRS,
    LAYOUT_STRUCTURES,
    LAYOUT_TRIPLES,
    MAX_OBIS_TEXTS,
    OBIS_LENGTH,
    Content,
    maker_of,
    notification_header,
    obis_text,
    octet_date_time,
    printable,
    push_list_content,
    reading_of,
    unkeyed_readings,
)
from .pushlist import PushObject, push_objects

type _Scale = tuple[str | None, int, int]
"""Unit, scaler and 10^|scaler|: what `apply_scaler` needs, worked out once."""

_NUMBER_FORMATS = {
    Tag.DOUBLE_LONG: "i",
    Tag.DOUBLE_LONG_UNSIGNED: "I",
    Tag.INTEGER: "b",
    Tag.LONG: "h",
    Tag.UNSIGNED: "B",
    Tag.LONG_UNSIGNED: "H",
    Tag.LONG64: "q",
    Tag.LONG64_UNSIGNED: "Q",
    Tag.ENUM: "B",
    Tag.FLOAT32: "f",
    Tag.FLOAT64: "d",
}
_FAST_NUMBERS: dict[int, tuple[int, Callable[[bytes, int], tuple[Any, ...]], str]] = {
    int(tag): (number.size, number.unpack_from, char)
    for tag, char in _NUMBER_FORMATS.items()
    for number in (struct.Struct(">" + char),)
}
"""A-XDR number tag -> its size, its reader and its `struct` format character."""
_FAST_TEXT = frozenset((int(Tag.OCTET_STRING), int(Tag.VISIBLE_STRING), int(Tag.UTF8_STRING)))
# Plain ints: comparing with IntEnum members costs an attribute lookup and a slow __eq__.
_STRUCTURE = int(Tag.STRUCTURE)
_ARRAY = int(Tag.ARRAY)
_OCTET_STRING = int(Tag.OCTET_STRING)
_INTEGER = int(Tag.INTEGER)
_ENUM = int(Tag.ENUM)
_UNSCALED: _Scale = (None, 0, 1)
_SETUP_C, _SETUP_D = 25, 9
"""C and D of a push setup's logical name (0-b:25.9.e): never a value's code (`pushlist`)."""
_SCALES: dict[int, _Scale] = {}
"""(scaler byte << 8 | unit) of a scaler-unit -> its scale."""
_FAST_CODES: dict[str | None, dict[bytes, tuple[str, _Scale | None]]] = {}
"""list id -> OBIS -> reported code and the list's scaling of an unscaled number."""
_MAX_LISTS = 64


def _scale_of(scaler: int, unit: str | None) -> _Scale:
    return unit, scaler, 10 ** abs(scaler)


def _scaler_unit_scale(key: int) -> _Scale:
    scaler, unit = key >> 8, key & 0xFF
    scale = _scale_of(scaler - 0x100 if scaler >= 0x80 else scaler, unit_name(unit))
    _SCALES[key] = scale
    return scale


def _fast_codes(list_id: str | None) -> dict[bytes, tuple[str, _Scale | None]]:
    codes = _FAST_CODES.get(list_id)
    if codes is None:
        if len(_FAST_CODES) >= _MAX_LISTS:
            _FAST_CODES.clear()
        codes = _FAST_CODES[list_id] = {}
    elif len(codes) >= MAX_OBIS_TEXTS:
        codes.clear()
    return codes


def _fast_code(
    codes: dict[bytes, tuple[str, _Scale | None]], list_id: str | None, obis: bytes
) -> tuple[str, _Scale | None]:
    pair = lists.pair_scale(list_id, obis[0], obis[2], obis[3])
    entry = (
        lists.alias(list_id, obis_text(obis)),
        None if pair is None else _scale_of(*pair),
    )
    codes[obis] = entry
    return entry


_new_reading = tuple.__new__
"""Builds a Reading from its five fields at half the cost of calling the class."""


# --- shapes ---------------------------------------------------------------------------------
#
# A shape replays a walked body as steps, in body order. Each step that reads a value takes
# the next field `struct` unpacked from the value bytes.

# Every step is (kind, code, and three fields whose meaning depends on the kind):
_NUMBER = 0  # unit, scaler, 10^|scaler|: a number, scaled
_CONSTANT = 1  # the reading, made of structure bytes only
_CLOCK = 2  # a leading date-time without code; printable text would be a list id
_OPAQUE = 3  # trailing binary without code; printable text would be a meter id
_KEYED_DATE_TIME = 4  # OBIS, list id: an OBIS-keyed 12-byte octet-string

type _Step = tuple[int, str, Any, Any, Any]
type _Slot = tuple[int, int, str, _Step | None]
"""Where a walked item's variable bytes start, how many, their `struct` format, its step."""

_MAX_SHAPE_KEYS = 64
_SHAPES_PER_KEY = 4  # meters of one model side by side share a key
_SHAPE_KEY_BYTES = 4  # container tag, count, and the first item's tag and length


@dataclass(frozen=True, slots=True)
class _Shape:
    """How to read a body whose structure bytes are those of a body walked before."""

    size: int
    mask: int
    """1-bits over the structure bytes (big-endian over the body)."""
    structure: int
    """The walked body's bytes under `mask`."""
    values: struct.Struct
    """Unpacks the value bytes, structure bytes skipped."""
    steps: tuple[_Step, ...]
    list_id: str | None
    layout: str

    def read(self, data: bytes, pos: int) -> tuple[Content, int] | None:
        """The content of the body at `pos` and where it ends; None if it has another shape."""
        end = pos + self.size
        if end > len(data) or int.from_bytes(data[pos:end], "big") & self.mask != self.structure:
            return None
        values = self.values.unpack_from(data, pos)
        readings: dict[str, Reading] = {}
        taken = 0
        new_reading = _new_reading
        for kind, code, first, second, third in self.steps:
            if kind == _NUMBER:
                raw = values[taken]
                taken += 1
                if code not in readings:
                    number = _scaled(raw, first, second, third)
                    readings[code] = new_reading(Reading, (code, number, first, None, ()))
            elif kind == _CONSTANT:
                if code not in readings:
                    readings[code] = first
            else:
                raw = values[taken]
                taken += 1
                if kind == _KEYED_DATE_TIME:
                    if code not in readings:
                        keyed = reading_of(code, first, Data(_OCTET_STRING, raw), None, second)
                        if keyed is not None:
                            readings[code] = keyed
                elif printable(raw):
                    return None  # the walk would take this text for an identifier
                elif kind == _CLOCK and code not in readings:
                    moment = octet_date_time(raw)
                    if moment is not None:
                        readings[code] = Reading(code, moment)
        return Content(readings, self.list_id, self.layout, maker_of(self.list_id, readings)), end


def _build_shape(data: bytes, start: int, end: int, slots: list[_Slot], content: Content) -> _Shape:
    formats = [">"]
    mask = bytearray(b"\xff" * (end - start))
    steps: list[_Step] = []
    cursor = start
    for at, size, form, step in slots:
        if size:
            if at > cursor:
                formats.append(f"{at - cursor}x")
            formats.append(form)
            mask[at - start : at - start + size] = bytes(size)
            cursor = at + size
        if step is not None:
            steps.append(step)
    if end > cursor:
        formats.append(f"{end - cursor}x")
    mask_value = int.from_bytes(mask, "big")
    return _Shape(
        size=end - start,
        mask=mask_value,
        structure=int.from_bytes(data[start:end], "big") & mask_value,
        values=struct.Struct("".join(formats)),
        steps=tuple(steps),
        list_id=content.list_id,
        layout=content.layout,
    )


_SHAPES: dict[tuple[int, bytes], list[_Shape]] = {}
"""(bytes from the body to the end of the APDU, the body's first bytes) -> shapes seen."""


def _remember(key: tuple[int, bytes], shape: _Shape) -> None:
    known = _SHAPES.get(key)
    if known is None:
        if len(_SHAPES) >= _MAX_SHAPE_KEYS:
            del _SHAPES[next(iter(_SHAPES))]
        known = _SHAPES[key] = []
    elif len(known) >= _SHAPES_PER_KEY:
        del known[0]
    known.append(shape)


# --- bodies that open with their push-object list ------------------------------------------

_ARRAY_TAG = bytes((Tag.ARRAY,))
_PUSH_ENTRY_SIZE = 18  # 02 04 | 12 class(2) | 09 06 name(6) | 0F attribute | 12 index(2)
_PUSH_LISTS: dict[bytes, tuple[Data, tuple[PushObject, ...]]] = {}
"""The bytes of a push-object list -> its decoded array and entries."""
_MAX_PUSH_LISTS = 16


def _read_push_list(data: bytes, pos: int) -> tuple[Content, int] | None:
    """A structure that opens with an array: a push-object list's body, read with the list
    remembered; None (take the `Data` path) for anything else and on any error."""
    size = len(data)
    if pos + 4 > size:
        return None
    count, entries = data[pos + 1], data[pos + 3]
    if not 0 < count < 0x80 or entries >= 0x80:
        return None
    start = pos + 2
    end = start + 2 + entries * _PUSH_ENTRY_SIZE
    if end > size:
        return None
    key = data[start:end]
    known = _PUSH_LISTS.get(key)
    try:
        if known is None:
            array, after = decode(data, start, max_depth=MAX_DEPTH - 1)
            objects = push_objects(array)
            if after != end or objects is None:
                return None
            if len(_PUSH_LISTS) >= _MAX_PUSH_LISTS:
                _PUSH_LISTS.clear()
            known = _PUSH_LISTS[key] = (array, objects)
        items = [known[0]]
        at = end
        for _ in range(count - 1):
            item, at = decode(data, at, max_depth=MAX_DEPTH - 1)
            items.append(item)
        values = tuple(items)
        content = push_list_content(Data(Tag.STRUCTURE, values), values, known[1])
    except DecodeError:  # UnsupportedListError and TruncatedError included
        return None
    return content, at


# --- reading notifications ------------------------------------------------------------------


def read_notifications(data: bytes) -> tuple[tuple[CosemDateTime | None, Content], ...] | None:
    """Date-time and content of each notification filling `data`, by the fast path.

    None when any body is not one of the common OBIS-keyed layouts, or anything about the
    bytes is unusual (including every error): then `parse_notifications` and `read_body`
    must be used, and give the answer or the error.
    """
    found: list[tuple[CosemDateTime | None, Content]] = []
    pos = 0
    size = len(data)
    while pos < size:
        try:
            date_time, body_start = notification_header(data, pos)[1:]
        except DecodeError:
            return None
        body = read_body_fast(data, body_start)
        if body is None:
            return None
        content, pos = body
        found.append((date_time, content))
    return tuple(found) or None


def read_body_fast(data: bytes, pos: int) -> tuple[Content, int] | None:
    """The content of the body at `pos` and where it ends, or None to take the `Data` path.

    From a remembered shape when one fits, else by walking the body (and remembering it).
    """
    if data[pos + 2 : pos + 3] == _ARRAY_TAG and data[pos] == _STRUCTURE:
        return _read_push_list(data, pos)
    key = (len(data) - pos, data[pos : pos + _SHAPE_KEY_BYTES])
    known = _SHAPES.get(key)
    if known is not None:
        for shape in reversed(known):
            result = shape.read(data, pos)
            if result is not None:
                return result
    slots: list[_Slot] = []
    walked = _walk_body(data, pos, slots)
    if walked is None:
        return None
    content, end = walked
    _remember(key, _build_shape(data, pos, end, slots, content))
    return walked


def _walk_body(data: bytes, pos: int, slots: list[_Slot]) -> tuple[Content, int] | None:
    """Read the body at `pos` item by item, noting its variable bytes in `slots`."""
    size = len(data)
    if pos + 2 > size or (data[pos] != _STRUCTURE and data[pos] != _ARRAY):
        return None
    count = data[pos + 1]
    pos += 2
    if count >= 0x80 or count > size - pos:
        return None
    numbers = _FAST_NUMBERS
    text_tags = _FAST_TEXT
    scales = _SCALES
    readings: dict[str, Reading] = {}
    counts: dict[str, int] = {}
    list_id: str | None = None
    keyed_list = False  # list id taken from an OBIS-keyed value
    computed = False  # a keyed reading was worked out with `list_id`
    codes: dict[bytes, tuple[str, _Scale | None]] | None = None
    index = 0
    while index < count:
        if pos + 2 > size:
            return None
        tag = data[pos]
        obis_at = -1
        if tag == _STRUCTURE:
            inner = data[pos + 1]
            if (
                (inner != 2 and inner != 3)  # noqa: PLR1714
                or pos + 10 > size
                or data[pos + 2] != _OCTET_STRING
                or data[pos + 3] != OBIS_LENGTH
                or data[pos + 4] > 1
                or (data[pos + 4] == 0 and data[pos + 6] == _SETUP_C and data[pos + 7] == _SETUP_D)
            ):
                return None
            obis_at = pos + 4
            form = LAYOUT_STRUCTURES
            step = 1
        elif (
            tag == _OCTET_STRING
            and data[pos + 1] == OBIS_LENGTH
            and pos + 8 <= size
            and data[pos + 2] <= 1
            and index + 1 < count
            and not (data[pos + 2] == 0 and data[pos + 4] == _SETUP_C and data[pos + 5] == _SETUP_D)
        ):
            inner = 0
            obis_at = pos + 2
        if obis_at < 0:
            # A value without OBIS code: text at either end is read, text in the middle left
            # out; a number makes the list one the `Data` path rejects (see `read_body`).
            if tag in numbers:
                return None
            length = data[pos + 1]
            end = pos + 2 + length
            if tag not in text_tags or length >= 0x80 or end > size:
                return None
            if index == 0 or index == count - 1:
                raw = data[pos + 2 : end]
                if tag == _OCTET_STRING and length == DATE_TIME_LENGTH and not printable(raw):
                    step_of_text: _Step = (
                        (_CLOCK, lists.CLOCK, None, None, None)
                        if index == 0
                        else (_OPAQUE, "", None, None, None)
                    )
                    slots.append((pos + 2, length, f"{length}s", step_of_text))
                    constant = False
                else:
                    constant = True
                item = _fast_text(tag, raw)
                for code, (_, reading) in unkeyed_readings([(index, item)], count).items():
                    if constant:
                        slots.append((end, 0, "", (_CONSTANT, code, reading, None, None)))
                    if code not in readings:
                        readings[code] = reading
                    if code == lists.LIST_ID and not keyed_list and isinstance(reading.value, str):
                        list_id = reading.value
                        codes = None
            # Text in the middle is left out, but stays structure: its first byte decides
            # whether a 6-byte octet-string is an OBIS code.
            pos = end
            index += 1
            continue
        value_at = obis_at + OBIS_LENGTH
        if value_at >= size:
            return None
        value_tag = data[value_at]
        fixed = numbers.get(value_tag)
        if fixed is not None:
            after = value_at + 1 + fixed[0]
            if after > size:
                return None
            raw_number = fixed[1](data, value_at + 1)[0]
            value: Data | None = None
        elif value_tag in text_tags and value_at + 1 < size and data[value_at + 1] < 0x80:
            after = value_at + 2 + data[value_at + 1]
            if after > size:
                return None
            value = _fast_text(value_tag, data[value_at + 2 : after])
        else:
            return None
        scale: _Scale | None = None
        has_scaler_unit = (
            after + 6 <= size
            and data[after] == _STRUCTURE
            and data[after + 1] == 2
            and data[after + 2] == _INTEGER
            and data[after + 4] == _ENUM
        )
        if inner == 0:  # flat: a scaler-unit may follow the value
            if has_scaler_unit and index + 2 < count:
                form, step = LAYOUT_TRIPLES, 3
            else:
                form, step = LAYOUT_PAIRS, 2
                has_scaler_unit = False
        elif inner == 3:
            if not has_scaler_unit:
                return None
        else:
            has_scaler_unit = False
        if has_scaler_unit:
            key = data[after + 3] << 8 | data[after + 5]
            scale = scales.get(key)
            if scale is None:
                scale = _scaler_unit_scale(key)
            after += 6
        obis = data[obis_at:value_at]
        if (
            value is not None
            and not keyed_list
            and obis[2:5] == b"\x00\x02\x81"
            and isinstance(value.value, str)
        ):
            keyed_list = True
            if value.value != list_id:
                if computed:
                    return None
                list_id = value.value
                codes = None
        if codes is None:
            codes = _fast_codes(list_id)
        entry = codes.get(obis)
        if entry is None:
            entry = _fast_code(codes, list_id, obis)
        computed = True
        code = entry[0]
        if value is None:
            if scale is None:
                scale = entry[1] or _UNSCALED
            unit, scaler, factor = scale
            assert fixed is not None
            slots.append((value_at + 1, fixed[0], fixed[2], (_NUMBER, code, unit, scaler, factor)))
            if code not in readings:
                readings[code] = Reading(code, _scaled(raw_number, unit, scaler, factor), unit)
        else:
            length = data[value_at + 1]
            if value_tag == _OCTET_STRING and length == DATE_TIME_LENGTH:
                step_of_value = (_KEYED_DATE_TIME, code, obis, list_id, None)
                slots.append((value_at + 2, length, f"{length}s", step_of_value))
                text = (
                    reading_of(code, obis, value, None, list_id) if code not in readings else None
                )
            else:
                text = reading_of(code, obis, value, None, list_id)
                if text is not None:
                    slots.append((after, 0, "", (_CONSTANT, code, text, None, None)))
            if text is not None and code not in readings:
                readings[code] = text
        counts[form] = counts.get(form, 0) + 1
        pos = after
        index += step
    if not computed:
        return None
    layout = max(counts, key=counts.__getitem__)  # the first of the most common, as Counter
    return Content(readings, list_id, layout, maker_of(list_id, readings)), pos


def _scaled(raw: int | float, unit: str | None, scaler: int, factor: int) -> ReadingValue:
    """`apply_scaler` with the power of ten worked out beforehand (integers, the usual case)."""
    if raw.__class__ is not int:
        return apply_scaler(raw, scaler, unit)
    if scaler < 0:
        return raw / factor
    if scaler == 0:
        return raw if unit is None else float(raw)
    return float(raw * factor)


def _fast_text(tag: int, raw: bytes) -> Data:
    if tag == _OCTET_STRING:
        return Data(tag, raw)
    if tag == Tag.VISIBLE_STRING:
        return Data(tag, raw.decode("latin-1"))
    return Data(tag, raw.decode("utf-8", errors="replace"))
