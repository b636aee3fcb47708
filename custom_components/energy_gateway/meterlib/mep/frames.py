"""MEP messages on the wire: building requests, assembling and opening responses.

    request:  length(2, BE) | request code + data | sequence number(4, BE) | digest(8)
    response: length(2, BE) | response code + data | digest(8)

The length counts the bytes after itself and never exceeds 476. A response is only handed
on after its digest (the request's digest continued over the response) has been checked;
with RC4 it is decrypted first, since digests cover the plaintext. Zero-length messages
(`00 00`) are the meter's alert signal and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
import hmac
from typing import Final

from .cipher import packet_cipher, reply_cipher
from .digest import DIGEST_SIZE, DigestState, continue_digest, request_digest, request_state
from .errors import ByteCountError, DigestMismatchError, FramingError

LENGTH_SIZE: Final = 2
SEQUENCE_SIZE: Final = 4
MAX_MESSAGE: Final = 476
"""Largest message, counted after the length field (requests and responses alike)."""
READ_HEADER: Final = 3
"""Response code and 2-byte count in front of table data."""
MAX_READ_COUNT: Final = MAX_MESSAGE - READ_HEADER - DIGEST_SIZE
"""Most table bytes one read may ask for so that its response stays within MAX_MESSAGE."""
MIN_RESPONSE: Final = 1 + DIGEST_SIZE
SEQUENCE_MODULUS: Final = 1 << 32


class RequestCode(IntEnum):
    """Request codes of RC4/digest mode (guide, Tables 2.6/2.7)."""

    FULL_READ = 0x30
    PARTIAL_READ = 0x3F
    FULL_WRITE = 0x40
    PARTIAL_WRITE = 0x4F


class ResponseCode(IntEnum):
    """Response codes; 0x0B and 0x0C are MEP's own."""

    OK = 0x00
    UNRECOGNISED = 0x01
    UNSUPPORTED = 0x02
    NO_PERMISSION = 0x03
    NOT_POSSIBLE = 0x04
    TABLE_NOT_POSSIBLE = 0x05
    AUTHENTICATION_FAILED = 0x0B
    BAD_SEQUENCE = 0x0C


RESPONSE_MEANINGS: Final = {
    ResponseCode.UNRECOGNISED: "request not recognised",
    ResponseCode.UNSUPPORTED: "request not supported",
    ResponseCode.NO_PERMISSION: "no permission with this key",
    ResponseCode.NOT_POSSIBLE: "operation not possible",
    ResponseCode.TABLE_NOT_POSSIBLE: "table operation not possible",
}


def partial_read(table: int, offset: int, count: int) -> bytes:
    """The command (code and data) of an offset read of `count` bytes."""
    if not 0 < count <= MAX_READ_COUNT:
        raise ValueError(f"A read asks for 1..{MAX_READ_COUNT} bytes, not {count}")
    return (
        bytes([RequestCode.PARTIAL_READ])
        + table.to_bytes(2, "big")
        + offset.to_bytes(3, "big")
        + count.to_bytes(2, "big")
    )


@dataclass(frozen=True, slots=True)
class Request:
    """One request as sent, with what is needed to check (and decrypt) its reply."""

    body: bytes
    """Plaintext from the request code through the sequence number."""
    digest: bytes
    wire: bytes
    """The bytes to write: length, (encrypted) body, digest."""
    state: DigestState
    """The body's unfinished digest, which every genuine reply continues."""
    base_key: bytes | None
    """RC4 base key when the request went encrypted, else None."""

    @property
    def sequence(self) -> int:
        """The sequence number this request carries."""
        return int.from_bytes(self.body[-SEQUENCE_SIZE:], "big")


def build_request(
    key: bytes, command: bytes, sequence: int, *, base_key: bytes | None = None
) -> Request:
    """Frame `command` with its sequence number and digest; RC4-encrypt it given `base_key`."""
    body = command + (sequence % SEQUENCE_MODULUS).to_bytes(SEQUENCE_SIZE, "big")
    digest = request_digest(key, body)
    payload = body if base_key is None else packet_cipher(base_key, digest).update(body)
    length = len(body) + DIGEST_SIZE
    if length > MAX_MESSAGE:
        raise ValueError(f"An MEP request holds at most {MAX_MESSAGE} bytes, not {length}")
    wire = length.to_bytes(LENGTH_SIZE, "big") + payload + digest
    return Request(body, digest, wire, request_state(key, body), base_key)


@dataclass(frozen=True, slots=True)
class Reply:
    """A verified response: its code and the data after the code (digest removed)."""

    code: int
    data: bytes
    verified: bool = True
    """False only for an authentication failure (0x0B), which carries no usable digest."""


def open_response(key: bytes, request: Request, message: bytes) -> Reply:
    """Decrypt and verify one response message (the bytes after its length field).

    Raises FramingError for a message too short to hold a code and digest, and
    DigestMismatchError when the digest does not match: the message was damaged on the
    way, or answers another request. A short `0B` is returned unverified: the meter sends
    it in clear with no meaningful digest.
    """
    if not MIN_RESPONSE <= len(message) <= MAX_MESSAGE:
        raise FramingError(f"An MEP response of {len(message)} bytes is impossible", raw=message)
    payload, digest = message[:-DIGEST_SIZE], message[-DIGEST_SIZE:]
    body = payload
    if request.base_key is not None:
        body = reply_cipher(request.base_key, request.digest, len(request.body)).update(payload)
    if hmac.compare_digest(continue_digest(key, request.state, body), digest):
        return Reply(body[0], body[1:])
    if len(payload) == 1 and payload[0] == ResponseCode.AUTHENTICATION_FAILED:
        return Reply(ResponseCode.AUTHENTICATION_FAILED, b"", verified=False)
    raise DigestMismatchError("Response digest does not match; response discarded", raw=message)


def read_data(reply: Reply, expected_count: int, message: bytes = b"") -> bytes:
    """Table data of a verified read reply, after checking its byte count."""
    data = reply.data
    if len(data) < READ_HEADER - 1:
        raise ByteCountError("Read response without its byte count", raw=message)
    count = int.from_bytes(data[:2], "big")
    table = data[2:]
    if count != len(table):
        raise ByteCountError(
            f"Read response announces {count} bytes but carries {len(table)}", raw=message
        )
    if count != expected_count:
        raise ByteCountError(f"Asked for {expected_count} bytes, got {count}", raw=message)
    return table


class FrameAssembler:
    """Cuts a byte stream into messages by their length field; reassembles long replies.

    Replies longer than 117 bytes come in chunks; `feed` may be called with any split. An
    impossible length means the stream is out of step: everything buffered is dropped (the
    client then retries), counted in `discarded`.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.discarded = 0
        """Bytes thrown away because they could not start a message."""
        self.alerts = 0
        """Zero-length alert messages skipped."""

    @property
    def pending(self) -> int:
        """Bytes of an unfinished message held."""
        return len(self._buffer)

    def reset(self) -> int:
        """Drop any unfinished message; return how many bytes that was."""
        dropped = len(self._buffer)
        self._buffer.clear()
        return dropped

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return each message (without its length field) they complete."""
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        while len(buffer) >= LENGTH_SIZE:
            length = int.from_bytes(buffer[:LENGTH_SIZE], "big")
            if length == 0:
                self.alerts += 1
                del buffer[:LENGTH_SIZE]
                continue
            if length > MAX_MESSAGE or length < MIN_RESPONSE:
                self.discarded += len(buffer)
                buffer.clear()
                break
            end = LENGTH_SIZE + length
            if len(buffer) < end:
                break
            messages.append(bytes(buffer[LENGTH_SIZE:end]))
            del buffer[:end]
        return messages
