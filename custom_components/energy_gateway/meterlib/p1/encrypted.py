"""Encrypted P1 (Luxembourg Smarty, Austrian T210-D-R): a telegram inside a glo-ciphering APDU.

On the wire: `DB 08 <system title> 82 hi lo <SC> <frame counter> <ciphertext> <tag>`.
"""

from __future__ import annotations

from ..core.errors import DecodeError, WrongKeyError
from ..core.model import Snapshot
from ..cosem.ciphering import (
    GLO_CIPHERING_TAG,
    SC_ENCRYPTED,
    SYSTEM_TITLE_LENGTH,
    GloDecryptor,
    parse_apdu,
    read_header,
    usual_security,
)
from .telegram import parse_decrypted_telegram

FRAME_START = bytes((GLO_CIPHERING_TAG, SYSTEM_TITLE_LENGTH))
MAX_FRAME_LENGTH = 16 * 1024
"""Real frames are 0.5-2 KiB; a larger length field means we locked onto noise."""


def encrypted_frame_length(buffer: bytes | bytearray | memoryview) -> int | None:
    """Size of the encrypted frame at the start of `buffer`, None while its header is cut off.

    Raises DecodeError when the bytes cannot start an encrypted P1 frame. Besides the APDU
    header, the security control byte must say "encrypted" (suite 0-2, no compression or
    broadcast key), so that `DB 08` turning up in line noise is rarely taken for a frame.
    """
    header = read_header(buffer)
    if header is None or len(buffer) <= header[0]:
        return None
    sc_position, declared = header
    security_control = buffer[sc_position]
    if not usual_security(security_control, needs=SC_ENCRYPTED):
        raise DecodeError(f"security control 0x{security_control:02X} is not encrypted P1")
    length = sc_position + declared
    if length > MAX_FRAME_LENGTH:
        raise DecodeError(f"encrypted frame length {length} exceeds {MAX_FRAME_LENGTH}")
    return length


def decrypt_telegram(frame: bytes, decryptor: GloDecryptor) -> Snapshot:
    """Decrypt one frame with the stream's keys and parse the telegram inside.

    Raises KeyRequiredError without key and WrongKeyError when the GCM tag fails or, for an
    unverified frame, the plaintext is not a telegram with a valid CRC.
    """
    decrypted = decryptor.decrypt(parse_apdu(frame), frame)
    plaintext = decrypted.plaintext
    if not plaintext.startswith(b"/"):
        if decrypted.tag_verified:
            raise DecodeError("decrypted frame holds no P1 telegram", raw=frame)
        raise WrongKeyError("decrypted frame is not a telegram: key probably wrong", raw=frame)
    try:
        return parse_decrypted_telegram(plaintext)
    except DecodeError as err:
        if decrypted.tag_verified:
            # The key is proven right, so the meter itself sent a bad telegram.
            err.raw = frame
            raise
        raise WrongKeyError(
            f"decrypted telegram is invalid ({err}): key probably wrong", raw=frame
        ) from err
