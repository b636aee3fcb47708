"""The fast body path gives exactly what the `Data` path gives, or steps aside."""

from __future__ import annotations

import contextlib
import json
import random
import struct

import pytest

from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.dlms import (
    decode_message,
    decoder as dlms_decoder,
    fastpath,
)
from custom_components.energy_gateway.meterlib.dlms.fastpath import read_notifications
from custom_components.energy_gateway.meterlib.dlms.notification import (
    parse_notifications,
    read_body,
)

from .dlms_fixtures import (
    DLMS,
    NO_KEY,
    SIMPLE_BODY,
    VECTORS,
    decode_both_paths,
    notification,
    obis,
    scaler_unit,
    simulated_pushes,
    structure,
    wire,
)

RECORDED = [entry["id"] for entry in json.loads((DLMS / "dlms_vectors.json").read_text())]
SIMULATED = simulated_pushes()
"""Layouts no recorded vector has: push-object lists (the fast path steps aside for them)
and Netz Burgenland's positional lists."""
NAMES = RECORDED + list(SIMULATED)
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
    if name in SIMULATED:
        push = SIMULATED[name]
        return push.data, push.key, push.auth_key
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
    assert set(RECORDED) <= set(VECTORS) | set(NO_KEY)
    assert set(FAST) <= set(NAMES)
    for push in SIMULATED.values():
        snapshot = decode_message(push.data, key=push.key, auth_key=push.auth_key)
        assert {code: (r.value, r.unit) for code, r in snapshot.readings.items()} == push.values
        assert snapshot.meter_id == push.meter_id


@pytest.mark.parametrize("name", NAMES)
def test_fast_and_data_path_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data, key, auth_key = _capture(name)
    decode_both_paths(data, monkeypatch, key=key, auth_key=auth_key)
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


def _value_bytes(data: bytes) -> list[int]:
    """Positions in `data` that its remembered shapes treat as values, not structure."""
    positions: list[int] = []
    for (remaining, _), shapes in fastpath._SHAPES.items():
        start = len(data) - remaining
        for shape in shapes:
            mask = shape.mask.to_bytes(shape.size, "big")
            positions += [start + at for at, byte in enumerate(mask) if not byte]
    return sorted(set(positions))


PUSH_LISTS = [name for name in SIMULATED if name.startswith("sim_push_list")]
"""Read by their own fast path (the list remembered), not by shapes."""


@pytest.mark.parametrize("name", [name for name in NAMES if name not in PUSH_LISTS])
def test_shapes_read_what_the_walk_reads(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Values changed anywhere a shape reads them: the shape answers as the `Data` path does.

    Many changes fall in clock fields and land on invalid or printable dates, so this also
    covers the shape handing a body back to the walk.
    """
    rng = random.Random(f"shape {name}")
    for plain in _plaintexts(name, monkeypatch):
        fastpath._SHAPES.clear()
        if read_notifications(plain) is None:
            assert not fastpath._SHAPES
            continue
        values = _value_bytes(plain)
        assert values
        for _ in range(300):
            mutated = bytearray(plain)
            for at in rng.sample(values, min(len(values), rng.randrange(1, 6))):
                mutated[at] = rng.randrange(256)
            found = read_notifications(bytes(mutated))
            assert found is not None
            assert list(found) == _slow(bytes(mutated))


def test_a_repeated_list_is_read_from_its_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _plaintexts("at_netznoe_kaifa_ma309m_evn_doc_example", monkeypatch)[0]
    walks: list[int] = []
    walk = fastpath._walk_body

    def counted(data: bytes, pos: int, slots: list[fastpath._Slot]) -> object:
        walks.append(pos)
        return walk(data, pos, slots)

    monkeypatch.setattr(fastpath, "_walk_body", counted)
    fastpath._SHAPES.clear()
    first = read_notifications(plain)
    later = bytearray(plain)
    energy = plain.index(bytes.fromhex("0100010800ff")) + 7  # the import counter's value
    later[energy : energy + 4] = (12938).to_bytes(4, "big")
    second = read_notifications(bytes(later))
    assert first is not None
    assert second is not None
    assert len(walks) == 1
    assert first[0][1].readings["1-0:1.8.0"].value == 12937.0
    assert second[0][1].readings["1-0:1.8.0"].value == 12938.0
    assert list(second) == _slow(bytes(later))
    # A structure byte changed (the scaler of the import counter): walked again.
    later[energy + 7] = 0x01
    third = read_notifications(bytes(later))
    assert len(walks) == 2
    assert third is not None
    assert third[0][1].readings["1-0:1.8.0"].value == 129380.0


def test_shapes_stay_bounded() -> None:
    def pushed(tariff: int, padding: int) -> bytes:
        code = bytes((1, 0, 1, 8, tariff, 0xFF))
        body = bytes((0x02, 0x02, 0x09, 0x06)) + code + b"\x06" + (7).to_bytes(4, "big")
        return notification(body) + bytes(padding)  # padding: a different key each time

    fastpath._SHAPES.clear()
    for padding in range(200):
        found = read_notifications(pushed(0, padding))
        assert (found is None) == (padding > 0)  # padding is no notification
    assert len(fastpath._SHAPES) == fastpath._MAX_SHAPE_KEYS
    for tariff in range(20):  # one key, twenty structures
        read_notifications(pushed(tariff, 0))
    assert all(len(shapes) <= fastpath._SHAPES_PER_KEY for shapes in fastpath._SHAPES.values())
    newest = fastpath._SHAPES[next(reversed(fastpath._SHAPES))]
    assert len(newest) == fastpath._SHAPES_PER_KEY


def test_shapes_of_every_number_kind() -> None:
    """Floats, signed and 64-bit numbers, scaled up and down, read twice: walked, then shaped."""

    def body(seed: int) -> bytes:
        return structure(
            structure(
                obis("1-0:1.8.0"), b"\x17" + struct.pack(">f", 1.5 * seed), scaler_unit(0, 30)
            ),
            structure(
                obis("1-0:2.8.0"), b"\x18" + struct.pack(">d", -2.25 * seed), scaler_unit(3, 30)
            ),
            structure(
                obis("1-0:1.7.0"), b"\x10" + struct.pack(">h", -7 * seed), scaler_unit(2, 27)
            ),
            structure(
                obis("1-0:3.8.0"), b"\x14" + struct.pack(">q", 9 * seed), scaler_unit(-3, 32)
            ),
            structure(obis("1-0:13.7.0"), b"\x0f" + struct.pack(">b", -seed), scaler_unit(-2, 255)),
        )

    fastpath._SHAPES.clear()
    for seed in (1, 2, 3):
        data = notification(body(seed))
        found = read_notifications(data)
        assert found is not None
        assert list(found) == _slow(data)
    assert sum(len(shapes) for shapes in fastpath._SHAPES.values()) == 1
    readings = found[0][1].readings
    assert readings["1-0:1.8.0"].value == 4.5
    assert readings["1-0:2.8.0"].value == -6750.0
    assert readings["1-0:1.7.0"].value == -2100.0
    assert readings["1-0:13.7.0"].value == -0.03


@pytest.mark.parametrize("name", PUSH_LISTS)
def test_push_lists_read_fast_as_the_data_path_does(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push-object list is parsed once and remembered; any value byte after it changed,
    or the body cut short, gives what the `Data` path gives, or the fast path steps aside."""
    (plain,) = _plaintexts(name, monkeypatch)
    parsed: list[int] = []
    parse = fastpath.push_objects

    def counted(array: object) -> object:
        parsed.append(1)
        return parse(array)  # type: ignore[arg-type]

    monkeypatch.setattr(fastpath, "push_objects", counted)
    fastpath._PUSH_LISTS.clear()
    first = read_notifications(plain)
    assert first is not None
    assert list(first) == _slow(plain)
    body = plain.index(b"\x01", len(notification(b"")))  # the push-object list's array
    values_start = body + 2 + plain[body + 1] * 18
    rng = random.Random(name)
    agreed = 0
    for _ in range(300):
        mutated = bytearray(plain)
        at = rng.randrange(values_start, len(plain))
        mutated[at] = rng.randrange(256)
        found = read_notifications(bytes(mutated))
        if found is not None:
            assert list(found) == _slow(bytes(mutated))
            agreed += 1
    assert agreed > 100  # most changes hit numbers: read fast, not handed back
    assert len(parsed) == 1
    for cut in range(body, len(plain)):
        found = read_notifications(plain[:cut])
        if found is not None:
            assert list(found) == _slow(plain[:cut])
