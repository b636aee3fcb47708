"""Encrypted P1 through P1Decoder: keys, wrong keys, missing keys, and mixed streams."""

from __future__ import annotations

import pytest

from custom_components.energy_gateway.meterlib.core.errors import (
    ChecksumError,
    DecodeError,
    KeyRequiredError,
    WrongKeyError,
)
from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.cosem.ciphering import GloDecryptor
from custom_components.energy_gateway.meterlib.p1.decoder import P1Decoder
from custom_components.energy_gateway.meterlib.p1.encrypted import (
    MAX_FRAME_LENGTH,
    decrypt_telegram,
    encrypted_frame_length,
)
from custom_components.energy_gateway.meterlib.p1.telegram import parse_telegram

from ..conftest import ENCRYPTED_FRAME, SMARTY_AUTH_KEY, SMARTY_KEY, vector, with_crc
from ..cosem.test_security import KEY, build_apdu

PLAINTEXT = "sagemcom_t210_d_r_plaintext.txt"


def only(results: list[Snapshot | DecodeError]) -> Snapshot | DecodeError:
    assert len(results) == 1
    return results[0]


def snapshot(result: Snapshot | DecodeError) -> Snapshot:
    assert isinstance(result, Snapshot), result
    return result


def test_decrypts_to_the_plaintext_values() -> None:
    decoder = P1Decoder(key=SMARTY_KEY, auth_key=SMARTY_AUTH_KEY)
    snap = snapshot(only(decoder.feed(vector(ENCRYPTED_FRAME))))
    plain = parse_telegram(vector(PLAINTEXT))
    assert snap.readings == plain.readings
    assert (snap.format, snap.encrypted, snap.variant) == ("p1-encrypted", True, "sagemcom")
    assert snap.timestamp == plain.timestamp
    assert snap.value("1-0:1.8.0") == 6545766.0
    assert snap.readings["1-0:1.8.0"].unit == "Wh"


def test_auth_key_omitted_still_decrypts() -> None:
    snap = snapshot(only(P1Decoder(key=SMARTY_KEY).feed(vector(ENCRYPTED_FRAME))))
    assert snap.readings == parse_telegram(vector(PLAINTEXT)).readings


def test_no_key() -> None:
    decoder = P1Decoder()
    error = only(decoder.feed(vector(ENCRYPTED_FRAME)))
    assert isinstance(error, KeyRequiredError)
    assert error.raw == vector(ENCRYPTED_FRAME)


@pytest.mark.parametrize("auth_key", [SMARTY_AUTH_KEY, None, bytes(16)])
def test_wrong_key(auth_key: bytes | None) -> None:
    error = only(P1Decoder(key=bytes(16), auth_key=auth_key).feed(vector(ENCRYPTED_FRAME)))
    assert isinstance(error, WrongKeyError)
    assert error.raw == vector(ENCRYPTED_FRAME)


def test_wrong_auth_key_with_right_key() -> None:
    error = only(P1Decoder(key=SMARTY_KEY, auth_key=bytes(16)).feed(vector(ENCRYPTED_FRAME)))
    assert isinstance(error, WrongKeyError)


def test_bad_key_length_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="16, 24 or 32"):
        P1Decoder(key=b"short")


def test_mixed_stream_and_split_frames() -> None:
    stream = (
        vector("dsmr_v5.txt")
        + vector(ENCRYPTED_FRAME)
        + b"\x00\xffnoise"
        + vector(ENCRYPTED_FRAME)
        + vector("fluvius_v171.txt")
    )
    whole = P1Decoder(key=SMARTY_KEY).feed(stream)
    assert [snapshot(r).format for r in whole] == ["p1", "p1-encrypted", "p1-encrypted", "p1"]
    decoder = P1Decoder(key=SMARTY_KEY)
    bytewise = [r for i in range(len(stream)) for r in decoder.feed(stream[i : i + 1])]
    assert bytewise == whole


def test_unverified_frame_with_bad_crc_means_wrong_key() -> None:
    body = vector("dsmr_v5.txt").replace(b"!6EEE", b"!0000")
    frame = build_apdu(body, security_control=0x20)
    error = only(P1Decoder(key=KEY).feed(frame))
    assert isinstance(error, WrongKeyError)
    assert "key probably wrong" in str(error)
    assert isinstance(error.__cause__, ChecksumError)


def test_verified_frame_with_bad_crc_is_a_checksum_error() -> None:
    body = vector("dsmr_v5.txt").replace(b"!6EEE", b"!0000")
    frame = build_apdu(body, auth_key=SMARTY_AUTH_KEY)
    error = only(P1Decoder(key=KEY, auth_key=SMARTY_AUTH_KEY).feed(frame))
    assert isinstance(error, ChecksumError)  # the key is proven right: the meter erred
    assert error.raw == frame


def test_our_own_frames_round_trip() -> None:
    body = with_crc(b"/Lux5\\253663629_D\r\n\r\n1-0:1.8.0(000273.764*kWh)\r\n!")
    tagged = decrypt_telegram(
        build_apdu(body, auth_key=SMARTY_AUTH_KEY), GloDecryptor(KEY, SMARTY_AUTH_KEY)
    )
    assert (tagged.variant, tagged.value("1-0:1.8.0")) == ("smarty", 273.764)
    untagged = decrypt_telegram(build_apdu(body, security_control=0x20), GloDecryptor(KEY))
    assert untagged.readings == tagged.readings


def test_tampered_ciphertext() -> None:
    frame = bytearray(vector(ENCRYPTED_FRAME))
    frame[100] ^= 0x01
    with_tag = only(P1Decoder(key=SMARTY_KEY, auth_key=SMARTY_AUTH_KEY).feed(bytes(frame)))
    assert isinstance(with_tag, WrongKeyError)
    without_tag = only(P1Decoder(key=SMARTY_KEY).feed(bytes(frame)))
    assert isinstance(without_tag, WrongKeyError)  # CRC catches the flipped bit


def test_frame_length_checks() -> None:
    frame = vector(ENCRYPTED_FRAME)
    assert encrypted_frame_length(frame[:13]) is None  # the security control byte is next
    assert encrypted_frame_length(frame[:14]) == len(frame)
    for security_control in (0x10, 0x00, 0xB0, 0x60, 0x33):
        unusual = build_apdu(b"/x", security_control=security_control)
        with pytest.raises(DecodeError, match="not encrypted P1"):
            encrypted_frame_length(unusual)
    assert encrypted_frame_length(build_apdu(b"/x", security_control=0x22)) is not None
    huge = frame[:10] + b"\x84" + (MAX_FRAME_LENGTH + 1).to_bytes(4, "big") + b"\x30"
    with pytest.raises(DecodeError, match="exceeds"):
        encrypted_frame_length(huge)


def test_plaintext_not_a_telegram() -> None:
    notification = b"\x0f\x00\x00\x00\x01 a DLMS notification, not P1"
    unverified = only(P1Decoder(key=KEY).feed(build_apdu(notification, security_control=0x20)))
    assert isinstance(unverified, WrongKeyError)
    assert "not a telegram" in str(unverified)
    # With a verified tag the key is right: the frame simply carries something else.
    tagged = build_apdu(notification, auth_key=SMARTY_AUTH_KEY)
    verified = only(P1Decoder(key=KEY, auth_key=SMARTY_AUTH_KEY).feed(tagged))
    assert type(verified) is DecodeError
    assert "no P1 telegram" in str(verified)
