"""The MEP authentication digest (MEP Client Developer's Guide, Appendix A).

A faithful port of the guide's C reference `Digest()`: an 8-byte accumulator and a two-byte
state (key index, bit index) that let a message be digested in pieces. Every request carries
`request_digest(key, body)`; a response carries the digest of the request continued over the
response (`response_digest`). A bare `00` reply therefore repeats the request's digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DIGEST_SIZE: Final = 8
KEY_SIZE: Final = 16


@dataclass(slots=True)
class DigestState:
    """Where an unfinished digest stopped: the 8-byte accumulator and the key position."""

    value: bytearray
    key_index: int = 0
    bit_index: int = 0

    @classmethod
    def fresh(cls) -> DigestState:
        """The zeroed state every digest starts from."""
        return cls(bytearray(DIGEST_SIZE))

    def copy(self) -> DigestState:
        """An independent copy (a request's state is continued by each candidate reply)."""
        return DigestState(bytearray(self.value), self.key_index, self.bit_index)


def _mix_table(key_bit: int) -> bytes:
    """The reference's mixing term for every accumulator byte x (with n = ~x): the left
    rotation of n when the key bit is set, else the negated right rotation (mod 256)."""
    table = bytearray(256)
    for x in range(256):
        n = ~x & 0xFF
        mixed = (n << 1) + (n >> 7) if key_bit else -((n >> 1) + (n << 7))
        table[x] = mixed & 0xFF
    return bytes(table)


_MIX_SET: Final = _mix_table(1)
_MIX_CLEAR: Final = _mix_table(0)


def _key_iterations(key_length: int) -> int:
    # The reference walks the key one and a half times (six-byte keys once).
    return key_length if key_length == 6 else key_length + key_length // 2


def digest_update(key: bytes, data: bytes, state: DigestState, *, end: bool) -> None:
    """Run the reference `Digest()` over `data`, updating `state` in place.

    With `end` False the digest stops where the data runs out, keeping its position for the
    next call; with `end` True the remaining key bits are consumed with zero padding.
    """
    out = state.value
    key_length = len(key)
    iterations = _key_iterations(key_length)
    i, j = state.key_index, state.bit_index
    idx, remaining = 0, len(data)
    while True:
        while True:
            key_byte = key[i % key_length] >> j
            last = out[(8 - j) & 7]
            v = 7 - j
            while True:
                if remaining:
                    m = data[idx]
                    idx += 1
                    remaining -= 1
                elif end:
                    m = 0  # zero padding uses up the key bits left over
                else:
                    state.key_index, state.bit_index = i, 7 - v
                    return
                mix = _MIX_SET if key_byte & 1 else _MIX_CLEAR
                last = (last + m + mix[(out[v] + v) & 0xFF]) & 0xFF
                out[v] = last
                key_byte >>= 1
                if v == 0:
                    break
                v -= 1
            j = 0
            i += 1
            if i >= iterations:
                break
        i = 0
        if remaining <= 0:
            break
    state.key_index, state.bit_index = i, j


def request_digest(key: bytes, body: bytes) -> bytes:
    """Digest of a request: over request code .. sequence number, finished."""
    state = DigestState.fresh()
    digest_update(key, body, state, end=True)
    return bytes(state.value)


def request_state(key: bytes, body: bytes) -> DigestState:
    """The unfinished digest of a request, from which its response digest continues."""
    state = DigestState.fresh()
    digest_update(key, body, state, end=False)
    return state


def response_digest(key: bytes, request_body: bytes, response_body: bytes) -> bytes:
    """Digest a response must carry: the request's digest continued over the response body."""
    return continue_digest(key, request_state(key, request_body), response_body)


def continue_digest(key: bytes, state: DigestState, response_body: bytes) -> bytes:
    """Finish a copy of a request's unfinished digest over a response body."""
    state = state.copy()
    digest_update(key, response_body, state, end=True)
    return bytes(state.value)
