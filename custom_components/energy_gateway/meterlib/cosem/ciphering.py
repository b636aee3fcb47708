"""DLMS general-glo-ciphering (APDU tag 0xDB): header parsing and AES-GCM decryption.

Format-neutral: encrypted P1 wraps an ASCII telegram in this APDU, the DLMS push sources wrap
a data-notification. Layout: `DB | title length | system title | length | SC | frame counter |
ciphertext | [tag]`, where the length (A-XDR form) counts SC, frame counter, ciphertext and tag.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import (
    Cipher,
    CipherAlgorithm,
    CipherContext,
    algorithms,
    modes,
)

from ..core.errors import DecodeError, KeyRequiredError, WrongKeyError
from .axdr import read_length

GLO_CIPHERING_TAG = 0xDB
SYSTEM_TITLE_LENGTH = 8
TAG_LENGTH = 12
"""DLMS truncates the GCM tag to 12 bytes."""

SC_AUTHENTICATED = 0x10
SC_ENCRYPTED = 0x20
SC_BROADCAST_KEY = 0x40
SC_COMPRESSED = 0x80

_SC_AND_COUNTER = 5  # security control byte + 4-byte frame counter
AES_KEY_LENGTHS = (16, 24, 32)
"""Key sizes AES accepts, in bytes (meters use 16)."""
_SUITE_MASK = 0x0F
_LAST_SUITE = 2  # DLMS security suites 0-2


def usual_security(security_control: int, *, needs: int = SC_ENCRYPTED | SC_AUTHENTICATED) -> bool:
    """True when a security control byte is one meters send: at least one of `needs` set,
    suite 0-2, no broadcast key, no compression. Line noise that happens to start like a
    ciphered APDU rarely passes this."""
    return (
        bool(security_control & needs)
        and not security_control & (SC_BROADCAST_KEY | SC_COMPRESSED)
        and security_control & _SUITE_MASK <= _LAST_SUITE
    )


class CipheredApdu(NamedTuple):
    """The parts of a general-glo-ciphering APDU, before decryption."""

    system_title: bytes
    security_control: int
    frame_counter: int
    body: bytes
    """Ciphertext (plaintext when SC lacks the encryption bit), without the tag."""
    tag: bytes
    """The 12-byte GCM tag, or b"" when SC lacks the authentication bit."""
    length: int
    """Bytes the APDU occupies, header and tag included."""

    @property
    def iv(self) -> bytes:
        """The 12-byte GCM initialisation vector: system title, then frame counter."""
        return self.system_title + self.frame_counter.to_bytes(4, "big")


class DecryptedApdu(NamedTuple):
    """Result of `GloDecryptor.decrypt`."""

    plaintext: bytes
    system_title: bytes
    frame_counter: int
    security_control: int
    tag_verified: bool
    """True only when the GCM tag was checked against an authentication key."""


def read_header(data: bytes | bytearray | memoryview) -> tuple[int, int] | None:
    """Return (position of the SC byte, declared length), None while the header is cut off.

    Raises DecodeError as soon as the bytes cannot start a general-glo-ciphering APDU.
    """
    if len(data) < 2:
        return None
    if data[0] != GLO_CIPHERING_TAG:
        raise DecodeError(f"not a general-glo-ciphering APDU (tag 0x{data[0]:02X})")
    if data[1] != SYSTEM_TITLE_LENGTH:
        # The IV needs exactly 8 title bytes; anything else is a different or broken frame.
        raise DecodeError(f"system title length {data[1]}, expected {SYSTEM_TITLE_LENGTH}")
    length = read_length(data, 2 + SYSTEM_TITLE_LENGTH)
    if length is None:
        return None
    declared, body_start = length
    if declared < _SC_AND_COUNTER:
        raise DecodeError(f"ciphered length {declared} is too short for SC and frame counter")
    return body_start, declared


def apdu_length(data: bytes | bytearray | memoryview) -> int | None:
    """Total size of the APDU starting at data[0], or None while its header is incomplete.

    For framing a stream: raises DecodeError as soon as the header cannot be valid.
    """
    header = read_header(data)
    if header is None:
        return None
    body_start, declared = header
    return body_start + declared


def parse_apdu(data: bytes | bytearray | memoryview) -> CipheredApdu:
    """Split an APDU into its parts; bytes after its declared length are ignored."""
    header = read_header(data)
    if header is None:
        raise DecodeError("ciphered APDU header is truncated", raw=bytes(data))
    sc_pos, declared = header
    end = sc_pos + declared
    if end > len(data):
        raise DecodeError(
            f"ciphered APDU declares {declared} bytes, only {len(data) - sc_pos} present",
            raw=bytes(data),
        )
    security_control = data[sc_pos]
    tag_length = TAG_LENGTH if security_control & SC_AUTHENTICATED else 0
    if declared < _SC_AND_COUNTER + tag_length:
        raise DecodeError(f"ciphered length {declared} leaves no room for the tag", raw=bytes(data))
    body_start = sc_pos + _SC_AND_COUNTER
    body_end = end - tag_length
    return CipheredApdu(
        system_title=bytes(data[2 : 2 + SYSTEM_TITLE_LENGTH]),
        security_control=security_control,
        frame_counter=int.from_bytes(data[sc_pos + 1 : body_start], "big"),
        body=bytes(data[body_start:body_end]),
        tag=bytes(data[body_end:end]),
        length=end,
    )


class GloDecryptor:
    """Decrypts the general-glo-ciphering APDUs of one stream with its key pair.

    With an authentication key, a tagged frame's GCM tag is verified (WrongKeyError on a
    mismatch). Otherwise the body is decrypted unchecked: GCM's keystream is plain AES-CTR
    from counter block IV || 00000002, so the caller must validate the plaintext. An
    encrypted frame without key raises KeyRequiredError; a key that is no AES key, ValueError
    (a setup error, not bad input).

    Built once per stream: untagged frames (and tagged ones without an authentication key)
    get their keystream from one reused AES block context, so a frame costs no cipher set-up.
    """

    def __init__(self, key: bytes | None, auth_key: bytes | None = None) -> None:
        if key is not None and len(key) not in AES_KEY_LENGTHS:
            raise ValueError(f"AES key must be 16, 24 or 32 bytes, got {len(key)}")
        self._cipher = None if key is None else _block_cipher(bytes(key))
        self._auth_key = auth_key
        self._blocks: CipherContext | None = None  # made when the first CTR frame arrives

    @property
    def authenticates(self) -> bool:
        """True when tagged frames get their GCM tag checked (an authentication key is set)."""
        return self._cipher is not None and self._auth_key is not None

    def decrypt(
        self, apdu: CipheredApdu, data: bytes | bytearray | memoryview = b""
    ) -> DecryptedApdu:
        """Decrypt a parsed APDU; `data`, its bytes, only goes into errors' `raw`."""
        security_control = apdu.security_control
        if security_control & SC_COMPRESSED:
            raise DecodeError("compressed ciphered APDUs are not supported", raw=bytes(data))
        encrypted = bool(security_control & SC_ENCRYPTED)
        cipher = self._cipher
        if cipher is None:
            if encrypted:
                raise KeyRequiredError("frame is encrypted and no key is set", raw=bytes(data))
            return _result(apdu, apdu.body, verified=False)
        if apdu.tag and self._auth_key is not None:
            plaintext = _gcm_verified(apdu, cipher.algorithm, self._auth_key, encrypted)
            return _result(apdu, plaintext, verified=True)
        if not encrypted:
            return _result(apdu, apdu.body, verified=False)
        return _result(apdu, self._ctr(apdu.iv, apdu.body), verified=False)

    def _ctr(self, iv: bytes, body: bytes) -> bytes:
        """AES-CTR from counter block IV || 00000002 (GCM's keystream after J0)."""
        size = len(body)
        if not size:
            return b""
        blocks = -(-size // _BLOCK)
        suffixes = _COUNTERS[:blocks] if blocks <= len(_COUNTERS) else _counters(blocks)
        counters = iv + iv.join(suffixes)  # IV c2 IV c3 ... in one call
        block_function = self._blocks
        if block_function is None:
            # Over whole blocks ECB keeps no state between calls: one context serves all frames.
            assert self._cipher is not None
            block_function = self._blocks = self._cipher.encryptor()
        keystream = block_function.update(counters)
        mixed = int.from_bytes(body, "big") ^ int.from_bytes(keystream[:size], "big")
        return mixed.to_bytes(size, "big")


_BLOCK = 16


@lru_cache(maxsize=8)
def _block_cipher(key: bytes) -> Cipher[modes.ECB]:
    """The AES block function of a key, which makes the CTR keystream (ECB is never applied
    to data). Shared by the decoders of one key: building it costs more than a frame's
    decryption, and one-off decodes (the setup flow's probes, the command line) build a
    decoder each time."""
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305


def _counters(blocks: int) -> tuple[bytes, ...]:
    """The low 32 bits of counter blocks 2, 3, ... (GCM increments only those)."""
    return tuple((number & 0xFFFFFFFF).to_bytes(4, "big") for number in range(2, blocks + 2))


_COUNTERS = _counters(1100)  # enough for a 16 KiB APDU, the largest a stream accepts


def _gcm_verified(
    apdu: CipheredApdu, aes: CipherAlgorithm, auth_key: bytes, encrypted: bool
) -> bytes:
    """Decrypt (or, for authentication-only frames, just check) with the GCM tag verified."""
    mode = modes.GCM(apdu.iv, apdu.tag, min_tag_length=TAG_LENGTH)
    decryptor = Cipher(aes, mode).decryptor()
    aad = bytes((apdu.security_control,)) + auth_key
    if encrypted:
        decryptor.authenticate_additional_data(aad)
        try:
            return decryptor.update(apdu.body) + decryptor.finalize()
        except InvalidTag:
            raise WrongKeyError("GCM tag mismatch: wrong key(s) or corrupted frame") from None
    # Authentication only: the clear body is part of the authenticated data (GMAC).
    decryptor.authenticate_additional_data(aad + apdu.body)
    try:
        decryptor.finalize()
    except InvalidTag:
        raise WrongKeyError("GMAC tag mismatch: wrong key(s) or corrupted frame") from None
    return apdu.body


def _result(apdu: CipheredApdu, plaintext: bytes, *, verified: bool) -> DecryptedApdu:
    return DecryptedApdu(
        plaintext=plaintext,
        system_title=apdu.system_title,
        frame_counter=apdu.frame_counter,
        security_control=apdu.security_control,
        tag_verified=verified,
    )
