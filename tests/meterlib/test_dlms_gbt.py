"""General Block Transfer: block parsing and reassembly."""

from __future__ import annotations

import pytest

from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.cosem.axdr import TruncatedError
from custom_components.energy_gateway.meterlib.dlms.gbt import (
    MAX_APDU,
    GbtAssembler,
    GbtBlock,
    parse_block,
    parse_blocks,
)
from custom_components.energy_gateway.meterlib.dlms.hdlc import HdlcFramer, HdlcMessage

from .dlms_fixtures import length, wire


def block(number: int, data: bytes, *, last: bool = False, control: int = 0x40) -> bytes:
    control |= 0x80 if last else 0
    return (
        b"\xe0"
        + bytes((control,))
        + number.to_bytes(2, "big")
        + b"\x00\x00"
        + length(len(data))
        + data
    )


def landis_gyr_blocks() -> list[bytes]:
    framed = HdlcFramer().feed(wire("hdlc_landis_gyr_e450"))
    return [item.payload for item in framed if isinstance(item, HdlcMessage)]


def test_landis_gyr_blocks() -> None:
    payloads = landis_gyr_blocks()
    blocks = [parse_block(payload) for payload in payloads]
    assert [(b.number, b.last, b.streaming, b.window, len(b.data)) for b in blocks] == [
        (1, False, True, 0, 0x77),
        (2, False, True, 0, 0x7A),
        (3, True, True, 0, 0x1F),  # C0: last block, streaming
    ]
    assert [b.length for b in blocks] == [len(p) for p in payloads]
    assembler = GbtAssembler()
    assert assembler.add(blocks[0]) == []
    assert assembler.pending
    assert assembler.add(blocks[1]) == []
    (apdu,) = assembler.add(blocks[2])
    assert isinstance(apdu, bytes)
    assert apdu[:2] == b"\xdb\x08"
    assert len(apdu) == 0x77 + 0x7A + 0x1F
    assert apdu[10:13] == b"\x82\x01\x03"  # ciphered length 259
    assert not assembler.pending


def test_block_fields() -> None:
    raw = bytes.fromhex("E0C5000700030548454C4C4F")
    parsed = parse_block(raw)
    assert parsed == GbtBlock(
        last=True,
        streaming=True,
        window=5,
        number=7,
        acknowledged=3,
        data=b"HELLO",
        length=len(raw),
    )
    long_block = block(1, bytes(300))
    assert parse_block(long_block).data == bytes(300)
    assert parse_block(b"\x00" + long_block, 1).length == len(long_block)


@pytest.mark.parametrize("cut", [1, 5, 6, 7, 10])
def test_truncated_blocks(cut: int) -> None:
    raw = block(1, bytes(200))
    with pytest.raises(TruncatedError):
        parse_block(raw[:cut])


def test_not_a_block() -> None:
    with pytest.raises(DecodeError, match="not a general-block-transfer block"):
        parse_block(b"\x0f\x00")


def test_several_blocks_in_one_payload() -> None:
    payload = block(1, b"ab") + block(2, b"cd", last=True)
    blocks = parse_blocks(payload)
    assert [(b.number, b.data) for b in blocks] == [(1, b"ab"), (2, b"cd")]
    with pytest.raises(DecodeError, match="the frame ends inside the block"):
        parse_blocks(payload[:-1])


def test_single_last_block_is_a_whole_apdu() -> None:
    assert GbtAssembler().add(parse_block(block(1, b"\x0f\x01", last=True))) == [b"\x0f\x01"]


def test_orphans_before_block_one_are_dropped_silently() -> None:
    assembler = GbtAssembler()
    assert assembler.add(parse_block(block(2, b"x"))) == []
    assert assembler.add(parse_block(block(3, b"y", last=True))) == []
    assert assembler.add(parse_block(block(1, b"a"))) == []
    assert assembler.add(parse_block(block(2, b"b", last=True))) == [b"ab"]


def test_gap_after_alignment_is_an_error() -> None:
    assembler = GbtAssembler()
    assembler.add(parse_block(block(1, b"a")))
    (error,) = assembler.add(parse_block(block(3, b"c", last=True)))
    assert isinstance(error, DecodeError)
    assert "block 3, expected 2" in str(error)
    assert not assembler.pending
    (error,) = assembler.add(parse_block(block(2, b"b")))
    assert "block 2, expected 1" in str(error)


def test_restart_cuts_the_pending_apdu() -> None:
    assembler = GbtAssembler()
    assembler.add(parse_block(block(1, b"old")))
    results = assembler.add(parse_block(block(1, b"new", last=True)))
    assert isinstance(results[0], DecodeError)
    assert "cut off by a new block 1" in str(results[0])
    assert results[1] == b"new"


def test_size_cap() -> None:
    assembler = GbtAssembler()
    chunk = bytes(4000)
    results: list[bytes | DecodeError] = []
    for number in range(1, 6):
        results += assembler.add(parse_block(block(number, chunk)))
    (error,) = results
    assert isinstance(error, DecodeError)
    assert f"longer than {MAX_APDU} bytes" in str(error)
    assert not assembler.pending
    assembler.reset()
    assert assembler.add(parse_block(block(2, b"z"))) != []  # aligned: still an error
    # Empty blocks count with their headers: an endless run of them is cut off too.
    number = 0
    results = []
    while not results:
        number += 1
        results = assembler.add(parse_block(block(number, b"")))
    assert f"longer than {MAX_APDU} bytes" in str(results[0])
    assert number == MAX_APDU // 7 + 1  # 7-byte blocks
