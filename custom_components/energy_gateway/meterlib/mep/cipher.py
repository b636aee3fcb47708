"""Optional RC4 encryption of MEP messages (MEP Client Developer's Guide, Appendix B).

The base key is RC4, keyed with the 16-byte MEP key, run over a published constant. Each
request is encrypted (request code .. sequence number) with RC4 keyed by the base key whose
first 8 bytes are XORed with the request's digest; the meter encrypts its reply with the same
keystream, continued. Digests are always computed over the plaintext.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext

# cryptography 43+ keeps ARC4 among its "decrepit" algorithms; the older location still
# works there but warns on every use.
try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
except ImportError:  # pragma: no cover - cryptography < 43
    from cryptography.hazmat.primitives.ciphers.algorithms import ARC4  # type: ignore[attr-defined,no-redef,unused-ignore]

from .digest import DIGEST_SIZE, KEY_SIZE

CONSTANT_KEY: Final = bytes.fromhex("388B8FBC36A8558587AFC90FB23A3B99")


def _keystream(key: bytes) -> CipherContext:
    # RC4 is weak, but it is what the meter speaks (and the digest authenticates).
    return Cipher(ARC4(key), mode=None).encryptor()  # noqa: S304


def encryption_base_key(mep_key: bytes) -> bytes:
    """The per-key base (`mep_EncryptKey` in the guide), computed once per key."""
    return _keystream(mep_key[:KEY_SIZE]).update(CONSTANT_KEY)


def packet_cipher(base_key: bytes, request_digest: bytes) -> CipherContext:
    """The RC4 stream of one request and its reply; `update` both encrypts and decrypts."""
    packet_key = (
        bytes(b ^ d for b, d in zip(base_key[:DIGEST_SIZE], request_digest, strict=True))
        + base_key[DIGEST_SIZE:]
    )
    return _keystream(packet_key)


def reply_cipher(base_key: bytes, request_digest: bytes, request_length: int) -> CipherContext:
    """The stream positioned after a request of `request_length` bytes, ready for its reply."""
    stream = packet_cipher(base_key, request_digest)
    stream.update(bytes(request_length))
    return stream
