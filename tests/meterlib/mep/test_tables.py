"""Table decoding: the guide's examples and real captures from a Danish meter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.mep.frames import FrameAssembler
from custom_components.energy_gateway.meterlib.mep.tables import (
    decode_clock,
    decode_dimensions,
    decode_manufacturer,
    decode_present_values,
    decode_registers,
    decode_serial,
    firmware_text,
)

from .vectors import guide_exchanges, real_captures

CAPTURES = real_captures()
BT23_REPLIES = [c for c in CAPTURES if "response" in c and "BT23" in c["desc"]]


def table_data(frame_hex: str) -> bytes:
    """Table bytes of a read reply: after code and count, before the digest."""
    (message,) = FrameAssembler().feed(bytes.fromhex(frame_hex))
    assert message[0] == 0
    count = int.from_bytes(message[1:3], "big")
    data = message[3:-8]
    assert len(data) == count
    return data


def test_real_bt28_present_values() -> None:
    bt28 = next(c for c in CAPTURES if c["desc"].startswith("BT28"))
    data = table_data(bt28["response"])
    assert len(data) == 55 * 4
    values = decode_present_values(data)
    assert values["1-0:1.7.0"].value == 432.0
    assert values["1-0:1.7.0"].unit == "W"
    assert values["1-0:2.7.0"].value == 0.0
    assert [values[f"1-0:{c}.7.0"].value for c in (31, 51, 71)] == [1.978, 0.782, 0.854]
    assert [values[f"1-0:{c}.7.0"].value for c in (32, 52, 72)] == [228.693, 226.079, 226.973]
    assert [values[f"1-0:{c}.7.0"].value for c in (33, 53, 73)] == [0.711, 0.335, 0.274]
    assert values["1-0:14.7.0"][:3] == ("1-0:14.7.0", 50.0, "Hz")
    assert values["1-0:73.7.0"].unit is None
    # Per-phase import powers add up to the total import.
    phases = sum(float(values[f"1-0:{c}.7.0"].value or 0) for c in (21, 41, 61))
    assert phases == pytest.approx(432, abs=3)
    for reading in values.values():
        assert isinstance(reading.value, float)


@pytest.mark.parametrize(
    "capture", [c for c in CAPTURES if "response" in c and "BT23" in c["desc"]]
)
def test_real_bt23_energy_registers(capture: dict[str, str]) -> None:
    data = table_data(capture["response"])
    assert len(data) == 5 * 11 * 4
    values = decode_registers(data[:16])
    imported = values["1-0:1.8.0"].value
    assert isinstance(imported, float)
    assert 60_000_000 < imported < 70_000_000  # about 65.8 MWh on this meter
    assert values["1-0:1.8.0"].unit == "Wh"
    assert values["1-0:2.8.0"].value == 179.0
    assert values["1-0:3.8.0"].unit == "varh"
    # Summation 6 (import + export) agrees within the counts that accrue between updates.
    total = int.from_bytes(data[24:28], "little")
    assert abs(total - (imported + 179)) < 10


def test_real_bt23_counts_up_between_captures() -> None:
    first, later = (
        decode_registers(table_data(c["response"])[:16])["1-0:1.8.0"].value for c in BT23_REPLIES
    )
    assert isinstance(first, float)
    assert isinstance(later, float)
    assert 0 < later - first < 100


def test_clock_of_the_guide_example() -> None:
    example = next(e for e in guide_exchanges() if e.key is None)
    assert decode_clock(table_data(example.response.hex())) == datetime(
        2004, 2, 16, 15, 59, 55, tzinfo=UTC
    )
    with pytest.raises(DecodeError, match="no valid date"):
        decode_clock(bytes([26, 13, 1, 0, 0, 0]))
    with pytest.raises(DecodeError, match="expected 6"):
        decode_clock(b"\x1a\x01")


def test_firmware_words_of_the_guide() -> None:
    assert firmware_text(0x3018) == "3.00.24"
    assert firmware_text(0x3155) == "3.10.21"


def test_identity_tables() -> None:
    bt01 = b"NES 83331-3I" + bytes(2) + bytes([0x31, 0x55])
    assert decode_manufacturer(bt01) == ("NES", "83331-3I", "3.10.21")
    assert decode_serial(b"12345678  \x00junk" + bytes(16)) == "12345678"
    assert decode_serial(bytes(30)) is None
    with pytest.raises(DecodeError, match="BT01"):
        decode_manufacturer(b"NES ")


def test_dimensions_place_the_values() -> None:
    dims = decode_dimensions(bytes([0x44, 0, 0, 11, 0, 0, 0, 4, 2, 55]))
    assert dims.reset_counter
    assert dims.time_remaining
    assert dims.registers_offset == 1
    assert dims.registers_count == 16
    assert dims.present_offset == (3 + 4) * 2
    assert dims.present_count == 220
    plain = decode_dimensions(bytes([0, 0, 0, 2, 0, 0, 0, 4, 0, 12]))
    assert (plain.registers_offset, plain.registers_count, plain.present_offset) == (0, 8, 0)


def test_short_value_tables() -> None:
    assert set(decode_present_values(bytes(12))) == {"1-0:1.7.0", "1-0:2.7.0", "1-0:3.7.0"}
    with pytest.raises(DecodeError, match="whole INT32"):
        decode_present_values(bytes(13))
