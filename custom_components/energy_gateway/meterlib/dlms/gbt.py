"""General Block Transfer (GBT, APDU tag 0xE0): an APDU sent in numbered blocks.

`E0 | block-control | block-number(2) | block-number-ack(2) | length | block data`

Block control: bit 7 = last block, bit 6 = streaming, bits 5-0 = window size. The length
is an A-XDR length. The data of blocks 1, 2, ... joined in order is the APDU (Landis+Gyr
E450 pushes a ciphered APDU in three blocks, one per HDLC frame).
"""

from __future__ import annotations

from typing import NamedTuple

from ..core.errors import DecodeError
from ..cosem.axdr import TruncatedError, read_length

GBT_TAG = 0xE0
LAST_BLOCK = 0x80
STREAMING = 0x40
WINDOW = 0x3F
_HEADER = 6  # tag, block control, block number, acknowledged block number
MAX_APDU = 16 * 1024
"""Most bytes of blocks (headers included, so empty blocks count too) joined into one APDU."""


class GbtBlock(NamedTuple):
    """One block."""

    last: bool
    streaming: bool
    window: int
    number: int
    acknowledged: int
    data: bytes
    length: int
    """Bytes the block occupies, header included."""


def parse_block(data: bytes, pos: int = 0) -> GbtBlock:
    """Read the block starting at `pos`.

    Raises TruncatedError when the bytes end inside it and DecodeError when it is no block.
    """
    if pos < len(data) and data[pos] != GBT_TAG:
        raise DecodeError(f"not a general-block-transfer block (tag 0x{data[pos]:02X})")
    if len(data) - pos < _HEADER:
        raise TruncatedError("general-block-transfer header is cut off")
    found = read_length(data, pos + _HEADER)
    if found is None:
        raise TruncatedError("general-block-transfer length is cut off")
    size, start = found
    end = start + size
    if end > len(data):
        raise TruncatedError(f"general-block-transfer block of {size} bytes is cut off")
    control = data[pos + 1]
    return GbtBlock(
        last=bool(control & LAST_BLOCK),
        streaming=bool(control & STREAMING),
        window=control & WINDOW,
        number=int.from_bytes(data[pos + 2 : pos + 4], "big"),
        acknowledged=int.from_bytes(data[pos + 4 : pos + 6], "big"),
        data=data[start:end],
        length=end - pos,
    )


def parse_blocks(data: bytes) -> list[GbtBlock]:
    """Read the blocks that fill `data` back to back (one per frame is usual)."""
    blocks = []
    pos = 0
    while pos < len(data):
        try:
            block = parse_block(data, pos)
        except TruncatedError as err:
            raise DecodeError(f"{err} (the frame ends inside the block)") from None
        blocks.append(block)
        pos += block.length
    return blocks


class GbtAssembler:
    """Join blocks into APDUs.

    Blocks must come in order from number 1. A block that does not continue the APDU in
    progress drops that APDU with a DecodeError; blocks seen before the first block 1 (the
    stream started in the middle of a transfer) are dropped silently.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._next = 1
        self._aligned = False

    @property
    def pending(self) -> bool:
        """True while an APDU is half received."""
        return bool(self._parts)

    def add(self, block: GbtBlock) -> list[bytes | DecodeError]:
        """Take one block; return the APDU it completed and the errors it revealed."""
        out: list[bytes | DecodeError] = []
        if block.number == 1:
            if self._parts:
                out.append(DecodeError("general-block-transfer APDU cut off by a new block 1"))
            self.reset()
            self._aligned = True
        elif block.number != self._next:
            if self._aligned:
                out.append(
                    DecodeError(
                        f"general-block-transfer block {block.number}, expected {self._next}"
                    )
                )
            self.reset()
            return out
        self._parts.append(block.data)
        self._size += block.length
        self._next = block.number + 1
        if self._size > MAX_APDU:
            self.reset()
            out.append(DecodeError(f"general-block-transfer APDU longer than {MAX_APDU} bytes"))
        elif block.last:
            out.append(b"".join(self._parts))
            self.reset()
        return out

    def reset(self) -> None:
        """Forget the APDU in progress."""
        self._parts = []
        self._size = 0
        self._next = 1
