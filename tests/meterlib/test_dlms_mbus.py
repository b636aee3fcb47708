"""Wired M-Bus long frames carrying DLMS segments: framing, checksum, reassembly, resync."""

from __future__ import annotations

import pytest

from custom_components.energy_gateway.meterlib.core.errors import ChecksumError, DecodeError
from custom_components.energy_gateway.meterlib.dlms.mbus import (
    NEED_MORE,
    NO_FRAME,
    MbusFramer,
    MbusMessage,
    find_frame,
    frame_length,
    parse_frame,
)

from .dlms_fixtures import mbus_frame, mbus_frames, wire

EVN = "at_netznoe_kaifa_ma309m_evn_doc_example"
SAGEMCOM = "at_netznoe_sagemcom_t210d_fkw9"


def messages(items: list[MbusMessage | DecodeError]) -> list[MbusMessage]:
    found = [item for item in items if isinstance(item, MbusMessage)]
    assert len(found) == len(items), items
    return found


def test_evn_example_two_segments() -> None:
    data = wire(EVN)
    assert frame_length(data) == 256  # 68 FA FA 68 + 250 + CS 16
    first = parse_frame(data[:256])
    assert (first.control, first.address, first.ci) == (0x53, 0xFF, 0x00)
    assert (first.source_tsap, first.destination_tsap) == (0x01, 0x67)
    assert (first.segment, first.last) == (0, False)
    assert len(first.data) == 245
    second = parse_frame(data[256:])
    assert (second.segment, second.last, len(second.data)) == (1, True, 15)
    (message,) = messages(MbusFramer().feed(data))
    assert message.frames == 2
    assert message.raw == data
    assert message.apdu == first.data + second.data
    assert message.apdu[:3] == b"\xdb\x08K"  # general-glo-ciphering, title "KFM..."
    assert len(message.apdu) == 2 + 8 + 2 + 248


def test_sagemcom_l_overflow() -> None:
    """`68 01 01 68` opens a 263-byte frame: an L below 3 means L + 256."""
    data = wire(SAGEMCOM)
    assert data[:4] == b"\x68\x01\x01\x68"
    assert frame_length(data) == 263
    assert len(parse_frame(data[:263]).data) == 252
    (message,) = messages(MbusFramer().feed(data))
    assert (message.frames, len(message.apdu)) == (2, 260)


def test_single_frame_ci_10() -> None:
    data = wire("at_kswest_els_mbus_nokey")
    (message,) = messages(MbusFramer().feed(data))
    assert message.frames == 1
    assert len(message.apdu) == 2 + 8 + 1 + 0x4D


def test_frame_length_states() -> None:
    frame = mbus_frame(b"\x0f\x00")
    assert frame_length(frame) == len(frame)
    assert frame_length(b"") == NEED_MORE
    assert frame_length(frame[:1]) == NEED_MORE
    assert frame_length(frame[:3]) == NEED_MORE
    assert frame_length(frame[:-1]) == NEED_MORE
    assert frame_length(b"\x10") == NO_FRAME
    assert frame_length(b"\x68\x07\x08") == NO_FRAME
    assert frame_length(b"\x68\x07\x07\x69") == NO_FRAME
    assert frame_length(frame[:-1] + b"\x17") == NO_FRAME
    assert frame_length(b"\x00" + frame, 1) == len(frame)


def test_checksum_and_non_dlms_frames() -> None:
    frame = bytearray(mbus_frame(b"\x0f\x00\x00"))
    frame[-2] ^= 0xFF
    with pytest.raises(ChecksumError, match="M-Bus checksum mismatch"):
        parse_frame(bytes(frame))
    short = bytes((0x68, 3, 3, 0x68, 0x53, 0xFF, 0x10, 0x62, 0x16))
    with pytest.raises(DecodeError, match="L = 3 carries no DLMS segment"):
        parse_frame(short)
    with pytest.raises(DecodeError, match="CI 0x72"):
        parse_frame(mbus_frame(b"\x00" * 12, ci=0x72))
    assert not find_frame(short + bytes(frame))
    assert find_frame(b"\x68\x68" + mbus_frame(b"\x01"))


def test_bytewise_and_every_split() -> None:
    data = wire(EVN) * 2
    expected = messages(MbusFramer().feed(data))
    assert len(expected) == 2
    framer = MbusFramer()
    bytewise = [item for i in range(len(data)) for item in framer.feed(data[i : i + 1])]
    assert messages(bytewise) == expected
    for cut in range(0, len(data), 7):
        framer = MbusFramer()
        assert messages(framer.feed(data[:cut]) + framer.feed(data[cut:])) == expected
        assert framer.pending_bytes == 0


def test_noise_mid_frame_start_and_68_bytes() -> None:
    data = wire(EVN)
    noise = b"\x68\x68\x16\x68\x05\x05\x68\x00\x16\xff"
    stream = data[100:] + noise + data + b"\x68\x01\x01" + noise + data
    results = MbusFramer().feed(stream)
    assert [type(item) for item in results] == [MbusMessage, MbusMessage]
    assert all(isinstance(m, MbusMessage) and m.raw == data for m in results)


def test_checksum_error_reported_then_next_frame() -> None:
    good = mbus_frame(b"\x0f\x01\x02")
    bad = bytearray(good)
    bad[7] ^= 0x01  # CI bit: the checksum no longer matches
    framer = MbusFramer()
    results = framer.feed(bytes(bad) + good)
    assert isinstance(results[0], ChecksumError)
    assert results[0].raw == bytes(bad)
    assert isinstance(results[1], MbusMessage)
    assert results[1].apdu == b"\x0f\x01\x02"


def test_non_dlms_frame_reported_and_skipped() -> None:
    results = MbusFramer().feed(mbus_frame(b"\x00" * 12, ci=0x72) + mbus_frame(b"\x0f"))
    assert isinstance(results[0], DecodeError)
    assert "CI 0x72" in str(results[0])
    assert isinstance(results[1], MbusMessage)


def test_segments_out_of_order() -> None:
    first = mbus_frame(b"A" * 10, ci=0x00)
    third = mbus_frame(b"C" * 10, ci=0x12)
    results = MbusFramer().feed(first + third)
    (error,) = results
    assert isinstance(error, DecodeError)
    assert "segment 2 arrived, expected segment 1" in str(error)
    assert error.raw == first + third


def test_new_first_segment_cuts_the_pending_apdu() -> None:
    framer = MbusFramer()
    stream = mbus_frame(b"old", ci=0x00) + mbus_frames(b"n" * 300)
    results = framer.feed(stream)
    assert isinstance(results[0], DecodeError)
    assert "new first segment" in str(results[0])
    assert isinstance(results[1], MbusMessage)
    assert results[1].apdu == b"n" * 300


def test_orphan_segments_before_the_first_are_dropped_silently() -> None:
    framer = MbusFramer()
    assert framer.feed(mbus_frame(b"tail", ci=0x11)) == []
    assert framer.synced
    assert framer.synced_at == 15
    # Once aligned, a stray continuation is an error.
    assert messages(framer.feed(mbus_frame(b"whole")))[0].apdu == b"whole"
    (error,) = framer.feed(mbus_frame(b"tail", ci=0x11))
    assert isinstance(error, DecodeError)
    assert "expected segment 0" in str(error)


def test_sixteen_segments_then_the_number_wraps() -> None:
    apdu = bytes(range(256)) * 15  # 3840 bytes in 16 segments of 240
    (message,) = messages(MbusFramer().feed(mbus_frames(apdu, 240)))
    assert (message.apdu, message.frames) == (apdu, 16)


def test_positions() -> None:
    data = wire(EVN)
    framer = MbusFramer()
    assert framer.feed_positions(b"\x00\x01") == []
    ((end, message),) = framer.feed_positions(data)
    assert end == 2 + len(data)
    assert isinstance(message, MbusMessage)
    assert framer.synced_at == 2 + 256


def test_flush_reports_unfinished_input() -> None:
    data = wire(EVN)
    framer = MbusFramer()
    assert framer.feed(data[:256]) == []
    assert framer.pending_bytes == 256
    (error,) = framer.flush()
    assert "input ended inside a segmented APDU" in str(error)
    assert framer.feed(data[256:270]) == []
    (error,) = framer.flush()
    assert "input ended inside an M-Bus frame" in str(error)
    assert error.raw == data[256:270]
    assert framer.flush() == []
    assert framer.pending_bytes == 0
