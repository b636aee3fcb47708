"""General-glo-ciphering: header parsing, GCM with tag check, CTR without, and bad input."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import pytest

from custom_components.energy_gateway.meterlib.core.errors import (
    DecodeError,
    KeyRequiredError,
    WrongKeyError,
)
from custom_components.energy_gateway.meterlib.cosem.ciphering import (
    DecryptedApdu,
    GloDecryptor,
    apdu_length,
    parse_apdu,
    read_length,
)

from ..conftest import ENCRYPTED_FRAME, FIXTURES, SMARTY_AUTH_KEY, SMARTY_KEY, vector


def decrypt_apdu(frame: bytes, key: bytes | None, auth_key: bytes | None = None) -> DecryptedApdu:
    """One frame through a decryptor of its own, as a stream's first frame goes."""
    return GloDecryptor(key, auth_key).decrypt(parse_apdu(frame), frame)


KEY = bytes(range(16))
AUTH_KEY = bytes(range(100, 116))
TITLE = b"TESTMETR"


def encode_length(size: int, form: str) -> bytes:
    if form == "short":
        assert size < 0x80
        return bytes((size,))
    width = int(form[1])
    return bytes((0x80 | width,)) + size.to_bytes(width, "big")


def build_apdu(
    plaintext: bytes,
    *,
    security_control: int = 0x30,
    key: bytes = KEY,
    auth_key: bytes = AUTH_KEY,
    counter: int = 7,
    form: str = "82",
) -> bytes:
    """Encrypt/authenticate like a meter does (GCM, tag truncated to 12 bytes)."""
    iv = TITLE + counter.to_bytes(4, "big")
    aad = bytes((security_control,)) + auth_key
    if security_control & 0x20:
        sealed = AESGCM(key).encrypt(iv, plaintext, aad)
        body, tag = sealed[:-16], sealed[-16:-4]
    else:
        body, tag = plaintext, AESGCM(key).encrypt(iv, b"", aad + plaintext)[:12]
    if not security_control & 0x10:
        tag = b""
    content = bytes((security_control,)) + counter.to_bytes(4, "big") + body + tag
    return b"\xdb\x08" + TITLE + encode_length(len(content), form) + content


def test_parse_the_smarty_vector() -> None:
    frame = vector(ENCRYPTED_FRAME)
    apdu = parse_apdu(frame)
    assert apdu.system_title == b"SYSTEMID"
    assert apdu.security_control == 0x30
    assert apdu.frame_counter == 0x10000001
    assert apdu.length == len(frame) == 511
    assert len(apdu.tag) == 12
    assert len(apdu.body) == 511 - 13 - 5 - 12
    assert apdu.iv == b"SYSTEMID\x10\x00\x00\x01"
    assert apdu_length(frame) == 511


def test_decrypt_with_and_without_tag_check() -> None:
    frame = vector(ENCRYPTED_FRAME)
    plaintext = vector("sagemcom_t210_d_r_plaintext.txt")
    verified = decrypt_apdu(frame, SMARTY_KEY, SMARTY_AUTH_KEY)
    assert verified.plaintext == plaintext
    assert verified.tag_verified
    assert (verified.system_title, verified.frame_counter, verified.security_control) == (
        b"SYSTEMID",
        0x10000001,
        0x30,
    )
    unverified = decrypt_apdu(frame, SMARTY_KEY)
    assert unverified.plaintext == plaintext
    assert not unverified.tag_verified


def test_real_kamstrup_frame_verifies() -> None:
    hex_text = (FIXTURES / "dlms_security" / "hdlc_kamstrup_omnipower.hex").read_text()
    frame = bytes.fromhex(hex_text.strip())
    apdu = frame[frame.index(b"\xdb\x08") : -3]  # between the HDLC header and FCS + flag
    key = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    auth_key = bytes.fromhex("FFEEDDCCBBAA99887766554433221100")
    result = decrypt_apdu(apdu, key, auth_key)
    assert result.tag_verified
    assert result.system_title == bytes.fromhex("4B414D4501349083")
    assert result.frame_counter == 17784996
    assert result.plaintext[0] == 0x0F  # a data-notification
    assert decrypt_apdu(apdu, key).plaintext == result.plaintext
    with pytest.raises(WrongKeyError):
        decrypt_apdu(apdu, key, SMARTY_AUTH_KEY)


def test_wrong_keys() -> None:
    frame = vector(ENCRYPTED_FRAME)
    with pytest.raises(WrongKeyError, match="tag"):
        decrypt_apdu(frame, SMARTY_KEY, bytes(16))
    with pytest.raises(WrongKeyError):
        decrypt_apdu(frame, bytes(16), SMARTY_AUTH_KEY)
    # Without a tag check a wrong key yields noise; the caller must notice.
    noise = decrypt_apdu(frame, bytes(16))
    assert not noise.tag_verified
    assert not noise.plaintext.startswith(b"/")


def test_key_required_and_key_size() -> None:
    frame = vector(ENCRYPTED_FRAME)
    with pytest.raises(KeyRequiredError) as caught:
        decrypt_apdu(frame, None, SMARTY_AUTH_KEY)
    assert caught.value.raw == frame
    with pytest.raises(ValueError, match="16, 24 or 32"):
        decrypt_apdu(frame, bytes(10))


@pytest.mark.parametrize("form", ["short", "81", "82", "84"])
def test_length_forms(form: str) -> None:
    plaintext = b"0123456789" * {"short": 4, "81": 20}.get(form, 30)
    frame = build_apdu(plaintext, form=form)
    assert apdu_length(frame) == len(frame)
    result = decrypt_apdu(frame, KEY, AUTH_KEY)
    assert (result.plaintext, result.tag_verified, result.frame_counter) == (plaintext, True, 7)


@pytest.mark.parametrize("prefix", [b"\x80", b"\x85\x00\x00\x00\x00\x10"])
def test_unsupported_length_prefix(prefix: bytes) -> None:
    frame = b"\xdb\x08" + TITLE + prefix + bytes(40)
    with pytest.raises(DecodeError, match="length prefix"):
        apdu_length(frame)
    with pytest.raises(DecodeError):
        parse_apdu(frame)


def test_every_truncation_is_a_decode_error() -> None:
    frame = vector(ENCRYPTED_FRAME)
    for size in range(len(frame)):
        with pytest.raises(DecodeError):
            parse_apdu(frame[:size])
        assert apdu_length(frame[:size]) == (None if size < 13 else 511)


def test_trailing_bytes_are_ignored() -> None:
    frame = vector(ENCRYPTED_FRAME)
    result = decrypt_apdu(frame + b"more bytes", SMARTY_KEY, SMARTY_AUTH_KEY)
    assert result.plaintext == vector("sagemcom_t210_d_r_plaintext.txt")
    assert parse_apdu(frame + b"xx").length == 511


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"\xdc\x08" + TITLE + b"\x05\x20\x00\x00\x00\x01", "not a general-glo-ciphering"),
        (b"\xdb\x09" + TITLE + b"X\x05\x20\x00\x00\x00\x01", "system title length"),
        (b"\xdb\x08" + TITLE + b"\x04\x20\x00\x00\x00", "too short"),
        (b"\xdb\x08" + TITLE + b"\x08\x30\x00\x00\x00\x01abc", "no room for the tag"),
        (b"\xdb\x08" + TITLE + b"\x82\x00", "truncated"),
    ],
)
def test_malformed_headers(frame: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        parse_apdu(frame)


def test_encrypted_without_tag_decrypts_by_counter_mode() -> None:
    plaintext = b"/TST5 no tag on this one\r\n!"
    frame = build_apdu(plaintext, security_control=0x20)
    result = decrypt_apdu(frame, KEY, AUTH_KEY)  # an auth key cannot help without a tag
    assert (result.plaintext, result.tag_verified) == (plaintext, False)
    suite_one = build_apdu(plaintext, security_control=0x21)
    assert decrypt_apdu(suite_one, KEY).plaintext == plaintext


def test_authentication_only() -> None:
    body = b"\x0f\x00\x00\x00\x01clear but signed"
    frame = build_apdu(body, security_control=0x10)
    result = decrypt_apdu(frame, KEY, AUTH_KEY)
    assert (result.plaintext, result.tag_verified) == (body, True)
    assert decrypt_apdu(frame, None).plaintext == body
    assert not decrypt_apdu(frame, KEY).tag_verified
    tampered = frame[:-1] + bytes((frame[-1] ^ 1,))
    with pytest.raises(WrongKeyError, match="GMAC"):
        decrypt_apdu(tampered, KEY, AUTH_KEY)


def test_plain_and_compressed() -> None:
    body = b"no security at all"
    plain = build_apdu(body, security_control=0x00)
    assert decrypt_apdu(plain, None).plaintext == body
    compressed = build_apdu(body, security_control=0xB0)
    with pytest.raises(DecodeError, match="compressed"):
        decrypt_apdu(compressed, KEY, AUTH_KEY)


def test_read_length() -> None:
    assert read_length(b"\x05", 0) == (5, 1)
    assert read_length(b"\x82\x01\xf2", 0) == (0x1F2, 3)
    assert read_length(b"\x82\x01", 0) is None
    assert read_length(b"", 0) is None


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 255, 1024, 16 * 1100 - 1, 16 * 1100 + 5])
def test_one_decryptor_serves_a_stream(size: int) -> None:
    """The reused keystream context decrypts frame after frame as a fresh GCM would.

    Sizes around the AES block and past the precomputed counter table.
    """
    decryptor = GloDecryptor(KEY)
    for counter in (1, 2, 0xFFFFFFFE):
        plaintext = bytes((counter + index) % 251 for index in range(size))
        apdu = build_apdu(plaintext, security_control=0x30, counter=counter)
        result = decryptor.decrypt(parse_apdu(apdu), apdu)
        assert result.plaintext == plaintext
        assert not result.tag_verified
        untagged = build_apdu(plaintext, security_control=0x20, counter=counter)
        assert decryptor.decrypt(parse_apdu(untagged), untagged).plaintext == plaintext
