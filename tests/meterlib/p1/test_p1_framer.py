"""Stream framing: chunking, noise, cut-off telegrams, size cap, end of input."""

from __future__ import annotations

import random

from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.p1.decoder import P1Decoder
from custom_components.energy_gateway.meterlib.p1.framer import MAX_TELEGRAM_LENGTH, P1Framer
from custom_components.energy_gateway.meterlib.p1.telegram import parse_telegram

from ..conftest import vector, with_crc

# Telegrams that end in CRLF, so a stream of them is complete without a flush.
STREAM_NAMES = [
    "dsmr_v5.txt",
    "dsmr_v2_2.txt",
    "fluvius_v171.txt",
    "q3d_esy5q3db1024_v304.txt",
    "dsmr_v5_unpadded_crc_warmtelink.txt",
    "eon_hungary_v5.txt",
    "iskra_ie.txt",
]
NOISE = b"\x00\xff\xfe garbage 1234 \r\n!!! ABC\r\n/1 /x\r\n\xdb\x07"


def expected() -> list[Snapshot]:
    return [parse_telegram(vector(name)) for name in STREAM_NAMES]


def stream(separator: bytes = b"") -> bytes:
    return separator + separator.join(vector(name) for name in STREAM_NAMES) + separator


def test_whole_stream() -> None:
    assert P1Decoder().feed(stream()) == expected()


def test_every_byte_alone() -> None:
    decoder = P1Decoder()
    data = stream()
    results = [r for i in range(len(data)) for r in decoder.feed(data[i : i + 1])]
    assert results == expected()


def test_split_at_every_boundary() -> None:
    data = vector("dsmr_v5.txt") + vector("fluvius_v171.txt")
    want = [parse_telegram(vector("dsmr_v5.txt")), parse_telegram(vector("fluvius_v171.txt"))]
    for cut in range(len(data) + 1):
        decoder = P1Decoder()
        assert decoder.feed(data[:cut]) + decoder.feed(data[cut:]) == want, cut


def test_noise_between_and_around_telegrams() -> None:
    assert P1Decoder().feed(stream(NOISE)) == expected()


def test_random_chunk_sizes_with_noise() -> None:
    rng = random.Random(7)
    data = stream(NOISE)
    decoder = P1Decoder()
    results: list[Snapshot | DecodeError] = []
    pos = 0
    while pos < len(data):
        size = rng.randint(1, 200)
        results += decoder.feed(data[pos : pos + size])
        pos += size
    assert results == expected()


def test_joining_mid_telegram_drops_the_fragment_silently() -> None:
    data = vector("dsmr_v5.txt")
    assert P1Decoder().feed(data[300:] + data) == [parse_telegram(data)]


def test_telegram_cut_off_by_the_next_one() -> None:
    data = vector("dsmr_v5.txt")
    results = P1Decoder().feed(data[:400] + data)
    assert len(results) == 2
    error, snap = results
    assert isinstance(error, DecodeError)
    assert "cut off" in str(error)
    assert error.raw == data[:400]
    assert snap == parse_telegram(data)


def test_lf_only_lower_case_and_short_crc() -> None:
    body = vector("dsmr_v5.txt").split(b"!")[0].replace(b"\r\n", b"\n") + b"!"
    telegram = with_crc(body)
    crc = telegram[telegram.index(b"!") + 1 : -2]
    assert crc.upper() != crc.lower()  # there are letters to lower
    lf_only = telegram[: -2 - len(crc)] + crc.lower() + b"\n"
    results = P1Decoder().feed(lf_only + vector("dsmr_v5_unpadded_crc_warmtelink.txt"))
    assert [type(r) for r in results] == [Snapshot, Snapshot]
    assert isinstance(results[0], Snapshot)
    assert results[0].value("1-0:1.8.1") == 4.426


def test_crc_line_without_line_end_before_next_start() -> None:
    first = vector("dsmr_v5.txt").replace(b"!6EEE\r\n", b"!6EEE")
    results = P1Decoder().feed(first + vector("fluvius_v171.txt"))
    assert [r.variant for r in results if isinstance(r, Snapshot)] == ["dsmr5", "fluvius"]


def test_crc_line_padding_is_bounded() -> None:
    framer = P1Framer()
    messages = framer.feed(b"/ABC5\r\n\r\n1-0:1.8.1(1*kWh)\r\n!\r\r\r\r\r\r\r\r\r\r\r\r")
    assert len(messages) == 1
    assert isinstance(messages[0], bytes)
    assert messages[0].endswith(b"!\r\r\r\r\r\r\r\r")


def test_size_cap_bounds_the_buffer() -> None:
    framer = P1Framer()
    messages = framer.feed(b"/ABC5 never ends")
    chunk = b"1-0:1.8.1(1*kWh)\r\n" * 64
    for _ in range(2 * MAX_TELEGRAM_LENGTH // len(chunk)):
        messages += framer.feed(chunk)
        assert framer.pending_bytes <= MAX_TELEGRAM_LENGTH + len(chunk)
    assert len(messages) == 1
    assert isinstance(messages[0], DecodeError)
    assert "longer than" in str(messages[0])
    assert len(messages[0].raw) == MAX_TELEGRAM_LENGTH
    assert framer.feed(vector("dsmr_v5.txt"))[-1] == vector("dsmr_v5.txt")


def test_noise_alone_keeps_almost_nothing() -> None:
    framer = P1Framer()
    rng = random.Random(3)
    for _ in range(100):
        assert framer.feed(rng.randbytes(1000).replace(b"/", b"x").replace(b"\xdb", b"y")) == []
        assert framer.pending_bytes <= 3


def test_flush_completes_a_telegram_without_final_line_end() -> None:
    decoder = P1Decoder()
    data = vector("aviborg_ascii1Data.txt")
    assert data.endswith(b"!6F4A")
    assert decoder.feed(data) == []
    results = decoder.flush()
    assert len(results) == 1
    assert isinstance(results[0], Snapshot)
    assert results[0].value("1-0:1.8.1") == 671.578
    assert decoder.flush() == []


def test_flush_reports_incomplete_messages() -> None:
    decoder = P1Decoder()
    decoder.feed(vector("dsmr_v5.txt")[:200])
    (error,) = decoder.flush()
    assert isinstance(error, DecodeError)
    assert "inside a telegram" in str(error)
    decoder.feed(vector("smarty_format_encrypted_synthetic_esphome_libs.bin")[:100])
    (error,) = decoder.flush()
    assert isinstance(error, DecodeError)
    assert "encrypted frame" in str(error)
    decoder.feed(b"just noise")
    assert decoder.flush() == []


def test_false_cipher_start_in_noise_is_skipped() -> None:
    noise = b"\xdb\x08" + b"12345678" + b"\x80" + b"zz"  # not a valid length prefix
    assert P1Decoder().feed(noise + vector("dsmr_v5.txt")) == [
        parse_telegram(vector("dsmr_v5.txt"))
    ]


def test_bad_telegram_comes_back_as_error_with_raw() -> None:
    bad = vector("aviborg_data2.txt") + b"\r\n"
    results = P1Decoder().feed(bad + vector("dsmr_v5.txt"))
    assert len(results) == 2
    assert isinstance(results[0], DecodeError)
    assert results[0].raw == bad
    assert isinstance(results[1], Snapshot)
