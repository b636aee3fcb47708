"""CRC-16/ARC (P1) and CRC-16/X.25 (HDLC) against published check values and real frames."""

from __future__ import annotations

import random

import pytest

from custom_components.energy_gateway.meterlib.core.crc import crc16_arc, crc16_x25

from ..conftest import FIXTURES, GOOD_TELEGRAMS, vector

CHECK_INPUT = b"123456789"  # the standard input of the CRC catalogue's check values


def bitwise_crc(data: bytes, poly: int, init: int, xorout: int) -> int:
    """Reference: a reflected CRC-16 computed one bit at a time."""
    crc = init
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ xorout


def test_check_values() -> None:
    assert crc16_arc(CHECK_INPUT) == 0xBB3D
    assert crc16_x25(CHECK_INPUT) == 0x906E
    assert crc16_arc(b"") == 0
    assert crc16_x25(b"") == 0


def test_matches_bitwise_reference_on_random_data() -> None:
    # Sizes on both sides of the switch from the byte loop to folding, and a big one that
    # needs many fold levels.
    rng = random.Random(20261123)
    for size in (1, 2, 3, 17, 47, 48, 49, 64, 255, 256, 1024, 1025, 40_000):
        data = rng.randbytes(size)
        start = rng.randrange(1 << 16)
        assert crc16_arc(data) == bitwise_crc(data, 0xA001, 0, 0), size
        assert crc16_arc(data, start) == bitwise_crc(data, 0xA001, start, 0), size
        assert crc16_x25(data) == bitwise_crc(data, 0x8408, 0xFFFF, 0xFFFF), size


def test_all_zero_and_all_one_messages() -> None:
    for size in (0, 1, 48, 500):
        for fill in (b"\x00", b"\xff"):
            data = fill * size
            assert crc16_arc(data) == bitwise_crc(data, 0xA001, 0, 0)
            assert crc16_x25(data) == bitwise_crc(data, 0x8408, 0xFFFF, 0xFFFF)


def test_arc_continues_from_a_previous_result() -> None:
    data = vector("dsmr_v5.txt")
    head, tail = data[:300], data[300:]
    assert crc16_arc(tail, crc16_arc(head)) == crc16_arc(data)
    assert crc16_arc(bytearray(data)) == crc16_arc(memoryview(data)) == crc16_arc(data)


def crc_digits(data: bytes) -> bytes:
    """The hex digits after `!` (empty when the telegram carries no CRC)."""
    return data[data.index(b"!") + 1 :].split(b"\r\n")[0].strip()


CRC_TELEGRAMS = [name for name in GOOD_TELEGRAMS if crc_digits(vector(name))]


def test_telegrams_without_crc_are_the_old_and_q3d_ones() -> None:
    assert set(GOOD_TELEGRAMS) - set(CRC_TELEGRAMS) == {
        "dsmr_v2_2.txt",
        "dsmr_v3.txt",
        "q3d_esy5q3da1004_v304.txt",
        "q3d_esy5q3db1024_v304.txt",
    }


@pytest.mark.parametrize("name", CRC_TELEGRAMS)
def test_every_crc_bearing_vector_checks(name: str) -> None:
    data = vector(name)
    body = data[data.index(b"/") : data.index(b"!") + 1]
    assert crc16_arc(body) == int(crc_digits(data), 16)


def test_negative_vector_does_not_check() -> None:
    data = vector("aviborg_data2.txt")
    assert crc16_arc(data[: data.index(b"!") + 1]) == 0x9438  # the file says FCA6


def test_x25_on_a_real_hdlc_frame() -> None:
    hex_text = (FIXTURES / "dlms_security" / "hdlc_kamstrup_omnipower.hex").read_text()
    frame = bytes.fromhex(hex_text.strip())
    assert frame[0] == frame[-1] == 0x7E
    # The FCS covers everything between the flags and travels least significant byte first.
    assert crc16_x25(frame[1:-3]) == int.from_bytes(frame[-3:-1], "little") == 0xAAFC
    # Receivers check the residue: CRC over content plus FCS is the constant 0x0F47.
    assert crc16_x25(frame[1:-1]) == 0x0F47
