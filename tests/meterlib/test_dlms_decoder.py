"""The DLMS push decoder end to end: every vector, streaming, keys, replays, the CLI."""

from __future__ import annotations

from datetime import datetime
import json
import random

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
import pytest

from custom_components.energy_gateway.meterlib.capture import decode_capture
from custom_components.energy_gateway.meterlib.cli import main
from custom_components.energy_gateway.meterlib.core.errors import (
    ChecksumError,
    DecodeError,
    KeyRequiredError,
    WrongKeyError,
)
from custom_components.energy_gateway.meterlib.core.family import Keys
from custom_components.energy_gateway.meterlib.core.frame import title_text
from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.dlms import DlmsDecoder, FrameInfo, decode_message
from custom_components.energy_gateway.meterlib.dlms.hdlc import frame_length as hdlc_length
from custom_components.energy_gateway.meterlib.dlms.mbus import frame_length as mbus_length

from .conftest import DSMR, ENCRYPTED_FRAME, SMARTY_AUTH_KEY, SMARTY_KEY, run_cli
from .dlms_fixtures import (
    AUTH_KEY,
    CEST,
    DLMS,
    KEY,
    LLC,
    NO_KEY,
    SIMPLE_BODY,
    TITLE,
    VALUES,
    VECTORS,
    Vector,
    cipher,
    hdlc_frame,
    length,
    mbus_frames,
    notification,
    obis,
    observed,
    structure,
    u32,
    wire,
)

NAMES = sorted(VECTORS)
LINK_NAMES = [name for name in NAMES if VECTORS[name].format != "dlms"]
EVN = VECTORS["at_netznoe_kaifa_ma309m_evn_doc_example"]
KAMSTRUP = VECTORS["hdlc_kamstrup_omnipower"]
LANDIS_GYR = VECTORS["hdlc_landis_gyr_e450"]
WRONG = bytes(16)


def decoder_for(vector: Vector) -> DlmsDecoder:
    return DlmsDecoder(key=vector.key, auth_key=vector.auth_key)


def run_all(decoder: DlmsDecoder, *chunks: bytes) -> list[Snapshot | DecodeError]:
    results = [result for chunk in chunks for result in decoder.feed(chunk)]
    return results + decoder.flush()


def snapshots(results: list[Snapshot | DecodeError]) -> list[Snapshot]:
    found = [r for r in results if isinstance(r, Snapshot)]
    assert len(found) == len(results), [r for r in results if isinstance(r, DecodeError)]
    return found


def frames_of(data: bytes) -> list[bytes]:
    """Cut a link-framed capture into its frames."""
    measure = mbus_length if data[0] == 0x68 else hdlc_length
    frames = []
    pos = 0
    while pos < len(data):
        size = measure(data, pos)
        assert size > 0
        frames.append(data[pos : pos + size])
        pos += size
    return frames


# --- every vector -----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_vector_decodes_to_its_published_values(name: str) -> None:
    vector = VECTORS[name]
    snapshot = decode_message(vector.data, key=vector.key, auth_key=vector.auth_key)
    assert observed(snapshot) == VALUES[name]
    assert snapshot.format == vector.format
    assert snapshot.meter_id == vector.meter_id
    assert snapshot.timestamp == vector.timestamp
    assert snapshot.variant == vector.variant
    assert snapshot.header == vector.header
    assert snapshot.encrypted is vector.encrypted


def test_netz_noe_document_example() -> None:
    """The worked example of the Netz NÖ customer-interface document."""
    decoder = decoder_for(EVN)
    (snapshot,) = snapshots(run_all(decoder, EVN.data))
    assert snapshot.value("1-0:1.8.0") == 12937.0
    assert snapshot.readings["1-0:1.8.0"].unit == "Wh"
    assert snapshot.value("1-0:32.7.0") == 233.7
    assert snapshot.value("1-0:13.7.0") == 1.0
    assert snapshot.value("0-0:96.1.0") == "181220000009"
    assert snapshot.timestamp == datetime(2021, 9, 27, 9, 47, 15, tzinfo=CEST)
    assert str(snapshot.timestamp) == "2021-09-27 09:47:15+02:00"
    assert decoder.last_frame == FrameInfo(
        framing="mbus",
        encrypted=True,
        security_control=0x20,
        system_title=bytes.fromhex("4B464D6750000009"),
        manufacturer="Kaifa",
        frame_counter=35,
        tag_verified=False,
    )
    assert decoder.framing == "mbus"


@pytest.mark.parametrize("name", ["hdlc_landis_gyr_e450", "hdlc_lgz_e450_2", KAMSTRUP.name])
def test_tag_checked_with_the_authentication_key(name: str) -> None:
    vector = VECTORS[name]
    checked = decoder_for(vector)
    (with_tag,) = snapshots(run_all(checked, vector.data))
    assert checked.last_frame is not None
    assert checked.last_frame.tag_verified
    assert checked.last_frame.security_control == 0x30
    unchecked = DlmsDecoder(key=vector.key)
    (without_tag,) = snapshots(run_all(unchecked, vector.data))
    assert unchecked.last_frame is not None
    assert not unchecked.last_frame.tag_verified
    assert without_tag == with_tag


def test_kamstrup_published_raw_values_times_the_list_scale() -> None:
    snapshot = decode_message(KAMSTRUP.data, KAMSTRUP.key, KAMSTRUP.auth_key)
    # Published: 1.1.31.7.0 = 57, 1.1.13.7.0 = 83, 1.1.1.8.0 = 6307498 (raw integers).
    assert snapshot.value("1-1:31.7.0") == 0.57
    assert snapshot.value("1-1:13.7.0") == 0.83
    assert snapshot.value("1-1:1.8.0") == 63074980.0
    assert snapshot.value("0-0:1.0.0") == snapshot.timestamp


# --- streaming --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_split_gives_the_same_snapshot(name: str) -> None:
    vector = VECTORS[name]
    data = vector.data
    expected = snapshots(run_all(decoder_for(vector), data))
    assert len(expected) == 1
    for cut in range(1, len(data)):
        assert run_all(decoder_for(vector), data[:cut], data[cut:]) == expected, cut


@pytest.mark.parametrize("name", NAMES)
def test_bytewise_stream_of_two_pushes(name: str) -> None:
    vector = VECTORS[name]
    stream = vector.data * 2
    whole = decoder_for(vector)
    expected = snapshots(run_all(whole, stream))
    assert len(expected) == 2
    bytewise = decoder_for(vector)
    assert run_all(bytewise, *(stream[i : i + 1] for i in range(len(stream)))) == expected
    if vector.encrypted:
        assert whole.replays == bytewise.replays == 1  # the same frame counter twice


GARBAGE = bytes((0x68, 0x7E, 0xDB, 0x0F, 0xE0, 0x16, 0xA0, 0xA8, 0x00, 0xFF, 0x08, 0x41))


def garbage(rng: random.Random) -> bytes:
    return bytes(rng.choice(GARBAGE) for _ in range(rng.randrange(1, 40)))


@pytest.mark.parametrize("name", LINK_NAMES)
def test_garbage_between_frames_and_a_mid_frame_start(name: str) -> None:
    vector = VECTORS[name]
    rng = random.Random(name)
    expected = snapshots(run_all(decoder_for(vector), vector.data))
    frames = frames_of(vector.data)
    noisy = b"".join(garbage(rng) + frame for frame in frames) + garbage(rng)
    start = vector.data[len(frames[0]) // 2 :]  # the stream begins inside a push
    stream = start + noisy + noisy
    results = run_all(decoder_for(vector), stream)
    assert snapshots(results)[-2:] == expected * 2
    chunked = decoder_for(vector)
    sizes = [1, 3, 7, 64]
    chunks: list[bytes] = []
    pos = 0
    while pos < len(stream):
        size = sizes[len(chunks) % len(sizes)]
        chunks.append(stream[pos : pos + size])
        pos += size
    assert run_all(chunked, *chunks) == results


def test_mixed_framings_in_one_stream_keep_their_order() -> None:
    iskra = VECTORS["hdlc_iskra550"]
    evn_plain = mbus_frames(notification(SIMPLE_BODY))
    stream = iskra.data + evn_plain + iskra.data
    whole = snapshots(run_all(DlmsDecoder(), stream))
    assert [s.format for s in whole] == ["hdlc-dlms", "mbus-dlms", "hdlc-dlms"]
    bytewise = run_all(DlmsDecoder(), *(stream[i : i + 1] for i in range(len(stream))))
    assert bytewise == whole


# --- keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NO_KEY)
def test_no_key_reports_what_was_seen(name: str) -> None:
    data = wire(name)
    decoder = DlmsDecoder()
    (error,) = run_all(decoder, data)
    assert isinstance(error, KeyRequiredError)
    assert error.raw == data
    assert error.frame == decoder.last_frame
    expected = {
        "at_vkw_kaifa_ma309_nokey": ("4B464D1020043BD7", 0x21, "Kaifa", 36770),
        "at_kswest_els_mbus_nokey": ("454C536570000001", 0x20, "Elster", 21535),
    }[name]
    title, security_control, manufacturer, counter = expected
    assert error.frame == FrameInfo(
        framing="mbus",
        encrypted=True,
        security_control=security_control,
        system_title=bytes.fromhex(title),
        manufacturer=manufacturer,
        frame_counter=counter,
        tag_verified=False,
    )
    assert f"security control 0x{security_control:02X}" in str(error)
    assert f"system title {title} ({manufacturer})" in str(error)
    with pytest.raises(KeyRequiredError):
        decode_message(data)


def test_no_key_for_every_encrypted_vector() -> None:
    for vector in VECTORS.values():
        if vector.encrypted:
            with pytest.raises(KeyRequiredError) as info:
                decode_message(vector.data)
            assert info.value.frame is not None
            assert info.value.frame.framing == vector.format.split("-")[0]


@pytest.mark.parametrize(
    ("vector", "key", "auth_key", "message"),
    [
        (EVN, WRONG, None, "not a data-notification"),  # no tag: the plaintext gives it away
        (KAMSTRUP, WRONG, None, "not a data-notification"),  # tag present, not checked
        (KAMSTRUP, WRONG, KAMSTRUP.auth_key, "GCM tag mismatch"),
        (KAMSTRUP, KAMSTRUP.key, WRONG, "GCM tag mismatch"),
        (LANDIS_GYR, LANDIS_GYR.key, WRONG, "GCM tag mismatch"),
    ],
)
def test_wrong_keys(vector: Vector, key: bytes, auth_key: bytes | None, message: str) -> None:
    decoder = DlmsDecoder(key=key, auth_key=auth_key)
    (error,) = run_all(decoder, vector.data)
    assert isinstance(error, WrongKeyError)
    assert message in str(error)
    assert error.raw == vector.data
    assert error.frame is not None
    assert error.frame.system_title is not None
    assert not error.frame.tag_verified
    with pytest.raises(WrongKeyError):
        decode_message(vector.data, key=key, auth_key=auth_key)


def test_wrong_key_for_all_unchecked_vectors() -> None:
    for vector in VECTORS.values():
        if vector.encrypted:
            with pytest.raises(WrongKeyError):
                decode_message(vector.data, key=WRONG)


def test_implausible_plaintext() -> None:
    """Without a checked tag an implausible plaintext means a wrong key; with one, a bad meter."""
    year_1990 = bytes.fromhex("07C6060F060C1E0000FF8880")
    plaintext = notification(SIMPLE_BODY, year_1990)
    untagged = mbus_frames(cipher(plaintext))
    with pytest.raises(WrongKeyError, match="implausible"):
        decode_message(untagged, key=KEY)
    tagged = hdlc_frame(LLC + cipher(plaintext, security_control=0x30))
    with pytest.raises(DecodeError, match="implausible") as info:
        decode_message(tagged, key=KEY, auth_key=AUTH_KEY)
    assert not isinstance(info.value, WrongKeyError)
    broken = hdlc_frame(LLC + cipher(b"\x0f\x00", security_control=0x30))
    with pytest.raises(DecodeError, match="cut off") as info:
        decode_message(broken, key=KEY, auth_key=AUTH_KEY)
    assert not isinstance(info.value, WrongKeyError)


def authenticated_only(plaintext: bytes, *, auth_key: bytes = AUTH_KEY) -> bytes:
    """A general-glo-ciphering APDU with SC 0x10: clear body, GMAC tag."""
    iv = TITLE + (9).to_bytes(4, "big")
    encryptor = Cipher(algorithms.AES(KEY), modes.GCM(iv)).encryptor()
    encryptor.authenticate_additional_data(b"\x10" + auth_key + plaintext)
    encryptor.finalize()
    content = b"\x10" + (9).to_bytes(4, "big") + plaintext + encryptor.tag[:12]
    return b"\xdb\x08" + TITLE + length(len(content)) + content


def test_authenticated_only_frames() -> None:
    frame = hdlc_frame(LLC + authenticated_only(notification(SIMPLE_BODY)))
    decoder = DlmsDecoder(key=KEY, auth_key=AUTH_KEY)
    (snapshot,) = snapshots(run_all(decoder, frame))
    assert not snapshot.encrypted
    assert snapshot.value("1-0:32.7.0") == 230.1
    assert decoder.last_frame is not None
    assert decoder.last_frame.tag_verified
    assert decoder.last_frame.security_control == 0x10
    assert decode_message(frame) == snapshot  # nothing to decrypt, no key needed
    with pytest.raises(WrongKeyError, match="GMAC"):
        decode_message(frame, key=KEY, auth_key=WRONG)
    garbled = hdlc_frame(LLC + authenticated_only(b"\x0f\x00\x00\x00"))
    with pytest.raises(DecodeError) as info:
        decode_message(garbled)
    assert not isinstance(info.value, WrongKeyError)


def test_key_must_be_an_aes_key() -> None:
    with pytest.raises(ValueError, match="16, 24 or 32"):
        DlmsDecoder(key=b"short")


# --- frame counters ---------------------------------------------------------------------


def test_replays_are_counted_and_still_decoded() -> None:
    decoder = DlmsDecoder(key=KEY)
    pushes = [mbus_frames(cipher(notification(SIMPLE_BODY), counter=n)) for n in (5, 6, 4, 7, 7)]
    results = run_all(decoder, *pushes)
    assert len(snapshots(results)) == 5
    assert decoder.replays == 2  # 4 after 6, and 7 repeated
    assert decoder.last_frame is not None
    assert decoder.last_frame.frame_counter == 7


def test_counters_are_kept_per_system_title() -> None:
    decoder = DlmsDecoder(key=KEY)
    titles = [b"KFM" + bytes((0, 0, 0, 0, n)) for n in range(17)]
    for title in titles:
        decoder.feed(mbus_frames(cipher(notification(SIMPLE_BODY), counter=100, title=title)))
    assert decoder.replays == 0
    # The oldest of more than 16 titles is forgotten, so its lower counter is no replay.
    decoder.feed(mbus_frames(cipher(notification(SIMPLE_BODY), counter=1, title=titles[0])))
    assert decoder.replays == 0
    decoder.feed(mbus_frames(cipher(notification(SIMPLE_BODY), counter=1, title=titles[-1])))
    assert decoder.replays == 1


def test_diagnostics_say_what_was_checked() -> None:
    """Framing, security and whether the GCM tag was checked, for each kind of frame."""
    kamstrup = VECTORS["hdlc_kamstrup_omnipower"]
    netznoe = VECTORS["at_netznoe_kaifa_ma309m_evn_doc_example"]
    cases = [
        (DlmsDecoder(), wire("hdlc_norway_han_3phase"), "hdlc", None, None),
        (DlmsDecoder(key=netznoe.key), netznoe.data, "mbus", "0x20", "not sent"),
        (
            DlmsDecoder(key=kamstrup.key),
            kamstrup.data,
            "hdlc",
            "0x30",
            "not checked: no authentication key",
        ),
        (
            DlmsDecoder(key=kamstrup.key, auth_key=kamstrup.auth_key),
            kamstrup.data,
            "hdlc",
            "0x30",
            "verified",
        ),
        (
            DlmsDecoder(key=kamstrup.key, auth_key=bytes(16)),
            kamstrup.data,
            "hdlc",
            "0x30",
            "mismatch",
        ),
    ]
    for decoder, data, framing, security, tag in cases:
        assert decoder.diagnostics() == {"framing": None, "replays": 0}
        decoder.feed(data)
        decoder.feed(data)  # the same frame counter again
        details = decoder.diagnostics()
        assert details["framing"] == framing
        assert details["security_control"] == security
        assert details["gcm_tag"] == tag
        assert details["replays"] == (0 if security is None or tag == "mismatch" else 1)
    assert details["manufacturer"] == "Kamstrup"
    assert details["system_title"] == "4b414d4501349083"
    assert details["frame_counter"] == 17784996
    assert details["encrypted"] is True


# --- other messages ---------------------------------------------------------------------


def test_identity_fallbacks() -> None:
    printable_title = b"ABCDEFGH"
    body = structure(structure(obis("1-0:1.8.0"), u32(1)))
    snapshot = decode_message(
        hdlc_frame(LLC + cipher(notification(body), title=printable_title)), key=KEY
    )
    assert snapshot.meter_id == "ABCDEFGH"
    assert snapshot.header is None  # no FLAG id
    numbered = structure(structure(obis("0-0:96.1.0"), u32(12345)))
    assert decode_message(hdlc_frame(LLC + notification(numbered))).meter_id == "12345"
    assert title_text(b"KFM\x10") == "4B464D10"


def test_back_to_back_notifications_in_one_frame() -> None:
    second = notification(structure(structure(obis("1-0:2.8.0"), u32(7))), None)
    frame = mbus_frames(cipher(notification(SIMPLE_BODY) + second))
    snapshot = decode_message(frame, key=KEY)
    assert snapshot.value("1-0:2.8.0") == 7.0
    assert snapshot.value("1-0:1.8.0") == 123456.0
    assert snapshot.timestamp == datetime(2024, 6, 15, 12, 30, tzinfo=CEST)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (hdlc_frame(LLC + b"\xc2\x00\x01"), "APDU 0xC2 is not a data-notification"),
        (hdlc_frame(LLC + cipher(notification(SIMPLE_BODY)) + b"\x00"), "1 bytes after"),
        (hdlc_frame(LLC + cipher(b"\x0f", security_control=0xA0)), "compressed"),
        (hdlc_frame(LLC + b"\xdb\x08" + TITLE + b"\x03"), "too short"),
        (hdlc_frame(LLC + b"\xe0\x40\x00\x01\x00\x00\x10\x00"), "ends inside the block"),
        (hdlc_frame(LLC + notification(structure(u32(1), u32(2)))), "unknown list"),
    ],
)
def test_undecodable_messages(frame: bytes, message: str) -> None:
    decoder = DlmsDecoder(key=KEY)
    (error,) = run_all(decoder, frame)
    assert isinstance(error, DecodeError)
    assert message in str(error)
    assert error.raw == frame
    assert error.frame is not None
    assert error.frame.framing == "hdlc"


def test_checksum_errors_carry_the_framing() -> None:
    bad = bytearray(EVN.data)
    bad[100] ^= 0x01
    results = run_all(decoder_for(EVN), bytes(bad) + EVN.data)
    errors = [r for r in results if isinstance(r, DecodeError)]
    assert isinstance(errors[0], ChecksumError)
    assert errors[0].frame is not None
    assert errors[0].frame.framing == "mbus"
    assert sum(isinstance(r, Snapshot) for r in results) == 1


def test_general_block_transfer_errors() -> None:
    frames = frames_of(LANDIS_GYR.data)
    decoder = decoder_for(LANDIS_GYR)
    (gap,) = run_all(decoder, frames[0], frames[2])
    assert isinstance(gap, DecodeError)
    assert "block 3, expected 2" in str(gap)
    assert gap.raw == frames[0] + frames[2]
    decoder = decoder_for(LANDIS_GYR)
    assert decoder.feed(frames[0] + frames[1]) == []
    (cut,) = decoder.flush()
    assert isinstance(cut, DecodeError)
    assert "inside a general-block-transfer APDU" in str(cut)
    assert cut.raw == frames[0] + frames[1]


def test_flush_reports_cut_captures() -> None:
    with pytest.raises(DecodeError, match="input ended inside an M-Bus frame"):
        decode_message(EVN.data[:200])
    with pytest.raises(DecodeError, match="input ended inside a segmented APDU"):
        decode_message(EVN.data[:256])
    with pytest.raises(DecodeError, match="input ended inside an HDLC frame"):
        decode_message(KAMSTRUP.data[:300], key=KAMSTRUP.key)
    with pytest.raises(DecodeError, match="no DLMS frame or APDU found") as info:
        decode_message(b"\x00\x01\x02")
    assert info.value.frame is None
    assert DlmsDecoder().feed(b"") == []
    assert DlmsDecoder().feed(hdlc_frame(LLC)) == []  # an empty message: nothing to decode


def test_decode_message_skips_errors_before_the_snapshot() -> None:
    bad = bytearray(EVN.data)
    bad[100] ^= 0x01
    assert decode_message(bytes(bad) + EVN.data, key=EVN.key).value("1-0:32.7.0") == 233.7


# --- raw APDU streams -------------------------------------------------------------------


RAW = VECTORS["raw_salzburg_netz"]


def test_raw_stream_then_link_frames() -> None:
    stream = RAW.data + RAW.data + VECTORS["hdlc_norway_han_1phase"].data
    decoder = DlmsDecoder()
    found = snapshots(run_all(decoder, stream))
    assert [s.format for s in found] == ["dlms", "dlms", "hdlc-dlms"]
    assert decoder.framing == "hdlc"  # the raw reader stopped at the first flag
    bytewise = run_all(DlmsDecoder(), *(stream[i : i + 1] for i in range(len(stream))))
    assert bytewise == found


def test_raw_ciphered_and_block_streams() -> None:
    ciphered = cipher(notification(SIMPLE_BODY), counter=3)
    decoder = DlmsDecoder(key=KEY)
    found = snapshots(run_all(decoder, ciphered + cipher(notification(SIMPLE_BODY), counter=4)))
    assert [(s.format, s.encrypted) for s in found] == [("dlms", True), ("dlms", True)]
    assert decoder.framing == "raw"
    bytewise = DlmsDecoder(key=KEY)
    assert run_all(bytewise, *(ciphered[i : i + 1] for i in range(len(ciphered)))) == found[:1]
    apdu = notification(SIMPLE_BODY)
    blocks = (
        b"\xe0\x40\x00\x01\x00\x00" + length(10) + apdu[:10],
        b"\xe0\xc0\x00\x02\x00\x00" + length(len(apdu) - 10) + apdu[10:],
    )
    (snapshot,) = snapshots(run_all(DlmsDecoder(), *blocks))
    assert snapshot.value("0-0:96.1.0") == "SIM0001"


def test_raw_stream_with_a_broken_apdu_in_the_middle() -> None:
    broken = b"\x0f\x00\x00\x00\x01\x33\x00"  # unknown date-time form
    results = run_all(DlmsDecoder(), RAW.data + broken + RAW.data)
    assert [type(r) for r in results] == [Snapshot, DecodeError, Snapshot]
    error = results[1]
    assert isinstance(error, DecodeError)
    assert error.raw == broken
    assert error.frame is not None
    assert error.frame.framing == "raw"
    oversize = b"\xdb\x08" + TITLE + b"\x82\xff\xff\x20" + bytes(4)
    results = run_all(DlmsDecoder(), RAW.data + oversize + RAW.data)
    assert [type(r) for r in results] == [Snapshot, DecodeError, Snapshot]
    assert "exceeds" in str(results[1])


def test_raw_stream_cut_off_and_too_long() -> None:
    results = run_all(DlmsDecoder(), RAW.data + RAW.data[:50])
    assert [type(r) for r in results] == [Snapshot, DecodeError]
    assert "input ended inside an APDU" in str(results[1])
    endless = b"\x0f\x00\x00\x00\x01\x00\x01\x83\x01\x00\x00" + b"\x11\x00" * 9000
    decoder = DlmsDecoder()
    results = [r for i in range(0, len(endless), 4096) for r in decoder.feed(endless[i : i + 4096])]
    assert [type(r) for r in results] == [DecodeError]
    assert "APDU longer than" in str(results[0])


def test_stream_that_only_starts_with_an_apdu_tag() -> None:
    """A mid-frame start can begin with 0x0F; the HDLC frame that follows wins."""
    hdlc = VECTORS["hdlc_norway_han_1phase"]
    prefixes = (
        b"\x0f\x00\x00\x00\x01\x0c",  # parses, with the frame's bytes as a date-time
        b"\x0f\x00\x00\x00\x01\x33",
        b"\xdb\x07",
        b"\xdb\x08" + TITLE + b"\x05\xc0\x00\x00\x00\x01",  # broadcast + compressed
        b"\xdb\x08" + TITLE + b"\x05\x03\x00\x00\x00\x01",  # neither encrypted nor signed
        b"\xe0\x40\x00\x02\x00\x00\x01\x00",  # block 2 first
    )
    for prefix in prefixes:
        decoder = DlmsDecoder()
        found = snapshots(run_all(decoder, prefix + hdlc.data))
        assert [s.format for s in found] == ["hdlc-dlms"]
        assert decoder.framing == "hdlc"


# --- format detection and the command line ----------------------------------------------


def test_detection_names_the_framing() -> None:
    assert decode_capture(EVN.data.hex().encode(), Keys(key=EVN.key))[0] == "mbus-dlms"
    assert decode_capture(KAMSTRUP.data, Keys(key=KAMSTRUP.key))[0] == "hdlc-dlms"
    assert decode_capture(RAW.data)[0] == "dlms"
    raw_block = b"\xe0\xc0\x00\x01\x00\x00" + length(len(RAW.data)) + RAW.data
    assert decode_capture(raw_block)[0] == "dlms"
    ciphered = cipher(notification(SIMPLE_BODY))
    name, results = decode_capture(ciphered, Keys(key=KEY))
    assert name == "dlms"
    assert isinstance(results[0], Snapshot)
    name, results = decode_capture(ciphered)
    assert isinstance(results[0], KeyRequiredError)
    smarty = (DSMR / ENCRYPTED_FRAME).read_bytes()
    name, results = decode_capture(smarty, Keys(key=SMARTY_KEY, auth_key=SMARTY_AUTH_KEY))
    assert name == "p1"
    assert isinstance(results[0], Snapshot)
    name, results = decode_capture(wire("at_vkw_kaifa_ma309_nokey"))
    assert name == "mbus-dlms"
    assert isinstance(results[0], KeyRequiredError)
    with pytest.raises(DecodeError, match="no known format"):
        decode_capture(b"\x0f\x00")


def test_cli_decodes_hex_vectors() -> None:
    result = run_cli(
        "decode", "--key", EVN.key.hex() if EVN.key else "", str(DLMS / f"{EVN.name}.hex")
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    obj = json.loads(line)
    assert list(obj) == ["format", "meter_id", "timestamp", "readings"]
    assert obj["format"] == "mbus-dlms"
    assert obj["meter_id"] == "181220000009"
    assert obj["timestamp"] == "2021-09-27T09:47:15+02:00"
    by_code = {item["obis"]: item for item in obj["readings"]}
    assert by_code["1-0:32.7.0"] == {"obis": "1-0:32.7.0", "value": 233.7, "unit": "V"}
    assert by_code["0-0:1.0.0"]["value"] == "2021-09-27T09:47:15+02:00"


def test_cli_with_authentication_key_and_without_key() -> None:
    assert LANDIS_GYR.key is not None
    assert LANDIS_GYR.auth_key is not None
    keys = ("--key", LANDIS_GYR.key.hex(), "--auth-key", LANDIS_GYR.auth_key.hex())
    result = run_cli("decode", *keys, str(DLMS / f"{LANDIS_GYR.name}.hex"))
    assert result.returncode == 0, result.stderr
    (obj,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert obj["format"] == "hdlc-dlms"
    assert {"obis": "1-0:1.8.0", "value": 4408736.0, "unit": "Wh"} in obj["readings"]
    missing = run_cli("decode", str(DLMS / "at_vkw_kaifa_ma309_nokey.hex"))
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.count("\n") == 1
    assert missing.stderr.startswith("error: KeyRequiredError: frame is encrypted")
    assert "security control 0x21" in missing.stderr


def test_cli_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(DLMS / "hdlc_kaifa_ma304h3e.hex")]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["meter_id"] == "6970631401753985"
    assert {"obis": "1-0:31.7.0", "value": 1.416, "unit": "A"} in obj["readings"]
    assert main(["decode", "--key", WRONG.hex(), str(DLMS / f"{EVN.name}.hex")]) == 1
    assert "WrongKeyError" in capsys.readouterr().err
