"""Register decoders: data types, word orders, scale, invalid values; fuzzed with hypothesis."""

from __future__ import annotations

import math
import struct

from hypothesis import given, strategies as st
import pytest

from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.modbus.decode import (
    decode_code,
    decode_raw,
    decode_serial,
    decode_text,
    decode_value,
)
from custom_components.energy_gateway.meterlib.modbus.errors import RegisterValueError
from custom_components.energy_gateway.meterlib.modbus.schema import (
    DataType,
    ModelCode,
    RegisterSpec,
    WordOrder,
)

_FORMATS = {
    DataType.U16: ">H",
    DataType.S16: ">h",
    DataType.U32: ">I",
    DataType.S32: ">i",
    DataType.U64: ">Q",
    DataType.S64: ">q",
    DataType.F32: ">f",
    DataType.F64: ">d",
}


def _spec(data_type: DataType, word_order: WordOrder = "big", scale: float = 1.0) -> RegisterSpec:
    return RegisterSpec(
        "x", "1-0:1.7.0", 0, 3, data_type, data_type.registers, word_order, scale, "W"
    )


def _registers(data: bytes, word_order: WordOrder) -> list[int]:
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return words[::-1] if word_order == "little" else words


@pytest.mark.parametrize(
    ("data_type", "registers", "word_order", "expected"),
    [
        (DataType.U16, [0xFFFE], "big", 65534),
        (DataType.S16, [0xFFFE], "big", -2),
        (DataType.U32, [0x0001, 0x0002], "big", 0x00010002),
        (DataType.U32, [0x0001, 0x0002], "little", 0x00020001),  # CDAB: low word first
        (DataType.S32, [0xFFFF, 0xFFFE], "big", -2),
        (DataType.U64, [0, 0, 0x0001, 0x86A0], "big", 100000),
        (DataType.U64, [0x86A0, 0x0001, 0, 0], "little", 100000),
        (DataType.F32, [0x4366, 0x199A], "big", pytest.approx(230.1, abs=1e-4)),
        (DataType.F32, [0x199A, 0x4366], "little", pytest.approx(230.1, abs=1e-4)),
    ],
)
def test_known_values(
    data_type: DataType, registers: list[int], word_order: WordOrder, expected: object
) -> None:
    assert decode_raw(registers, data_type, word_order) == expected


def test_scale_and_rounding() -> None:
    assert decode_value([2301, 0], _spec(DataType.S32, "little", 0.1)) == 230.1
    assert decode_value([0x4366, 0x199A], _spec(DataType.F32)) == 230.1
    assert decode_value([0, 0, 0, 1234], _spec(DataType.U64, scale=0.001)) == 1.234


def test_register_list_is_not_mutated() -> None:
    registers = [1, 2]
    decode_raw(registers, DataType.U32, "little")
    assert registers == [1, 2]


@pytest.mark.parametrize(
    ("registers", "data_type"),
    [
        ([0x7FC0, 0x0000], DataType.F32),  # NaN
        ([0x7F80, 0x0000], DataType.F32),  # +infinity
        ([0xFFF0, 0, 0, 0], DataType.F64),  # -infinity
        ([1], DataType.U32),  # short reply
        ([1, 2, 3], DataType.U32),
        ([70000, 0], DataType.U32),
        ([-1], DataType.U16),
    ],
)
def test_invalid_raw_values_raise(registers: list[int], data_type: DataType) -> None:
    with pytest.raises(RegisterValueError):
        decode_value(registers, _spec(data_type))


def test_invalid_markers_only_where_the_map_says() -> None:
    spec = _spec(DataType.U32)
    assert decode_value([0xFFFF, 0xFFFF], spec) == 4294967295
    with pytest.raises(RegisterValueError):
        decode_value([0xFFFF, 0xFFFF], spec, invalid_all_ones=True)
    with pytest.raises(RegisterValueError):
        decode_value([0x7FFF], _spec(DataType.S16), invalid_all_ones=True)
    assert decode_value([0x7FFE], _spec(DataType.S16), invalid_all_ones=True) == 32766


def test_text_and_codes() -> None:
    assert decode_text([0x4232, 0x3320]) == "B23"
    assert decode_text([0x6945, 0x4D33, 0x3135, 0x3500, 0]) == "iEM3155"
    with pytest.raises(RegisterValueError):
        decode_text([0xFF01])
    model = ModelCode(0xFC02, 3, DataType.U16, 1, {"112": "SDM630"})
    assert decode_code([112], model) == "112"
    serial = RegisterSpec("serial", "0-0:96.1.0", 70, 3, DataType.U32, 2)
    assert decode_serial([0x0001, 0xE240], serial) == "123456"
    with pytest.raises(RegisterValueError):
        decode_serial([0, 0], RegisterSpec("s", "0-0:96.1.0", 70, 3, DataType.F32, 2))


_NUMERIC = [data_type for data_type in DataType if data_type is not DataType.TEXT]


@given(
    data_type=st.sampled_from(_NUMERIC),
    word_order=st.sampled_from(["big", "little"]),
    data=st.data(),
)
def test_round_trip_of_every_type_and_word_order(
    data_type: DataType, word_order: WordOrder, data: st.DataObject
) -> None:
    raw = data.draw(st.binary(min_size=data_type.registers * 2, max_size=data_type.registers * 2))
    expected = struct.unpack(_FORMATS[data_type], raw)[0]
    got = decode_raw(_registers(raw, word_order), data_type, word_order)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected


@given(
    data_type=st.sampled_from(_NUMERIC),
    word_order=st.sampled_from(["big", "little"]),
    scale=st.sampled_from([1.0, 0.1, 0.01, 0.001, 1000.0]),
    registers=st.lists(st.integers(-5, 0x1_0005), max_size=5),
    invalid_all_ones=st.booleans(),
)
def test_any_registers_decode_to_a_finite_value_or_a_decode_error(
    data_type: DataType,
    word_order: WordOrder,
    scale: float,
    registers: list[int],
    invalid_all_ones: bool,
) -> None:
    try:
        value = decode_value(
            registers, _spec(data_type, word_order, scale), invalid_all_ones=invalid_all_ones
        )
    except DecodeError:
        return
    assert math.isfinite(value)


@given(st.lists(st.integers(-1, 0x1_0000), max_size=30))
def test_any_registers_as_text_decode_or_raise(registers: list[int]) -> None:
    try:
        text = decode_text(registers)
    except DecodeError:
        return
    assert text.isascii()
