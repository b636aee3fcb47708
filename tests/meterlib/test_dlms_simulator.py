"""Simulated DLMS meters: byte-exact M-Bus and HDLC frames whose values move like a home's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import math

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
import pytest

from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.dlms import DlmsDecoder, decode_message
from simulators.dlms_meter import (
    AIDON_CODES,
    AIDON_LIST_VERSION,
    BURGENLAND_CODES,
    NETZNOE_CODES,
    NETZNOE_SYSTEM_TITLE,
    PUSH_LIST_CODES,
    VIENNA,
    NetzNoeValues,
    SimulatedBurgenlandMeter,
    SimulatedHdlcMeter,
    SimulatedMbusMeter,
    SimulatedPushListMeter,
    axdr_length,
    cosem_date_time,
    data_notification,
    gbt_blocks,
    glo_ciphered,
    hdlc_frames,
    mbus_frames,
    netznoe_notification,
)

from .conftest import FIXTURES

KEY = bytes.fromhex("36C66639E48A8CA4D6BC8B282A793BBB")
DLMS = FIXTURES / "dlms"
START = datetime(2024, 6, 12, 0, 0, tzinfo=UTC)


def crc16_x25(data: bytes) -> int:
    """Bit-by-bit CRC-16/X.25, independent of the library's table version."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def vector(name: str) -> bytes:
    """The wire bytes of one recorded DLMS vector."""
    path = DLMS / f"{name}.hex"
    if not path.exists():  # the layout of dlms_vectors' own directory
        path = DLMS / "hex" / f"{name}.hex"
    return bytes.fromhex(path.read_text().strip())


def split_mbus(data: bytes) -> list[bytes]:
    """Check every M-Bus long frame's envelope and checksum; return the frames' bodies."""
    bodies = []
    pos = 0
    while pos < len(data):
        assert data[pos] == 0x68
        assert data[pos + 3] == 0x68
        length = data[pos + 1]
        assert data[pos + 2] == length
        body = data[pos + 4 : pos + 4 + length]
        assert data[pos + 4 + length] == sum(body) & 0xFF
        assert data[pos + 5 + length] == 0x16
        bodies.append(body)
        pos += length + 6
    return bodies


def split_hdlc(data: bytes) -> list[tuple[int, bytes, int, bytes]]:
    """Check every HDLC frame's flags, length, HCS and FCS; return (format, addresses,
    control, information) per frame."""
    frames = []
    pos = 0
    while pos < len(data):
        assert data[pos] == 0x7E
        format_field = int.from_bytes(data[pos + 1 : pos + 3], "big")
        assert format_field >> 12 == 0xA
        length = format_field & 0x7FF
        frame = data[pos + 1 : pos + 1 + length]
        assert data[pos + 1 + length] == 0x7E
        assert int.from_bytes(frame[-2:], "little") == crc16_x25(frame[:-2])
        # Destination 41, source 08 83: the low bit ends each address.
        assert frame[2:5] == b"\x41\x08\x83"
        control = frame[5]
        assert int.from_bytes(frame[6:8], "little") == crc16_x25(frame[:6])
        frames.append((format_field, frame[2:5], control, frame[8:-2]))
        pos += length + 2
    return frames


def run[M: (SimulatedMbusMeter, SimulatedHdlcMeter)](
    meter: M, step: timedelta, count: int
) -> Iterator[bytes]:
    for index in range(count):
        yield meter.frames(START + index * step)


# -- the frame builders reproduce recorded meters byte for byte ---------------------------------


def test_netznoe_vector_rebuilt() -> None:
    """The Netz NÖ customer-interface example: same values, counter and key give its bytes."""
    values = dict.fromkeys(NETZNOE_CODES, 0.0)
    values.update({"1-0:1.8.0": 12937.0, "1-0:32.7.0": 233.7, "1-0:13.7.0": 1.0})
    local = datetime(2021, 9, 27, 9, 47, 15, tzinfo=VIENNA)
    plaintext, reported, units = netznoe_notification(
        NetzNoeValues(local, values, "181220000009"), 0x8006870E
    )
    assert len(plaintext) == 243
    apdu = glo_ciphered(plaintext, key=KEY, system_title=b"KFMgP\x00\x00\x09", frame_counter=0x23)
    assert apdu[10:13] == b"\x81\xf8\x20"
    assert mbus_frames(apdu) == vector("at_netznoe_kaifa_ma309m_evn_doc_example")
    assert reported["1-0:32.7.0"] == 233.7
    assert reported["0-0:96.1.0"] == "181220000009"
    assert units["1-0:1.8.0"] == "Wh"
    assert units["1-0:13.7.0"] is None


@pytest.mark.parametrize(
    ("name", "size"),
    [("hdlc_norway_han_3phase", None), ("hdlc_norway_han_1phase", None), ("hdlc_iskra550", 154)],
)
def test_hdlc_vectors_rebuilt(name: str, size: int | None) -> None:
    """Aidon single frames and Iskraemeco's three segments (A8A4, A8A4, A02D) come back."""
    data = vector(name)
    pos, information = 0, b""
    destination = source = b""
    while pos < len(data):
        length = int.from_bytes(data[pos + 1 : pos + 3], "big") & 0x7FF
        frame = data[pos + 1 : pos + 1 + length]
        end = 2
        while not frame[end] & 1:
            end += 1
        destination, start = frame[2 : end + 1], end + 1
        end = start
        while not frame[end] & 1:
            end += 1
        source = frame[start : end + 1]
        information += frame[end + 4 : -2]
        pos += length + 2
    rebuilt = hdlc_frames(information, destination=destination, source=source, max_information=size)
    assert rebuilt == data


# -- the M-Bus meter ------------------------------------------------------------------------------


def test_mbus_frames_well_formed() -> None:
    meter = SimulatedMbusMeter(key=KEY, seed=5)
    counters = []
    for data in run(meter, timedelta(seconds=5), 30):
        bodies = split_mbus(data)
        assert [len(body) for body in bodies] == [250, 20]
        assert [body[:5] for body in bodies] == [b"\x53\xff\x00\x01\x67", b"\x53\xff\x11\x01\x67"]
        apdu = b"".join(body[5:] for body in bodies)
        assert apdu[:10] == b"\xdb\x08" + NETZNOE_SYSTEM_TITLE
        assert apdu[10:13] == b"\x81\xf8\x20"
        counter = int.from_bytes(apdu[13:17], "big")
        assert counter == meter.frame_counter
        counters.append(counter)
        # Independently: the GCM keystream without tag is AES-CTR from IV || 00000002.
        iv = NETZNOE_SYSTEM_TITLE + apdu[13:17] + b"\x00\x00\x00\x02"
        decryptor = Cipher(algorithms.AES(KEY), modes.CTR(iv)).decryptor()
        plaintext = decryptor.update(apdu[17:]) + decryptor.finalize()
        assert plaintext == meter.plaintext
        assert plaintext[0] == 0x0F
        assert plaintext[5] == 0x0C
        assert plaintext[18:22] == b"\x02\x23\x09\x0c"
        assert plaintext[18 + 4 : 18 + 16] == plaintext[6:18]  # the same clock twice
        assert plaintext.endswith(b"\x09\x0c181220004711")
    assert counters == list(range(counters[0], counters[0] + 30))
    assert set(meter.reported) == {*NETZNOE_CODES, "0-0:96.1.0", "0-0:1.0.0"}


def test_mbus_clock_is_austrian_local_time() -> None:
    """The same wall-clock time twice in the night summer time ends: offset and DST flag tell."""
    meter = SimulatedMbusMeter(key=KEY)
    summer = datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    meter.frames(summer)
    # 02:30 CEST on Sunday: deviation -120 minutes, clock status DST.
    assert meter.plaintext[6:18] == bytes.fromhex("07E80A1B07021E0000FF8880")
    assert meter.reported["0-0:1.0.0"] == summer
    winter = datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    meter.frames(winter)
    # 02:30 CET: deviation -60 minutes, no DST.
    assert meter.plaintext[6:18] == bytes.fromhex("07E80A1B07021E0000FFC400")
    assert meter.reported["0-0:1.0.0"] == winter


def test_mbus_values_consistent() -> None:
    meter = SimulatedMbusMeter(key=KEY, seed=2)
    for _ in run(meter, timedelta(minutes=7), 200):
        values = meter.reported
        volts = [values[f"1-0:{c}.7.0"] for c in (32, 52, 72)]
        amps = [values[f"1-0:{c}.7.0"] for c in (31, 51, 71)]
        assert all(isinstance(v, float) and 215 < v < 245 for v in volts)
        assert all(isinstance(a, float) and 0 < a < 60 for a in amps)
        power_in, power_out = values["1-0:1.7.0"], values["1-0:2.7.0"]
        assert isinstance(power_in, float)
        assert isinstance(power_out, float)
        assert power_in == 0 or power_out == 0
        factor = values["1-0:13.7.0"]
        assert isinstance(factor, float)
        assert 0 <= factor <= 1
        # The net power fits in what the phases carry (S = U·I per phase).
        apparent = sum(v * a for v, a in zip(volts, amps, strict=True))  # type: ignore[operator]
        assert max(power_in, power_out) <= apparent + 15
        assert max(power_in, power_out) == pytest.approx(
            factor * apparent, abs=0.02 * apparent + 15
        )


# -- the HDLC meter -------------------------------------------------------------------------------


def test_hdlc_frame_well_formed() -> None:
    meter = SimulatedHdlcMeter(seed=1)
    for data in run(meter, timedelta(seconds=2), 20):
        [(format_field, _, control, information)] = split_hdlc(data)
        assert format_field & 0xF800 == 0xA000
        assert control == 0x13
        assert information == b"\xe6\xe7\x00" + meter.plaintext
        plaintext = meter.plaintext
        assert plaintext[:7] == b"\x0f\x40\x00\x00\x00\x00\x01"
        assert plaintext[7] == len(AIDON_CODES)
        assert plaintext[8:31] == (
            b"\x02\x02\x09\x06\x01\x01\x00\x02\x81\xff\x0a\x0b" + AIDON_LIST_VERSION.encode()
        )
        assert b"\x09\x06\x00\x00\x60\x01\x00\xff\x0a\x107359992890941742" in plaintext
    assert list(meter.reported) == list(AIDON_CODES)
    assert meter.units["1-0:3.8.0"] == "varh"


def test_hdlc_segmented() -> None:
    """With a frame size, the message goes out in A8xx segments and a last A0xx frame."""
    whole = SimulatedHdlcMeter(seed=3).frames(START)
    meter = SimulatedHdlcMeter(seed=3, max_information=200)
    frames = split_hdlc(meter.frames(START))
    assert len(frames) == math.ceil((len(meter.plaintext) + 3) / 200)
    assert [f[0] & 0xF800 for f in frames] == [0xA800] * (len(frames) - 1) + [0xA000]
    assert [f[2] for f in frames] == [0x03] * (len(frames) - 1) + [0x13]
    assert b"".join(f[3] for f in frames) == split_hdlc(whole)[0][3]


def test_hdlc_clock_like_aidon() -> None:
    """Local Norwegian time; hundredths, deviation and status not specified."""
    meter = SimulatedHdlcMeter()
    meter.frames(datetime(2024, 1, 15, 11, 30, 5, tzinfo=UTC))
    assert bytes.fromhex("090C07E8010F010C1E05FF8000FF") in meter.plaintext


def test_hdlc_values_consistent() -> None:
    meter = SimulatedHdlcMeter(seed=4)
    for _ in run(meter, timedelta(minutes=11), 150):
        values = meter.reported
        for phase, (p_in, p_out, q_in, q_out, amps, volts) in enumerate(
            ((21, 22, 23, 24, 31, 32), (41, 42, 43, 44, 51, 52), (61, 62, 63, 64, 71, 72))
        ):
            p = values[f"1-0:{p_in}.7.0"] - values[f"1-0:{p_out}.7.0"]  # type: ignore[operator]
            q = values[f"1-0:{q_in}.7.0"] - values[f"1-0:{q_out}.7.0"]  # type: ignore[operator]
            u, i = values[f"1-0:{volts}.7.0"], values[f"1-0:{amps}.7.0"]
            assert isinstance(u, float)
            assert isinstance(i, float)
            assert 215 < u < 245, phase
            assert i == pytest.approx(math.hypot(p, q) / u, abs=0.051)
        total_p = sum(
            values[f"1-0:{c}.7.0"] - values[f"1-0:{c + 1}.7.0"]  # type: ignore[operator]
            for c in (21, 41, 61)
        )
        assert values["1-0:1.7.0"] == max(total_p, 0)
        assert values["1-0:2.7.0"] == max(-total_p, 0)


# -- what the decoder makes of it -----------------------------------------------------------------


def _check_snapshot(snapshot: Snapshot, meter: SimulatedMbusMeter | SimulatedHdlcMeter) -> None:
    assert {obis: reading.value for obis, reading in snapshot.readings.items()} == meter.reported
    assert {obis: reading.unit for obis, reading in snapshot.readings.items()} == {
        obis: meter.units.get(obis) for obis in meter.reported
    }
    assert snapshot.timestamp == meter.reported["0-0:1.0.0"]


def test_decoder_reads_what_was_sent() -> None:
    """Our own decoder gives back exactly the values (and units) the simulators report."""
    mbus, hdlc = SimulatedMbusMeter(key=KEY, seed=6), SimulatedHdlcMeter(seed=6)
    for index in range(60):
        now = START + timedelta(minutes=37 * index)
        snapshot = decode_message(mbus.frames(now), KEY)
        assert snapshot.meter_id == "181220004711"
        assert snapshot.encrypted
        _check_snapshot(snapshot, mbus)
        snapshot = decode_message(hdlc.frames(now))
        assert snapshot.meter_id == "7359992890941742"
        assert not snapshot.encrypted
        _check_snapshot(snapshot, hdlc)
    with pytest.raises(DecodeError):
        decode_message(mbus.frames(START), bytes(16))


@pytest.mark.parametrize("kind", ["mbus", "hdlc-segmented"])
def test_decoder_stream(kind: str) -> None:
    """A stream cut anywhere decodes to one snapshot per push, each as the simulator said."""
    meter = (
        SimulatedMbusMeter(key=KEY, seed=8)
        if kind == "mbus"
        else SimulatedHdlcMeter(seed=8, max_information=128)
    )
    decoder = DlmsDecoder(key=KEY if kind == "mbus" else None)
    for index in range(20):
        data = meter.frames(START + timedelta(seconds=5 * index))
        snapshots: list[Snapshot] = []
        for pos in range(0, len(data), 7 + index):
            for result in decoder.feed(data[pos : pos + 7 + index]):
                assert isinstance(result, Snapshot), result
                snapshots.append(result)
        assert len(snapshots) == 1
        _check_snapshot(snapshots[0], meter)


# -- both -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "counters", "power"),
    [
        ("mbus", ("1-0:1.8.0", "1-0:2.8.0"), ("1-0:1.7.0", "1-0:2.7.0")),
        (
            "hdlc",
            ("1-0:1.8.0", "1-0:2.8.0", "1-0:3.8.0", "1-0:4.8.0"),
            ("1-0:1.7.0", "1-0:2.7.0", "1-0:3.7.0", "1-0:4.7.0"),
        ),
    ],
)
def test_counters_never_decrease_over_a_day(
    kind: str, counters: tuple[str, ...], power: tuple[str, ...]
) -> None:
    """Over a simulated day the registers only grow, by about the power they report."""
    meter = SimulatedMbusMeter(key=KEY, seed=7) if kind == "mbus" else SimulatedHdlcMeter(seed=7)
    step = timedelta(seconds=30)
    previous: dict[str, float] = {}
    integrated = dict.fromkeys(counters, 0.0)
    first: dict[str, float] = {}
    for _ in run(meter, step, 2 * 60 * 24 + 1):
        values = meter.reported
        for counter, rate in zip(counters, power, strict=True):
            value = values[counter]
            assert isinstance(value, float)
            assert value >= previous.get(counter, 0.0), counter
            previous[counter] = value
            first.setdefault(counter, value)
            watts = values[rate]
            assert isinstance(watts, float)
            integrated[counter] += watts * step.total_seconds() / 3600
    for counter in counters:
        grown = previous[counter] - first[counter]
        assert grown > 0, counter
        # Sampled every 30 s, the reported power integrates to the register's growth.
        assert grown == pytest.approx(integrated[counter], rel=0.1, abs=50), counter


def test_deterministic_per_seed() -> None:
    times = [START + timedelta(seconds=5 * index) for index in range(40)]
    for make in (
        lambda seed: SimulatedMbusMeter(key=KEY, seed=seed),
        lambda seed: SimulatedHdlcMeter(seed=seed),
    ):
        first, second, other = make(11), make(11), make(12)
        a = [first.frames(t) for t in times]
        assert a == [second.frames(t) for t in times]
        assert a != [other.frames(t) for t in times]


def test_start_and_time_going_backwards() -> None:
    """A meter started earlier has the same registers later; an older `now` never rewinds."""
    later = START + timedelta(hours=5)
    early = SimulatedHdlcMeter(seed=9, start=START)
    fresh = SimulatedHdlcMeter(seed=9, start=START)
    early.frames(START + timedelta(hours=2))
    early.frames(later)
    fresh.frames(later)
    assert early.reported["1-0:1.8.0"] == fresh.reported["1-0:1.8.0"]
    early.frames(START)
    assert early.reported["0-0:1.0.0"] == later
    assert early.reported["1-0:1.8.0"] == fresh.reported["1-0:1.8.0"]


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        SimulatedMbusMeter(key=b"short")
    with pytest.raises(ValueError, match="KFM"):
        SimulatedMbusMeter(key=KEY, system_title=b"SAGY\x00\x00\x00\x01")
    naive = datetime(2024, 1, 1)
    with pytest.raises(ValueError, match="aware"):
        SimulatedMbusMeter(key=KEY).frames(naive)
    with pytest.raises(ValueError, match="aware"):
        SimulatedHdlcMeter().frames(naive)
    with pytest.raises(ValueError, match="aware"):
        cosem_date_time(naive)
    with pytest.raises(ValueError, match="12 bytes"):
        data_notification(1, b"\x00", b"")
    with pytest.raises(ValueError, match="8 bytes"):
        glo_ciphered(b"", key=KEY, system_title=b"KFM", frame_counter=1)
    with pytest.raises(ValueError, match="needs the auth_key"):
        glo_ciphered(
            b"", key=KEY, system_title=NETZNOE_SYSTEM_TITLE, frame_counter=1, security_control=0x30
        )
    with pytest.raises(ValueError, match="only encrypted"):
        glo_ciphered(
            b"", key=KEY, system_title=NETZNOE_SYSTEM_TITLE, frame_counter=1, security_control=0x10
        )
    with pytest.raises(ValueError, match="1 to 250"):
        mbus_frames(b"\xdb", max_data=251)
    with pytest.raises(ValueError, match="16 M-Bus segments"):
        mbus_frames(bytes(17 * 10), max_data=10)
    with pytest.raises(ValueError, match="address"):
        hdlc_frames(b"\x0f", destination=b"\x40")
    with pytest.raises(ValueError, match="positive"):
        hdlc_frames(b"\x0f", max_information=0)
    with pytest.raises(ValueError, match="smaller max_information"):
        hdlc_frames(bytes(2100))
    with pytest.raises(ValueError, match="negative"):
        axdr_length(-1)


def test_small_builders() -> None:
    assert axdr_length(0x7F) == b"\x7f"
    assert axdr_length(0xF8) == b"\x81\xf8"
    assert axdr_length(0x155) == b"\x82\x01\x55"
    assert mbus_frames(b"") == b"\x68\x05\x05\x68\x53\xff\x10\x01\x67\xca\x16"
    # A frame without information has no HCS: format, addresses, control, FCS.
    [(format_field, _, control, information)] = split_hdlc(hdlc_frames(b""))
    assert (format_field, control, information) == (0xA008, 0x13, b"")


# -- Landis+Gyr: push-object list over HDLC + GBT, Netz Burgenland -------------------------------

LGZ_KEY = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
LGZ_AUTH_KEY = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")


def lgz_information(data: bytes) -> list[bytes]:
    """Check each HDLC frame (flags, CRCs, L&G addresses CE FF / 03, UI control); return
    the information fields."""
    fields = []
    pos = 0
    while pos < len(data):
        assert data[pos] == 0x7E
        format_field = int.from_bytes(data[pos + 1 : pos + 3], "big")
        assert format_field >> 11 == 0xA << 1  # type 3, not segmented
        length = format_field & 0x7FF
        frame = data[pos + 1 : pos + 1 + length]
        assert data[pos + 1 + length] == 0x7E
        assert frame[2:6] == b"\xce\xff\x03\x13"
        assert int.from_bytes(frame[6:8], "little") == crc16_x25(frame[:6])
        assert int.from_bytes(frame[-2:], "little") == crc16_x25(frame[:-2])
        fields.append(frame[8:-2])
        pos += length + 2
    return fields


def open_ciphered(apdu: bytes, key: bytes, auth_key: bytes) -> bytes:
    """Check a general-glo-ciphering APDU's GCM tag independently; return the plaintext."""
    assert apdu[:2] == b"\xdb\x08"
    title = apdu[2:10]
    size = apdu[10] & 0x7F if apdu[10] & 0x80 else 0  # bytes of a long-form length
    length = int.from_bytes(apdu[11 : 11 + size], "big") if size else apdu[10]
    content = apdu[11 + size :]
    assert len(content) == length
    assert content[0] == 0x30
    decryptor = Cipher(
        algorithms.AES(key), modes.GCM(title + content[1:5], content[-12:], min_tag_length=12)
    ).decryptor()
    decryptor.authenticate_additional_data(b"\x30" + auth_key)
    return decryptor.update(content[5:-12]) + decryptor.finalize()  # InvalidTag if wrong


def test_push_list_meter_sends_general_block_transfer() -> None:
    meter = SimulatedPushListMeter(key=LGZ_KEY, auth_key=LGZ_AUTH_KEY, seed=3)
    fields = lgz_information(meter.frames(START))
    assert len(fields) == 3
    assert fields[0].startswith(b"\xe6\xe7\x00\xe0")
    blocks = [fields[0][3:], *fields[1:]]
    apdu = b""
    for number, block in enumerate(blocks, 1):
        assert block[0] == 0xE0
        assert block[1] == (0xC0 if number == len(blocks) else 0x40)
        assert int.from_bytes(block[2:4], "big") == number
        assert block[4:6] == b"\0\0"
        size, data = (block[6], block[7:]) if block[6] < 0x80 else (block[7], block[8:])
        assert len(data) == size
        apdu += data
    assert [len(block) for block in blocks[:2]] == [7 + 119, 7 + 122]
    assert open_ciphered(apdu, LGZ_KEY, LGZ_AUTH_KEY) == meter.plaintext
    body = meter.plaintext[18:]
    count = 3 + len(PUSH_LIST_CODES)
    assert body[:4] == bytes((0x02, count, 0x01, count))
    # The list describes itself first: {40, 0-0:25.9.0, attribute 2, 0}.
    assert body[4:22] == bytes.fromhex("0204120028090600001909 00FF0F02120000".replace(" ", ""))


def test_push_list_meter_plain_and_without_tag() -> None:
    plain = SimulatedPushListMeter(seed=3)
    fields = lgz_information(plain.frames(START))
    assert fields[0][3:].startswith(b"\xe0\x40\x00\x01")
    assert plain.frame_counter == SimulatedPushListMeter(seed=3).frame_counter  # untouched
    untagged = SimulatedPushListMeter(key=LGZ_KEY, seed=3)
    snapshot = decode_message(untagged.frames(START), LGZ_KEY)
    assert snapshot.encrypted
    assert snapshot.meter_id == untagged.meter_id == "LGZ1030655933512"
    assert {code: reading.value for code, reading in snapshot.readings.items()} == (
        untagged.reported
    )


@pytest.mark.parametrize("extended", [False, True])
def test_burgenland_meter_frame(extended: bool) -> None:
    meter = SimulatedBurgenlandMeter(key=LGZ_KEY, auth_key=LGZ_AUTH_KEY, extended=extended, seed=2)
    (information,) = lgz_information(meter.frames(START))
    assert information[:5] == b"\xe6\xe7\x00\xdb\x08"
    assert information[5:8] == b"LGZ"
    plaintext = open_ciphered(information[3:], LGZ_KEY, LGZ_AUTH_KEY)
    assert plaintext == meter.plaintext
    body = plaintext[18:]
    count = 14 if extended else 11
    assert body[:2] == bytes((0x02, count))
    tags, pos = [], 2
    for _ in range(count):
        tag = body[pos]
        tags.append(tag)
        pos += 1 + ({0x12: 2, 0x06: 4}.get(tag) or 1 + body[pos + 1])
    assert pos == len(body)
    assert tags == [0x12] * 6 + [0x06] * 4 + [0x12] * (count - 11) + [0x09]
    assert body.endswith(b"\x09\x0830052002")
    assert list(meter.reported) == [*BURGENLAND_CODES, "0-0:96.1.0"]


@pytest.mark.parametrize("kind", ["push-list", "burgenland"])
def test_landis_gyr_counters_grow_and_repeat_per_seed(kind: str) -> None:
    def meter() -> SimulatedPushListMeter | SimulatedBurgenlandMeter:
        if kind == "push-list":
            return SimulatedPushListMeter(key=LGZ_KEY, auth_key=LGZ_AUTH_KEY, seed=6)
        return SimulatedBurgenlandMeter(key=LGZ_KEY, auth_key=LGZ_AUTH_KEY, seed=6)

    first, second = meter(), meter()
    import_code = "1-1:1.8.0" if kind == "push-list" else "1-0:1.8.0"
    previous = -1.0
    for hour in range(24):
        now = START + timedelta(hours=hour)
        data = first.frames(now)
        assert data == second.frames(now)
        counter = first.reported[import_code]
        assert isinstance(counter, float)
        assert counter >= previous
        previous = counter
    assert first.frame_counter == second.frame_counter


def test_landis_gyr_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="key must be 16 bytes"):
        SimulatedPushListMeter(key=b"short")
    with pytest.raises(ValueError, match="auth_key must be 16 bytes"):
        SimulatedBurgenlandMeter(key=LGZ_KEY, auth_key=b"short")
    with pytest.raises(ValueError, match="needs a key"):
        SimulatedBurgenlandMeter(auth_key=LGZ_AUTH_KEY)
    with pytest.raises(ValueError, match="LGZ"):
        SimulatedPushListMeter(system_title=b"KFMgP\x00\x01\x02")
    with pytest.raises(ValueError, match="aware"):
        SimulatedBurgenlandMeter().frames(datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="positive"):
        gbt_blocks(b"\x0f", (0,))
    assert gbt_blocks(b"") == [b"\xe0\xc0\x00\x01\x00\x00\x00"]
