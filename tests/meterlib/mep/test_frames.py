"""Framing: requests as the guide builds them, reassembly, verification, byte counts."""

from __future__ import annotations

import pytest

from custom_components.energy_gateway.meterlib.core.errors import ChecksumError
from custom_components.energy_gateway.meterlib.mep import (
    ByteCountError,
    DigestMismatchError,
    FramingError,
)
from custom_components.energy_gateway.meterlib.mep.cipher import encryption_base_key
from custom_components.energy_gateway.meterlib.mep.frames import (
    MAX_MESSAGE,
    MAX_READ_COUNT,
    FrameAssembler,
    ResponseCode,
    build_request,
    open_response,
    partial_read,
    read_data,
)

from .vectors import DEFAULT_MAK, Exchange, keyed_exchanges

KEYED = keyed_exchanges()


def request_of(exchange: Exchange) -> bytes:
    return exchange.request_body[:-4]


@pytest.mark.parametrize("exchange", KEYED, ids=lambda e: e.name[:40])
def test_requests_are_built_byte_for_byte(exchange: Exchange) -> None:
    sequence = int.from_bytes(exchange.request_body[-4:], "big")
    request = build_request(DEFAULT_MAK, request_of(exchange), sequence)
    assert request.wire == exchange.request
    assert request.sequence == sequence


def test_partial_read_command_of_example_1() -> None:
    assert partial_read(0x0017, 0, 44) == bytes.fromhex("3f0017000000002c")
    assert partial_read(0x0803, 0x123456, 7) == bytes.fromhex("3f08031234560007")


def test_read_size_keeps_the_reply_within_476_bytes() -> None:
    assert MAX_READ_COUNT + 1 + 2 + 8 == MAX_MESSAGE
    partial_read(0x001C, 0, MAX_READ_COUNT)
    with pytest.raises(ValueError, match=r"1\.\.465 bytes, not 466"):
        partial_read(0x001C, 0, MAX_READ_COUNT + 1)
    with pytest.raises(ValueError, match="not 0"):
        partial_read(0x001C, 0, 0)


@pytest.mark.parametrize("exchange", KEYED, ids=lambda e: e.name[:40])
def test_guide_responses_verify(exchange: Exchange) -> None:
    sequence = int.from_bytes(exchange.request_body[-4:], "big")
    request = build_request(DEFAULT_MAK, request_of(exchange), sequence)
    reply = open_response(DEFAULT_MAK, request, exchange.response[2:])
    assert reply.verified
    assert bytes([reply.code]) + reply.data == exchange.response_body


def test_example_1_reads_44_bytes_after_the_resync() -> None:
    resync, read = KEYED[0], KEYED[1]
    first = build_request(DEFAULT_MAK, request_of(resync), 0x01020304)
    answer = open_response(DEFAULT_MAK, first, resync.response[2:])
    assert answer.code == ResponseCode.BAD_SEQUENCE
    assert answer.data == bytes.fromhex("77635B90")
    second = build_request(DEFAULT_MAK, request_of(read), 0x77635B91)
    data = read_data(open_response(DEFAULT_MAK, second, read.response[2:]), 44)
    assert len(data) == 44
    assert data[16] == 8  # BT23 summation 4 (outage seconds) of the guide's meter


def test_every_single_bit_flip_is_rejected() -> None:
    exchange = KEYED[5]  # 122-byte reply: read of ET53
    request = build_request(DEFAULT_MAK, request_of(exchange), 0x5B4E42E8)
    message = exchange.response[2:]
    for position in range(len(message)):
        for bit in range(8):
            damaged = bytearray(message)
            damaged[position] ^= 1 << bit
            with pytest.raises(DigestMismatchError):
                open_response(DEFAULT_MAK, request, bytes(damaged))


def test_a_reply_to_another_request_is_rejected() -> None:
    request = build_request(DEFAULT_MAK, request_of(KEYED[4]), 0x5B4E42E7 + 1)
    with pytest.raises(ChecksumError, match="digest"):
        open_response(DEFAULT_MAK, request, KEYED[4].response[2:])


def test_wrong_key_reply_is_recognised_unverified() -> None:
    request = build_request(DEFAULT_MAK, partial_read(0x17, 0, 16), 5)
    reply = open_response(DEFAULT_MAK, request, bytes([0x0B]) + bytes(8))
    assert reply.code == ResponseCode.AUTHENTICATION_FAILED
    assert not reply.verified
    # Encrypted mode: 0B still arrives in clear.
    encrypted = build_request(
        DEFAULT_MAK, partial_read(0x17, 0, 16), 5, base_key=encryption_base_key(DEFAULT_MAK)
    )
    assert open_response(DEFAULT_MAK, encrypted, bytes([0x0B]) + bytes(8)).code == 0x0B


@pytest.mark.parametrize("size", [0, 8, MAX_MESSAGE + 1])
def test_impossible_message_sizes(size: int) -> None:
    request = build_request(DEFAULT_MAK, partial_read(0x17, 0, 16), 5)
    with pytest.raises(FramingError):
        open_response(DEFAULT_MAK, request, bytes(size))


def test_byte_count_checks() -> None:
    from custom_components.energy_gateway.meterlib.mep.frames import Reply

    assert read_data(Reply(0, b"\x00\x02ab"), 2) == b"ab"
    with pytest.raises(ByteCountError, match="announces 3 bytes but carries 2"):
        read_data(Reply(0, b"\x00\x03ab"), 3)
    with pytest.raises(ByteCountError, match="Asked for 4 bytes, got 2"):
        read_data(Reply(0, b"\x00\x02ab"), 4)
    with pytest.raises(ByteCountError, match="without its byte count"):
        read_data(Reply(0, b"\x00"), 4)


def test_assembler_reassembles_chunks_and_skips_alerts() -> None:
    frames = [exchange.response for exchange in KEYED]
    stream = b"\x00\x00".join(frames) + b"\x00\x00"
    for size in (1, 2, 3, 117, 1000):
        assembler = FrameAssembler()
        messages: list[bytes] = []
        for at in range(0, len(stream), size):
            messages += assembler.feed(stream[at : at + size])
        assert messages == [frame[2:] for frame in frames], size
        assert assembler.alerts == len(frames)
        assert assembler.pending == 0


def test_assembler_drops_impossible_lengths() -> None:
    assembler = FrameAssembler()
    assert assembler.feed(b"\x01\xde" + bytes(10)) == []
    assert assembler.discarded == 12
    assert assembler.feed(b"\x00\x05abcde") == []  # shorter than code + digest
    assert assembler.feed(KEYED[2].response) == [KEYED[2].response[2:]]
    assembler.feed(KEYED[3].response[:5])
    assert assembler.reset() == 5
