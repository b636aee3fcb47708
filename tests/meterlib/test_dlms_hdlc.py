"""HDLC type-3 frames: length-based framing, HCS/FCS, addresses, segments, LLC, resync."""

from __future__ import annotations

import pytest

from custom_components.energy_gateway.meterlib.core.errors import ChecksumError, DecodeError
from custom_components.energy_gateway.meterlib.dlms.hdlc import (
    BROKEN,
    MAX_MESSAGE,
    NEED_MORE,
    NO_FRAME,
    HdlcFramer,
    HdlcMessage,
    find_frame,
    frame_length,
    parse_frame,
)

from .dlms_fixtures import LLC, hdlc_frame, wire


def messages(items: list[HdlcMessage | DecodeError]) -> list[HdlcMessage]:
    found = [item for item in items if isinstance(item, HdlcMessage)]
    assert len(found) == len(items), items
    return found


def test_single_frame_vector() -> None:
    data = wire("hdlc_kamstrup_omnipower")
    assert frame_length(data) == len(data) == 491
    frame = parse_frame(data)
    assert (frame.destination, frame.source, frame.control) == (b"\x41", b"\x03", 0x13)
    assert not frame.segmented
    assert frame.information[:3] == LLC
    (message,) = messages(HdlcFramer().feed(data))
    assert message.llc
    assert message.payload == frame.information[3:]
    assert message.payload[:2] == b"\xdb\x08"
    assert message.raw == data


def test_addresses_of_the_vectors() -> None:
    cases = {
        "hdlc_norway_han_1phase": (b"\x41", b"\x08\x83", 0x13),
        "hdlc_landis_gyr_e450": (b"\xce\xff", b"\x03", 0x13),
        "hdlc_iskra550": (b"\xcf", b"\x02\x23", 0x03),
        "hdlc_kaifa_ma304h3e": (b"\x01", b"\x02\x01", 0x10),
    }
    for name, (destination, source, control) in cases.items():
        data = wire(name)
        frame = parse_frame(data[: frame_length(data)])
        assert (frame.destination, frame.source, frame.control) == (destination, source, control)


def test_iskra_three_segments() -> None:
    data = wire("hdlc_iskra550")
    (message,) = messages(HdlcFramer().feed(data))
    assert message.frames == 3
    assert message.llc
    assert message.raw == data
    assert message.payload[:1] == b"\x0f"
    assert len(message.payload) == 154 + 154 + 35 - 3


def test_landis_gyr_frames_are_separate_messages() -> None:
    """GBT blocks: one message per unsegmented frame; only the first carries the LLC."""
    results = messages(HdlcFramer().feed(wire("hdlc_landis_gyr_e450")))
    assert [(m.llc, m.payload[:4].hex()) for m in results] == [
        (True, "e0400001"),
        (False, "e0400002"),
        (False, "e0c00003"),
    ]


def test_flag_bytes_inside_the_payload() -> None:
    info = LLC + b"\x0f\x7e\x7e\xa0\x7e" + b"\x7e" * 40
    frame = hdlc_frame(info)
    assert frame.count(b"\x7e") > 40
    (message,) = messages(HdlcFramer().feed(frame + frame))[:1]
    assert message.payload == info[3:]
    assert len(messages(HdlcFramer().feed(frame * 3))) == 3


def test_shared_and_doubled_flags() -> None:
    first, second = hdlc_frame(LLC + b"\x0f\x01"), hdlc_frame(LLC + b"\x0f\x02")
    shared = first + second[1:]  # the closing flag of the first opens the second
    assert [m.payload for m in messages(HdlcFramer().feed(shared))] == [b"\x0f\x01", b"\x0f\x02"]
    doubled = first + b"\x7e" + second
    assert len(messages(HdlcFramer().feed(doubled))) == 2


def test_frame_length_states() -> None:
    frame = hdlc_frame(LLC + b"\x0f")
    assert frame_length(frame) == len(frame)
    assert frame_length(b"") == NEED_MORE
    assert frame_length(frame[:2]) == NEED_MORE
    assert frame_length(frame[:5]) == NEED_MORE  # addresses cut off
    assert frame_length(frame[:9]) == NEED_MORE  # HCS cut off
    assert frame_length(frame[:-1]) == NEED_MORE
    assert frame_length(b"\x00") == NO_FRAME
    assert frame_length(b"\x7e\x70") == NO_FRAME
    assert frame_length(b"\x7e\x80\x20\x41") == NO_FRAME  # not format type 3
    assert frame_length(b"\x7e\xa0\x05\x41\x03\x13") == NO_FRAME  # shorter than a header
    assert frame_length(b"\x7e\xa0\x30\x00\x00\x00\x00\x01") == NO_FRAME  # 5-byte address
    bad_hcs = bytearray(frame)
    bad_hcs[7] ^= 0xFF
    assert frame_length(bytes(bad_hcs)) == NO_FRAME
    wrong_close = frame[:-1] + b"\x00"
    assert frame_length(wrong_close) == BROKEN  # the HCS vouches for a real, damaged frame
    assert frame_length(hdlc_frame(b"")[:-1] + b"\x00") == NO_FRAME
    # An information field too short to follow an HCS.
    header = b"\xa0\x08\x41\x03\x13"
    assert frame_length(b"\x7e" + header + b"\x00\x00\x00\x7e") == NO_FRAME


def test_four_byte_addresses_and_empty_frames() -> None:
    frame = hdlc_frame(LLC + b"\x0f", destination=b"\x00\x02\x00\x23", source=b"\x00\x00\x00\x01")
    parsed = parse_frame(frame)
    assert (parsed.destination, parsed.source) == (b"\x00\x02\x00\x23", b"\x00\x00\x00\x01")
    empty = hdlc_frame(b"", control=0x11)  # receive-ready: no information, no HCS
    assert parse_frame(empty).information == b""
    assert messages(HdlcFramer().feed(empty + frame))[0].payload == b"\x0f"


def test_fcs_mismatch_is_reported_and_the_next_frame_decodes() -> None:
    good = hdlc_frame(LLC + b"\x0f\x0a\x0b")
    bad = bytearray(good)
    bad[-4] ^= 0x01  # last information byte
    results = HdlcFramer().feed(bytes(bad) + good)
    assert isinstance(results[0], ChecksumError)
    assert results[0].raw == bytes(bad)
    assert isinstance(results[1], HdlcMessage)


def test_text_mode_bridge_hint() -> None:
    """A bridge that turns 0A into 0D 0A breaks the frame; the error says so."""
    good = hdlc_frame(LLC + b"\x0f\x0a\x00\x0a")
    mangled = good.replace(b"\x0a\x00\x0a", b"\x0d\x0a\x00\x0d\x0a")
    results = HdlcFramer().feed(mangled + good)
    assert isinstance(results[0], ChecksumError)
    assert "bytes were lost or added" in str(results[0])
    assert "bridge in text mode" in str(results[0])
    assert isinstance(results[1], HdlcMessage)
    # Same length, one byte replaced by 0D 0A's pair: the FCS catches it.
    swapped = bytearray(good)
    at = swapped.index(b"\x0a\x00")
    swapped[at - 1 : at + 1] = b"\x0d\x0a"
    (error,) = HdlcFramer().feed(bytes(swapped))
    assert isinstance(error, ChecksumError)
    assert "frame check sequence mismatch" in str(error)
    assert "bridge in text mode" in str(error)


def test_bad_hcs_is_skipped_silently() -> None:
    good = hdlc_frame(LLC + b"\x0f\x01")
    bad = bytearray(good)
    bad[6] ^= 0x10
    assert messages(HdlcFramer().feed(bytes(bad) + good))[0].payload == b"\x0f\x01"


def test_noise_and_mid_frame_start() -> None:
    data = wire("hdlc_norway_han_1phase")
    noise = b"\x7e\x7e\xa0\x7e\xa8\x05\x7e\x00\xff\x7e\xa0\xff\x41"
    results = messages(HdlcFramer().feed(data[50:] + noise + data + noise + data))
    assert len(results) == 2
    assert all(m.raw == data for m in results)


def test_mid_message_start_drops_the_partial_segmented_message() -> None:
    iskra = wire("hdlc_iskra550")
    second_frame = iskra.index(b"\x7e\xa8", 1)
    framer = HdlcFramer()
    assert framer.feed(iskra[second_frame:]) == []  # segments 2 and 3, no LLC: dropped
    (message,) = messages(framer.feed(iskra))
    assert message.frames == 3
    # A lone frame without LLC at the very start is whole, so it is kept.
    assert messages(HdlcFramer().feed(hdlc_frame(b"\x0f\x05")))[0].payload == b"\x0f\x05"


def test_every_split_and_bytewise() -> None:
    data = wire("hdlc_iskra550") + wire("hdlc_landis_gyr_e450")
    expected = messages(HdlcFramer().feed(data))
    assert len(expected) == 4
    framer = HdlcFramer()
    assert messages([m for i in range(len(data)) for m in framer.feed(data[i : i + 1])]) == expected
    for cut in range(0, len(data), 5):
        framer = HdlcFramer()
        assert messages(framer.feed(data[:cut]) + framer.feed(data[cut:])) == expected


def test_segmented_message_size_cap() -> None:
    chunk = hdlc_frame(b"\x00" * 2000, segmented=True)
    framer = HdlcFramer()
    results = framer.feed(hdlc_frame(LLC + b"\x0f", segmented=True) + chunk * 9)
    (error,) = results
    assert isinstance(error, DecodeError)
    assert f"longer than {MAX_MESSAGE} bytes" in str(error)
    assert framer.pending_bytes < 2 * len(chunk)


def test_positions_and_sync() -> None:
    frame = hdlc_frame(LLC + b"\x0f\x01")
    framer = HdlcFramer()
    assert (framer.synced, framer.synced_at) == (False, None)
    ((end, message),) = framer.feed_positions(b"\xff" * 3 + frame)
    assert end == 3 + len(frame)
    assert isinstance(message, HdlcMessage)
    assert framer.synced
    assert framer.synced_at == end


def test_flush_reports_unfinished_input() -> None:
    data = wire("hdlc_iskra550")
    framer = HdlcFramer()
    second_frame = data.index(b"\x7e\xa8", 1)
    assert framer.feed(data[: second_frame + 20]) == []
    errors = framer.flush()
    assert ["segmented HDLC message" in str(e) or "HDLC frame" in str(e) for e in errors] == [
        True,
        True,
    ]
    assert framer.flush() == []
    assert framer.pending_bytes == 0


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (hdlc_frame(LLC + b"\x0f"), True),
        (b"\x00\x7e" + hdlc_frame(b"\x0f")[:-3] + b"\x00\x00\x7e", False),
        (b"\x7e\xa0", False),
        (b"no flags at all", False),
    ],
)
def test_find_frame(data: bytes, found: bool) -> None:
    assert find_frame(data) is found
