"""The fast body path gives exactly what the `Data` path gives, or steps aside."""

from __future__ import annotations

import contextlib
import json
import random

import pytest

from custom_components.energy_gateway.meterlib.dlms import decode_message, decoder as dlms_decoder
from custom_components.energy_gateway.meterlib.dlms.notification import (
    parse_notifications,
    read_body,
    read_notifications,
)
from custom_components.energy_gateway.meterlib.errors import DecodeError

from .dlms_fixtures import DLMS, NO_KEY, SIMPLE_BODY, VECTORS, notification, wire

NAMES = [entry["id"] for entry in json.loads((DLMS / "dlms_vectors.json").read_text())]
FAST = (
    "at_netznoe_kaifa_ma309m_evn_doc_example",
    "hdlc_kamstrup_omnipower",
    "hdlc_norway_han_3phase",
)


def _slow(data: bytes) -> object:
    try:
        return [(note.date_time, read_body(note.body)) for note in parse_notifications(data)]
    except DecodeError as err:
        return type(err), str(err)


def _capture(name: str) -> tuple[bytes, bytes | None, bytes | None]:
    if name in NO_KEY:
        return wire(name), None, None
    vector = VECTORS[name]
    return vector.data, vector.key, vector.auth_key


def _plaintexts(name: str, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    seen: list[bytes] = []

    def record(data: bytes) -> object:
        seen.append(bytes(data))
        return read_notifications(data)

    data, key, auth_key = _capture(name)
    with monkeypatch.context() as patch:
        patch.setattr(dlms_decoder, "read_notifications", record)
        with contextlib.suppress(DecodeError):
            decode_message(data, key=key, auth_key=auth_key)
    return seen


def test_every_vector_is_covered() -> None:
    assert set(NAMES) <= set(VECTORS) | set(NO_KEY)
    assert set(FAST) <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_fast_and_data_path_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data, key, auth_key = _capture(name)

    def decode() -> object:
        try:
            return decode_message(data, key=key, auth_key=auth_key)
        except DecodeError as err:
            return type(err), str(err)

    fast = decode()
    with monkeypatch.context() as patch:
        patch.setattr(dlms_decoder, "read_notifications", lambda _data: None)
        slow = decode()
    assert fast == slow
    for plain in _plaintexts(name, monkeypatch):
        found = read_notifications(plain)
        if name in FAST:
            assert found is not None
        if found is not None:
            assert list(found) == _slow(plain)


@pytest.mark.parametrize("name", NAMES)
def test_mutated_bodies_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any byte changed or the end cut: the fast path agrees with the `Data` path or steps aside."""
    rng = random.Random(name)
    for plain in _plaintexts(name, monkeypatch):
        for cut in range(len(plain)):
            found = read_notifications(plain[:cut])
            if found is not None:
                assert list(found) == _slow(plain[:cut])
        for _ in range(400):
            mutated = bytearray(plain)
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            found = read_notifications(bytes(mutated))
            if found is not None:
                assert list(found) == _slow(bytes(mutated))


def test_synthetic_body() -> None:
    data = notification(SIMPLE_BODY)
    found = read_notifications(data)
    assert found is not None
    assert list(found) == _slow(data)
