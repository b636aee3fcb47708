"""Push-object lists: bodies that open with the description of their own values.

A push setup object (interface class 40, logical name 0-b:25.9.0) decides what a push
carries. Some meters (Landis+Gyr E450 and E570 as Swiss utilities configure them) push the
setup's own attribute 2, the push-object list, as the first element of the body: an array of
N structures `{class_id: long-unsigned, logical_name: octet-string(6), attribute_index:
integer, data_index: long-unsigned}`, one per element of the body, the list itself first.
The other elements are the values those entries name, in the same order. The setup's
logical name (its attribute 1) often follows as a bare 6-byte octet-string: it names the
push, not a measured value, and must never be read as an OBIS code.

This module only reads the list; `notification.py` turns the values into readings.
"""

from __future__ import annotations

from typing import NamedTuple

from ..cosem.axdr import Data, Tag

PUSH_SETUP_CLASS = 40
DATA_CLASS = 1
REGISTER_CLASSES = frozenset((3, 4, 5))
"""Register, extended register, demand register: numbers whose scale is attribute 3."""
VALUE_ATTRIBUTE = 2
SCALER_UNIT_ATTRIBUTE = 3
_ENTRY_TYPES = (Tag.LONG_UNSIGNED, Tag.OCTET_STRING, Tag.INTEGER, Tag.LONG_UNSIGNED)
_OBIS_LENGTH = 6
_PUSH_SETUP_C, _PUSH_SETUP_D = 25, 9


class PushObject(NamedTuple):
    """One entry of a push-object list: which attribute of which object a value is."""

    class_id: int
    obis: bytes
    attribute: int
    data_index: int


def is_push_setup(obis: bytes) -> bool:
    """Whether a 6-byte logical name is a push setup's (0-b:25.9.e): never a value's code."""
    return obis[0] == 0 and obis[2] == _PUSH_SETUP_C and obis[3] == _PUSH_SETUP_D


def opens_with_push_list(items: tuple[Data, ...]) -> bool:
    """Whether a body's first element looks like a push-object list (an array whose first
    entry is a structure of four opening with a class id), well-formed or not."""
    if not items or items[0].tag != Tag.ARRAY:
        return False
    entries = items[0].value
    if not isinstance(entries, tuple) or not entries:
        return False
    first = entries[0]
    return (
        first.tag == Tag.STRUCTURE
        and isinstance(first.value, tuple)
        and len(first.value) == len(_ENTRY_TYPES)
        and first.value[0].tag == Tag.LONG_UNSIGNED
    )


def push_objects(item: Data) -> tuple[PushObject, ...] | None:
    """The entries of a push-object list, None when `item` is not exactly one."""
    entries = item.value
    if item.tag != Tag.ARRAY or not isinstance(entries, tuple):
        return None
    objects: list[PushObject] = []
    for entry in entries:
        fields = entry.value
        if entry.tag != Tag.STRUCTURE or not isinstance(fields, tuple):
            return None
        if tuple(field.tag for field in fields) != _ENTRY_TYPES:
            return None
        class_id, obis, attribute, data_index = (field.value for field in fields)
        if not (
            isinstance(class_id, int)
            and isinstance(obis, bytes)
            and len(obis) == _OBIS_LENGTH
            and isinstance(attribute, int)
            and isinstance(data_index, int)
        ):
            return None
        objects.append(PushObject(class_id, obis, attribute, data_index))
    return tuple(objects)


def describes_itself(objects: tuple[PushObject, ...]) -> bool:
    """Whether the list's first entry is the push setup's own object list (as it must be)."""
    if not objects:
        return False
    first = objects[0]
    return (
        first.class_id == PUSH_SETUP_CLASS
        and is_push_setup(first.obis)
        and first.attribute == VALUE_ATTRIBUTE
    )
