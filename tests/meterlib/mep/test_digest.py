"""The authentication digest and RC4 against the guide's worked examples."""

from __future__ import annotations

import warnings

import pytest

from custom_components.energy_gateway.meterlib.mep.cipher import (
    encryption_base_key,
    packet_cipher,
    reply_cipher,
)
from custom_components.energy_gateway.meterlib.mep.digest import (
    DigestState,
    continue_digest,
    digest_update,
    request_digest,
    request_state,
    response_digest,
)

from .vectors import DEFAULT_MAK, Exchange, guide_exchanges, keyed_exchanges

KEYED = keyed_exchanges()


def test_seven_keyed_examples_are_there() -> None:
    assert len(KEYED) == 7  # 14 digests


@pytest.mark.parametrize("exchange", KEYED, ids=lambda e: e.name[:40])
def test_request_digest_of_the_guide(exchange: Exchange) -> None:
    assert exchange.key is not None
    assert request_digest(exchange.key, exchange.request_body) == exchange.request[-8:]


@pytest.mark.parametrize("exchange", KEYED, ids=lambda e: e.name[:40])
def test_response_digest_of_the_guide(exchange: Exchange) -> None:
    assert exchange.key is not None
    expected = exchange.response[-8:]
    assert response_digest(exchange.key, exchange.request_body, exchange.response_body) == expected
    # The guide's first method: keep the request's unfinished state, continue from it.
    state = request_state(exchange.key, exchange.request_body)
    assert continue_digest(exchange.key, state, exchange.response_body) == expected


def test_bare_ok_reply_repeats_the_request_digest() -> None:
    write = next(e for e in KEYED if "ET50" in e.name)
    assert write.response_body == b"\x00"
    assert write.response[-8:] == write.request[-8:]


def test_digest_in_pieces_equals_digest_at_once() -> None:
    """The state (key index, bit index) lets a long message be digested piecewise."""
    body = bytes(range(200))
    for cut in (0, 1, 7, 24, 25, 199):
        state = DigestState.fresh()
        digest_update(DEFAULT_MAK, body[:cut], state, end=False)
        digest_update(DEFAULT_MAK, body[cut:], state, end=True)
        assert bytes(state.value) == request_digest(DEFAULT_MAK, body), cut


def test_the_unkeyed_example_fails_with_the_default_key() -> None:
    unknown = next(e for e in guide_exchanges() if e.key is None)
    assert request_digest(DEFAULT_MAK, unknown.request_body) != unknown.request[-8:]


def test_rc4_round_trip_and_reply_stream() -> None:
    base = encryption_base_key(DEFAULT_MAK)
    assert len(base) == 16
    body = KEYED[1].request_body
    digest = request_digest(DEFAULT_MAK, body)
    stream = packet_cipher(base, digest)
    sent = stream.update(body)
    assert sent != body
    assert packet_cipher(base, digest).update(sent) == body
    # The meter continues the request's keystream for its reply; so does reply_cipher.
    reply = KEYED[1].response_body
    on_wire = stream.update(reply)
    assert reply_cipher(base, digest, len(body)).update(on_wire) == reply
    # Another digest gives another keystream.
    assert packet_cipher(base, bytes(8)).update(body) != sent


def test_rc4_raises_no_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        packet_cipher(encryption_base_key(DEFAULT_MAK), bytes(8)).update(b"x")
