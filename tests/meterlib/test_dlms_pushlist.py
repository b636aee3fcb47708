"""Lists that carry their own push-object list, Netz Burgenland's positional lists, lists the
decoder does not understand, and per-code multipliers.

Frames come from the DLMS simulator with fresh keys, and go through `DlmsDecoder` as a
stream and through the command line; every value is checked against what the simulator
sent. The regression of the issue: a push-object list must never yield a reading named
after the push setup (0-b:25.9.e).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import re
import secrets

import pytest

from custom_components.energy_gateway.meterlib.core.errors import (
    DecodeError,
    UnsupportedListError,
)
from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.dlms import (
    DlmsDecoder,
    decode_message,
    lists,
)
from simulators.dlms_meter import (
    BURGENLAND_CODES,
    PUSH_LIST_CODES,
    SimulatedBurgenlandMeter,
    SimulatedPushListMeter,
    hdlc_block_frames,
)

from .conftest import feed_in_chunks, run_cli
from .dlms_fixtures import (
    CEST,
    LLC,
    decode_both_paths,
    hdlc_frame,
    notification,
    obis,
    octets,
    scaler_unit,
    structure,
    u16,
    u32,
)

START = datetime(2024, 6, 12, 6, 0, tzinfo=UTC)
PUSH_SETUP = re.compile(r"0-\d+:25\.9\.\d+")

type Meter = SimulatedPushListMeter | SimulatedBurgenlandMeter
type Keys = tuple[bytes | None, bytes | None]


def fresh_keys(security: str) -> Keys:
    """No key (plain), an encryption key only (0x20), or both keys (0x30 with a GCM tag)."""
    if security == "plain":
        return None, None
    if security == "0x20":
        return secrets.token_bytes(16), None
    return secrets.token_bytes(16), secrets.token_bytes(16)


METERS: dict[str, Callable[[bytes | None, bytes | None], Meter]] = {
    "push-list": lambda key, auth: SimulatedPushListMeter(key=key, auth_key=auth, seed=1),
    "push-list 0-8 with meter number": lambda key, auth: SimulatedPushListMeter(
        key=key, auth_key=auth, meter_number="CH1234567890", push_setup="0-8:25.9.0", seed=2
    ),
    "burgenland-11": lambda key, auth: SimulatedBurgenlandMeter(key=key, auth_key=auth, seed=3),
    "burgenland-14": lambda key, auth: SimulatedBurgenlandMeter(
        key=key, auth_key=auth, extended=True, seed=4
    ),
}
VARIANTS = {
    "push-list": "push-object-list",
    "push-list 0-8 with meter number": "push-object-list",
    "burgenland-11": "netz-burgenland",
    "burgenland-14": "netz-burgenland-14",
}


def check(snapshot: Snapshot, meter: Meter) -> None:
    """The snapshot says exactly what the simulator sent, value by value."""
    assert {code: r.value for code, r in snapshot.readings.items()} == meter.reported
    assert {code: r.unit for code, r in snapshot.readings.items()} == meter.units
    assert snapshot.meter_id == meter.meter_id
    assert snapshot.header == "Landis+Gyr"
    assert snapshot.timestamp is not None
    assert not any(PUSH_SETUP.fullmatch(code) for code in snapshot.readings)


@pytest.mark.parametrize("security", ["plain", "0x20", "0x30"])
@pytest.mark.parametrize("kind", list(METERS))
def test_stream_of_pushes_value_by_value(kind: str, security: str) -> None:
    """Ten pushes, cut into odd chunks, each decoded to what the meter sent."""
    key, auth_key = fresh_keys(security)
    meter = METERS[kind](key, auth_key)
    decoder = DlmsDecoder(key=key, auth_key=auth_key)
    for index in range(10):
        data = meter.frames(START + timedelta(seconds=5 * index))
        results = feed_in_chunks(decoder, data, [3 + index, 17, 1])
        assert len(results) == 1
        (snapshot,) = results
        assert isinstance(snapshot, Snapshot), snapshot
        check(snapshot, meter)
        assert snapshot.encrypted == (key is not None)
        assert snapshot.variant == VARIANTS[kind]
        assert snapshot.format == "hdlc-dlms"
    assert decoder.replays == 0
    frame = decoder.last_frame
    assert frame is not None
    assert frame.tag_verified == (auth_key is not None)
    if key is not None:
        assert frame.security_control == (0x30 if auth_key else 0x20)
        assert frame.manufacturer == "Landis+Gyr"


def test_push_list_values_and_identity() -> None:
    meter = SimulatedPushListMeter(seed=9)
    snapshot = decode_message(meter.frames(START))
    assert list(snapshot.readings) == ["0-0:42.0.0", *PUSH_LIST_CODES]
    assert snapshot.meter_id == "LGZ1030655933512"  # the logical device name
    readings = snapshot.readings
    assert readings["1-1:1.8.0"].unit == "Wh"
    assert readings["1-0:31.7.0"].unit == "A"
    assert readings["1-0:31.7.0"].value == meter.reported["1-0:31.7.0"]
    assert isinstance(readings["1-0:31.7.0"].value, float)
    assert round(readings["1-0:31.7.0"].value * 100) == readings["1-0:31.7.0"].value * 100
    numbered = SimulatedPushListMeter(meter_number="CH000111", seed=9)
    assert decode_message(numbered.frames(START)).meter_id == "CH000111"  # 0-0:96.1.0 first


def test_burgenland_values_and_identity() -> None:
    key, auth_key = fresh_keys("0x30")
    meter = SimulatedBurgenlandMeter(key=key, auth_key=auth_key, extended=True, seed=5)
    snapshot = decode_message(meter.frames(START), key, auth_key)
    assert list(snapshot.readings) == [*BURGENLAND_CODES, "0-0:96.1.0"]
    assert snapshot.meter_id == "30052002"
    units = {code: reading.unit for code, reading in snapshot.readings.items()}
    assert units["1-0:32.7.0"] == "V"
    assert units["1-0:71.7.0"] == "A"
    assert units["1-0:2.7.0"] == "W"
    assert units["1-0:1.8.0"] == "Wh"
    # Without the authentication key the tag is not checked, the values are the same.
    assert decode_message(meter.frames(START + timedelta(seconds=5)), key).readings.keys() == (
        snapshot.readings.keys()
    )
    with pytest.raises(DecodeError, match="no key"):
        decode_message(meter.frames(START + timedelta(seconds=10)))


@pytest.mark.parametrize("kind", ["push-list 0-8 with meter number", "burgenland-14"])
def test_cli_decodes_both_forms(kind: str, tmp_path: Path) -> None:
    key, auth_key = fresh_keys("0x30")
    assert key is not None
    assert auth_key is not None
    meter = METERS[kind](key, auth_key)
    capture = tmp_path / "push.hex"
    capture.write_text(meter.frames(START).hex().upper())
    result = run_cli("decode", "--key", key.hex(), "--auth-key", auth_key.hex(), str(capture))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    obj = json.loads(line)
    assert obj["format"] == "hdlc-dlms"
    assert obj["meter_id"] == meter.meter_id
    sent = {item["obis"]: (item["value"], item["unit"]) for item in obj["readings"]}
    assert sent == {code: (value, meter.units[code]) for code, value in meter.reported.items()}


def test_cli_reports_an_unsupported_list(tmp_path: Path) -> None:
    capture = tmp_path / "unknown.hex"
    body = structure(u16(230), u16(231), u32(5), octets(b"A1"))
    capture.write_text(hdlc_frame(LLC + notification(body)).hex())
    result = run_cli("decode", str(capture))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: UnsupportedListError: unknown list without OBIS")
    assert "structure(4): long-unsigned x2, double-long-unsigned, octet-string" in result.stderr


# --- the regression: never a reading named after the push setup ----------------------------


def _entry(class_id: int, code: str, attribute: int) -> bytes:
    return structure(u16(class_id), obis(code), b"\x0f" + bytes((attribute,)), u16(0))


def _push_list(*entries: bytes) -> bytes:
    return b"\x01" + bytes((len(entries),)) + b"".join(entries)


def _wire(body: bytes) -> bytes:
    return hdlc_block_frames(notification(body))


def test_the_misattribution_of_the_issue() -> None:
    """Push list, the setup's logical name, the logical device name: once decoded as
    {0-8:25.9.0: "LGZ..."} without meter id; now the name is 0-0:42.0.0 and names the meter."""
    body = structure(
        _push_list(
            _entry(40, "0-8:25.9.0", 2), _entry(40, "0-8:25.9.0", 1), _entry(1, "0-0:42.0.0", 2)
        ),
        octets(bytes.fromhex("0008190900FF")),
        octets(b"LGZ1030655933512"),
    )
    snapshot = decode_message(_wire(body))
    assert {code: r.value for code, r in snapshot.readings.items()} == {
        "0-0:42.0.0": "LGZ1030655933512"
    }
    assert snapshot.meter_id == "LGZ1030655933512"
    assert snapshot.variant == "push-object-list"


def _register_list(count: int = 3) -> tuple[bytes, list[bytes]]:
    entries = [_entry(40, "0-0:25.9.0", 2), _entry(40, "0-0:25.9.0", 1)]
    values = [octets(bytes.fromhex("0000190900FF"))]
    for index in range(count):
        entries.append(_entry(3, f"1-0:{(1, 2, 32)[index % 3]}.{(8, 8, 7)[index % 3]}.0", 2))
        values.append(u32(1000 + index))
    return _push_list(*entries), values


@pytest.mark.parametrize(
    ("mangle", "why"),
    [
        (lambda lst, values: structure(lst, *values[:-1]), "entries for"),
        (lambda lst, values: structure(lst, *values, u32(1)), "entries for"),
        (
            lambda lst, values: structure(
                _push_list(_entry(1, "0-0:42.0.0", 2), *_split(lst)[1:]), *values
            ),
            "does not open with the push setup",
        ),
        (
            lambda lst, values: structure(
                lst[:-3] + b"\x10\x00\x00", *values
            ),  # data index: a long
            "malformed push-object list",
        ),
        (
            lambda lst, values: structure(
                _push_list(
                    *[e.replace(b"\x01\x00\x01\x08", b"\x07\x00\x01\x08") for e in _split(lst)]
                ),
                *values,
            ),
            "names nothing",
        ),
    ],
)
def test_a_misshapen_push_list_is_unsupported(
    mangle: Callable[[bytes, list[bytes]], bytes], why: str
) -> None:
    push_list, values = _register_list(1)
    data = _wire(mangle(push_list, values))
    (result,) = DlmsDecoder().feed(data)
    assert isinstance(result, UnsupportedListError), result
    assert why in str(result)
    assert result.raw == data
    assert result.shape.startswith("structure(")
    assert result.shape in str(result)
    assert result.frame is not None
    assert result.frame.framing == "hdlc"


def _split(push_list: bytes) -> list[bytes]:
    """The entries of a push list built by `_push_list` (each 18 bytes)."""
    return [push_list[pos : pos + 18] for pos in range(2, len(push_list), 18)]


def test_no_mutation_of_a_push_list_names_the_push_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every byte of a push-object-list body changed to each of a few values: whatever comes
    out, no reading is named after a push setup, and the fast path agrees."""
    push_list, values = _register_list(3)
    apdu = notification(structure(push_list, *values))
    body_start = len(notification(b""))
    for pos in range(body_start, len(apdu)):
        for byte in (0x00, 0x01, 0x02, 0x06, 0x09, 0x19, 0x28, 0xFF):
            mutated = apdu[:pos] + bytes((byte,)) + apdu[pos + 1 :]
            outcome = decode_both_paths(mutated, monkeypatch)
            if isinstance(outcome, Snapshot):
                assert not any(PUSH_SETUP.fullmatch(code) for code in outcome.readings), pos


def test_a_push_setup_name_is_never_an_obis_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the other layouts too: (0-0:25.9.0, value) pairs and structures are not read."""
    pairs = structure(
        obis("0-0:25.9.0"), octets(b"LGZ1"), obis("1-0:1.8.0"), u32(5), obis("0-9:25.9.0")
    )
    triples = structure(
        structure(obis("0-0:25.9.0"), u32(1), scaler_unit(0, 30)),
        structure(obis("1-0:2.8.0"), u32(6), scaler_unit(0, 30)),
    )
    for body in (pairs, triples):
        snapshot = decode_both_paths(notification(body), monkeypatch)
        assert isinstance(snapshot, Snapshot)
        assert not any(PUSH_SETUP.fullmatch(code) for code in snapshot.readings)
        assert len(snapshot.readings) == 1
    # A number after a push setup's name is a number without code: the list is unsupported.
    numbered = structure(obis("1-0:1.8.0"), u32(5), obis("0-9:25.9.0"), u32(7))
    outcome = decode_both_paths(notification(numbered), monkeypatch)
    assert isinstance(outcome, tuple)
    assert outcome[0] is UnsupportedListError


def test_scaler_units_in_the_list_and_registers_of_unknown_scale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A list that pushes a register's attribute 3 scales it by that; a register whose scale
    is neither in the list nor in the default table (power factor) is left out."""
    body = structure(
        _push_list(
            _entry(40, "0-0:25.9.0", 2),
            _entry(3, "1-0:31.7.0", 2),
            _entry(3, "1-0:31.7.0", 3),
            _entry(3, "1-0:13.7.0", 2),
            _entry(1, "0-0:96.14.0", 2),
            _entry(8, "0-0:1.0.0", 2),
        ),
        u16(1234),
        scaler_unit(-3, 33),
        u16(998),
        b"\x11\x02",
        octets(bytes.fromhex("07E8060C030C1E0000FF8880")),
    )
    snapshot = decode_both_paths(notification(body), monkeypatch)
    assert isinstance(snapshot, Snapshot)
    assert {code: (r.value, r.unit) for code, r in snapshot.readings.items()} == {
        "1-0:31.7.0": (1.234, "A"),
        "0-0:96.14.0": (2, None),
        "0-0:1.0.0": (datetime(2024, 6, 12, 12, 30, tzinfo=CEST), None),
    }


def test_unknown_positional_list_through_the_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list of unknown shape: an UnsupportedListError with the frame and the shape, from
    the stream decoder as from decode_message, with the fast path or without."""
    body = structure(u16(230), u16(231), u16(229), u32(1), u32(2), octets(b"12345"))
    data = hdlc_frame(LLC + notification(body))
    (result,) = DlmsDecoder().feed(data)
    assert isinstance(result, UnsupportedListError)
    assert result.raw == data
    assert result.shape == "structure(6): long-unsigned x3, double-long-unsigned x2, octet-string"
    assert decode_both_paths(notification(body), monkeypatch) == (UnsupportedListError, str(result))
    # The Burgenland shape with one value of another type is not Netz Burgenland's list.
    meter = SimulatedBurgenlandMeter(seed=1)
    meter.frames(START)
    changed = bytearray(meter.plaintext)
    first = changed.index(b"\x12", len(notification(b"")))
    changed[first] = 0x10  # long instead of long-unsigned
    outcome = decode_both_paths(bytes(changed), monkeypatch)
    assert isinstance(outcome, tuple)
    assert outcome[0] is UnsupportedListError


# --- multipliers and diagnostics ---------------------------------------------------------------


def test_multipliers_correct_one_quantity() -> None:
    meter = SimulatedBurgenlandMeter(seed=2)
    data = meter.frames(START)
    plain = decode_message(data)
    corrected = decode_message(data, multipliers={"1-0:31.7.0": 10, "1-0:32.7.0": 0.1})
    amps, volts = meter.reported["1-0:31.7.0"], meter.reported["1-0:32.7.0"]
    assert isinstance(amps, float)
    assert isinstance(volts, float)
    assert corrected.value("1-0:31.7.0") == round(amps * 10, 6)
    assert corrected.value("1-0:32.7.0") == round(volts / 10, 6)
    assert corrected.readings["1-0:32.7.0"].unit == "V"
    untouched = set(plain.readings) - {"1-0:31.7.0", "1-0:32.7.0"}
    assert all(corrected.readings[code] == plain.readings[code] for code in untouched)
    # A code the list lacks, or text, is left as it is.
    other = decode_message(data, multipliers={"1-0:13.7.0": 2, "0-0:96.1.0": 2})
    assert other.readings == plain.readings


@pytest.mark.parametrize(
    "multipliers",
    [{"1-0:31.7.0": 0}, {"1-0:31.7.0": float("nan")}, {"31.7.0": 2}, {"1-0:31.7.0": True}],
)
def test_bad_multipliers(multipliers: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="multiplier"):
        DlmsDecoder(multipliers=multipliers)


def test_diagnostics_show_the_layout_scales_and_multipliers() -> None:
    decoder = DlmsDecoder(multipliers={"1-0:31.7.0": 0.1})
    assert decoder.diagnostics()["multipliers"] == {"1-0:31.7.0": 0.1}
    (snapshot,) = decoder.feed(SimulatedPushListMeter(seed=3).frames(START))
    assert isinstance(snapshot, Snapshot)
    details = decoder.diagnostics()
    assert details["layout"] == "push-object-list"
    scales = details["default_scales"]
    assert isinstance(scales, dict)
    assert scales["1-0:31.7.0"] == "10^-2 A"
    assert scales["1-0:1.8.0"] == "10^0 Wh"
    assert set(scales) == set(lists.PUSH_LIST_SCALES)
    (snapshot,) = decoder.feed(SimulatedBurgenlandMeter(seed=3).frames(START))
    assert isinstance(snapshot, Snapshot)
    assert decoder.diagnostics()["layout"] == "netz-burgenland"
    assert "default_scales" not in decoder.diagnostics()
