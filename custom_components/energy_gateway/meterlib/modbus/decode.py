"""Register decoding: data types, word orders, scale, invalid markers.

Conversion itself is pymodbus's `convert_from_registers` (present, with the same meaning,
from 3.8 to 3.16); this module adds what a meter reading needs on top: the scale, the
rejection of NaN, infinity and invalid markers, and a `RegisterValueError` for anything
that is not a value, so nothing malformed is ever published.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Final

from pymodbus.client import ModbusTcpClient

from .errors import RegisterValueError
from .schema import DataType, ModelCode, RegisterSpec, WordOrder

_CONVERT: Final = ModbusTcpClient.convert_from_registers
PYMODBUS_TYPES: Final = {
    DataType.U16: ModbusTcpClient.DATATYPE.UINT16,
    DataType.S16: ModbusTcpClient.DATATYPE.INT16,
    DataType.U32: ModbusTcpClient.DATATYPE.UINT32,
    DataType.S32: ModbusTcpClient.DATATYPE.INT32,
    DataType.U64: ModbusTcpClient.DATATYPE.UINT64,
    DataType.S64: ModbusTcpClient.DATATYPE.INT64,
    DataType.F32: ModbusTcpClient.DATATYPE.FLOAT32,
    DataType.F64: ModbusTcpClient.DATATYPE.FLOAT64,
}
"""How pymodbus names each numeric register type (the simulator encodes with it too)."""
FLOAT_TYPES: Final = frozenset({DataType.F32, DataType.F64})
_SIGNED: Final = frozenset({DataType.S16, DataType.S32, DataType.S64})
# Significant digits a decoded value keeps: float32 carries ~7, the rest is conversion noise
# (230.1 as float32 is 230.10000610…; 2301 * 0.1 is 230.10000000000002).
_DIGITS: Final = {DataType.F32: 7}
_DEFAULT_DIGITS: Final = 12


def decode_raw(registers: Sequence[int], data_type: DataType, word_order: WordOrder) -> float | int:
    """Convert registers to the raw number; raise `RegisterValueError` on a wrong length or
    a register outside 0..65535."""
    if data_type is DataType.TEXT:
        raise RegisterValueError("text is not a number")
    if len(registers) != data_type.registers:
        raise RegisterValueError(f"{data_type} needs {data_type.registers} registers")
    if not all(0 <= register <= 0xFFFF for register in registers):
        raise RegisterValueError("register value outside 0..65535")
    # A copy: pymodbus 3.8 reverses the caller's list in place for little word order.
    value = _CONVERT(list(registers), PYMODBUS_TYPES[data_type], word_order)
    if not isinstance(value, int | float):
        raise RegisterValueError(f"{data_type} did not convert to a number")
    return value


def is_invalid_marker(registers: Sequence[int], data_type: DataType) -> bool:
    """True for the all-ones (unsigned) and 0x7FFF… (signed) markers some meters (ABB) send
    for 'no value'."""
    if all(register == 0xFFFF for register in registers):
        return True
    return (
        data_type in _SIGNED and registers[0] == 0x7FFF and all(r == 0xFFFF for r in registers[1:])
    )


def decode_value(
    registers: Sequence[int], spec: RegisterSpec, *, invalid_all_ones: bool = False
) -> float:
    """The scaled value of one map entry; raise `RegisterValueError` when the registers
    hold no valid value."""
    raw = decode_raw(registers, spec.data_type, spec.word_order)
    if invalid_all_ones and is_invalid_marker(registers, spec.data_type):
        raise RegisterValueError(f"{spec.name}: invalid marker")
    if spec.data_type in FLOAT_TYPES and not math.isfinite(raw):
        raise RegisterValueError(f"{spec.name}: not a finite number")
    digits = _DIGITS.get(spec.data_type, _DEFAULT_DIGITS)
    value = float(f"{raw * spec.scale:.{digits}g}")
    if not math.isfinite(value):
        raise RegisterValueError(f"{spec.name}: out of range after scaling")
    return value


def decode_text(registers: Sequence[int]) -> str:
    """Registers holding ASCII text (two characters each, high byte first), trailing NULs
    and spaces removed; raise `RegisterValueError` on anything but printable ASCII."""
    if not all(0 <= register <= 0xFFFF for register in registers):
        raise RegisterValueError("register value outside 0..65535")
    data = b"".join(register.to_bytes(2, "big") for register in registers).rstrip(b"\0 ")
    if not all(0x20 <= byte < 0x7F for byte in data):
        raise RegisterValueError("identification text is not printable ASCII")
    return data.decode("ascii")


def decode_code(registers: Sequence[int], model: ModelCode) -> str:
    """The model code as the map's `codes` spell it: text, or a decimal number."""
    if model.data_type is DataType.TEXT:
        return decode_text(registers)
    return str(decode_raw(registers, model.data_type, "big"))


def decode_serial(registers: Sequence[int], spec: RegisterSpec) -> str:
    """A serial number as text (decimal for numeric registers)."""
    if spec.data_type is DataType.TEXT:
        return decode_text(registers)
    raw = decode_raw(registers, spec.data_type, spec.word_order)
    if isinstance(raw, float):
        raise RegisterValueError("a serial number is not a float")
    return str(raw)
