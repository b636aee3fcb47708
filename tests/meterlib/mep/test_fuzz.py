"""Robustness: random and mutated responses only ever give verified replies or DecodeErrors.

A mutated reply can never pass as data: the digest (or the byte count behind it) rejects
it. Budget: a few seconds (hypothesis example counts are set for that).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.mep.cipher import encryption_base_key
from custom_components.energy_gateway.meterlib.mep.errors import ByteCountError
from custom_components.energy_gateway.meterlib.mep.frames import (
    LENGTH_SIZE,
    MAX_MESSAGE,
    MIN_RESPONSE,
    FrameAssembler,
    Reply,
    Request,
    ResponseCode,
    build_request,
    open_response,
    partial_read,
    read_data,
)
from simulators.mep_meter import SimulatedMepMeter

from .vectors import DEFAULT_MAK, keyed_exchanges

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
_GUIDE = keyed_exchanges()[5]  # a 122-byte read reply of the guide
GUIDE_REQUEST = build_request(DEFAULT_MAK, _GUIDE.request_body[:-4], 0x5B4E42E8)
GUIDE_MESSAGE = _GUIDE.response[2:]

# An RC4-encrypted BT28 read answered by the simulated meter.
_METER = SimulatedMepMeter(DEFAULT_MAK, clock=lambda: 1_780_000_000.0, initial_sequence=9)
RC4_REQUEST = build_request(
    DEFAULT_MAK, partial_read(0x001C, 7, 220), 9, base_key=encryption_base_key(DEFAULT_MAK)
)
RC4_MESSAGE = (_METER.respond(RC4_REQUEST.wire[LENGTH_SIZE:]) or b"")[LENGTH_SIZE:]
CASES = [(GUIDE_REQUEST, GUIDE_MESSAGE), (RC4_REQUEST, RC4_MESSAGE)]


def open_any(request: Request, message: bytes) -> Reply | DecodeError:
    try:
        return open_response(DEFAULT_MAK, request, message)
    except DecodeError as err:
        return err


def test_the_encrypted_case_is_genuine() -> None:
    reply = open_response(DEFAULT_MAK, RC4_REQUEST, RC4_MESSAGE)
    assert reply.code == ResponseCode.OK
    assert len(read_data(reply, 220)) == 220


@FUZZ
@given(st.binary(max_size=MAX_MESSAGE + 20), st.sampled_from(CASES))
def test_random_messages_are_rejected(message: bytes, case: tuple[Request, bytes]) -> None:
    result = open_any(case[0], message)
    if isinstance(result, Reply):
        # Only a clear 0B can pass unverified, and it carries no data.
        assert not result.verified
        assert (result.code, result.data, len(message)) == (0x0B, b"", MIN_RESPONSE)
    else:
        assert isinstance(result, DecodeError)
        assert isinstance(result.raw, bytes)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Request, bytes, bytes]:
    request, message = draw(st.sampled_from(CASES))
    buffer = bytearray(message)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        position = draw(st.integers(0, max(0, len(buffer) - 1)))
        if kind == "flip" and buffer:
            buffer[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and buffer:
            buffer[position] = draw(st.integers(0, 255))
        elif kind == "cut":
            del buffer[position:]
        elif kind == "insert":
            buffer[position:position] = draw(st.binary(min_size=1, max_size=4))
        elif buffer:
            del buffer[position]
    return request, message, bytes(buffer)


@FUZZ
@given(mutated())
def test_mutated_replies_never_pass_as_data(case: tuple[Request, bytes, bytes]) -> None:
    request, original, damaged = case
    # The table bytes the genuine reply carries (after its two-byte count).
    expected_count = len(open_response(DEFAULT_MAK, request, original).data) - 2
    result = open_any(request, damaged)
    if damaged == original:
        assert isinstance(result, Reply)
        assert result.verified
    elif isinstance(result, Reply) and not result.verified:
        assert result.data == b""  # a cut-down clear 0B; never data
    elif isinstance(result, Reply):
        # The guide's digest pads the message with zero bytes, so a reply that lost (or
        # gained) trailing zeros keeps its digest; the read's byte count catches it.
        with pytest.raises(ByteCountError):
            read_data(result, expected_count, damaged)
    else:
        assert isinstance(result, DecodeError)
        assert isinstance(result.raw, bytes)


@FUZZ
@given(st.lists(st.binary(max_size=80), max_size=20))
def test_assembler_accounts_for_every_byte(chunks: list[bytes]) -> None:
    assembler = FrameAssembler()
    messages: list[bytes] = []
    for chunk in chunks:
        messages += assembler.feed(chunk)
    for message in messages:
        assert MIN_RESPONSE <= len(message) <= MAX_MESSAGE
    accounted = (
        sum(len(m) + LENGTH_SIZE for m in messages)
        + assembler.discarded
        + assembler.pending
        + LENGTH_SIZE * assembler.alerts
    )
    assert accounted == sum(len(chunk) for chunk in chunks)


@FUZZ
@given(st.binary(max_size=40), st.integers(1, 40))
def test_byte_counts(data: bytes, expected: int) -> None:
    try:
        table = read_data(Reply(0, data), expected)
    except DecodeError:
        return
    assert len(table) == expected
    assert data == expected.to_bytes(2, "big") + table
