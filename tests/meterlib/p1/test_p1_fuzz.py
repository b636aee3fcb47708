"""Robustness: mutated and random input only ever gives Snapshots or DecodeErrors; memory is flat.

Budget: about a minute on two cores (hypothesis example counts and loop sizes are set for that).
"""

from __future__ import annotations

from datetime import datetime
import gc
import random
import re
import tracemalloc

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.p1.decoder import P1Decoder
from custom_components.energy_gateway.meterlib.p1.telegram import parse_telegram

from ..conftest import (
    ENCRYPTED_FRAME,
    PLAIN_TELEGRAMS,
    SMARTY_AUTH_KEY,
    SMARTY_KEY,
    feed_in_chunks,
    vector,
    with_crc,
)

VECTORS = [vector(name) for name in [*PLAIN_TELEGRAMS, ENCRYPTED_FRAME]]
_REDUCED_OBIS = re.compile(r"\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}")
# Every data line of every plaintext vector: material for grammar-aware generation.
LINES = sorted(
    {
        line
        for name in PLAIN_TELEGRAMS
        for line in vector(name).split(b"\r\n")
        if line[:1].isdigit() or line.startswith(b"(")
    }
)
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def assert_sane(result: object) -> None:
    """A result is a well-formed Snapshot or a DecodeError carrying bytes."""
    if isinstance(result, DecodeError):
        assert isinstance(result.raw, bytes)
        return
    assert isinstance(result, Snapshot)
    assert result.readings
    for obis, reading in result.readings.items():
        assert reading.obis == obis
        assert _REDUCED_OBIS.fullmatch(obis)
        assert reading.value is None or isinstance(reading.value, float | int | str | datetime)
        assert reading.captured is None or reading.captured.tzinfo is not None
        if isinstance(reading.value, float):
            assert reading.value == reading.value  # never NaN


def parse_any(data: bytes) -> Snapshot | DecodeError:
    """parse_telegram, with the one exception it may raise turned into a value."""
    try:
        return parse_telegram(data)
    except DecodeError as err:
        return err


def decoder() -> P1Decoder:
    return P1Decoder(key=SMARTY_KEY, auth_key=SMARTY_AUTH_KEY)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random corruption of the kinds a serial line or bridge produces."""
    buffer = bytearray(data)
    kind = rng.randrange(6)
    pos = rng.randrange(len(buffer) + 1)
    if kind == 0 and buffer:  # bit flips
        for _ in range(rng.randint(1, 4)):
            buffer[rng.randrange(len(buffer))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncation
        del buffer[pos:]
    elif kind == 2:  # inserted bytes
        buffer[pos:pos] = rng.randbytes(rng.randint(1, 16))
    elif kind == 3:  # a lost stretch
        del buffer[pos : pos + rng.randint(1, 64)]
    elif kind == 4:  # a repeated stretch
        buffer[pos:pos] = buffer[pos : pos + rng.randint(1, 64)]
    else:  # random bytes in place
        for offset in range(rng.randint(1, 32)):
            if pos + offset < len(buffer):
                buffer[pos + offset] = rng.randrange(256)
    return bytes(buffer)


def test_mutated_vectors() -> None:
    rng = random.Random(1123)
    for data in VECTORS:
        stream = decoder()
        for _ in range(250):
            mutated = mutate(data, rng)
            assert_sane(parse_any(mutated))
            for result in stream.feed(mutated):
                assert_sane(result)
        for result in stream.flush():
            assert_sane(result)


def test_every_single_bit_error_is_caught_or_harmless() -> None:
    """In a CRC-protected telegram a single flipped bit never yields different values.

    A good telegram follows the flipped one: the framer must resynchronise. Every bit of the
    DSMR 5 vector is tried; for E.ON (no version line to lean on) a random sample.
    """
    rng = random.Random(5)
    for name, sample in (("dsmr_v5.txt", None), ("eon_hungary_v5.txt", 1500)):
        good = vector(name)
        original = parse_telegram(good)
        flips = [(pos, bit) for pos in range(len(good)) for bit in range(8)]
        for pos, bit in flips if sample is None else rng.sample(flips, sample):
            flipped = bytearray(good)
            flipped[pos] ^= 1 << bit
            results = decoder().feed(bytes(flipped) + good)
            assert results[-1] == original, (pos, bit)
            for result in results[:-1]:
                assert isinstance(result, DecodeError) or result == original, (pos, bit)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(data: bytes) -> None:
    assert_sane(parse_any(data))
    assert_sane(parse_any(b"/ABC5\r\n\r\n" + data + b"\r\n!\r\n"))
    for result in decoder().feed(data):
        assert_sane(result)


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.sampled_from(LINES),
            st.binary(max_size=40),
            st.text(alphabet="0123456789.*()-:!/SWkWhm3 \r", max_size=40).map(str.encode),
        ),
        max_size=40,
    ),
    st.booleans(),
)
def test_generated_telegrams(lines: list[bytes], checksum: bool) -> None:
    body = b"/XYZ5 fuzz\r\n\r\n" + b"".join(line + b"\r\n" for line in lines) + b"!"
    data = with_crc(body) if checksum else body + b"\r\n"
    result = parse_any(data)
    assert_sane(result)
    if checksum and not any(b"!" in line for line in lines):
        # A whole telegram with a valid CRC fails only when not one line is readable.
        assert isinstance(result, Snapshot) or "no readable line" in str(result)


@FUZZ
@given(
    st.lists(st.sampled_from(range(len(VECTORS))), min_size=1, max_size=6),
    st.lists(st.binary(max_size=30), max_size=6),
    st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=20),
)
def test_streams_in_random_chunks(picks: list[int], noise: list[bytes], sizes: list[int]) -> None:
    parts = [VECTORS[i] for i in picks]
    stream = b"".join(part + (noise[i] if i < len(noise) else b"") for i, part in enumerate(parts))
    whole = decoder().feed(stream)
    results = feed_in_chunks(decoder(), stream, sizes)
    for result in results:
        assert_sane(result)
    # Chunking never changes what is decoded.
    assert [r for r in results if isinstance(r, Snapshot)] == [
        r for r in whole if isinstance(r, Snapshot)
    ]


def test_memory_stays_flat_over_100k_telegrams() -> None:
    """Feed 100,000 telegrams through one decoder; nothing may pile up between 10k and 100k.

    Most are a one-line telegram carrying the power-failure log (whose parsing leaks in
    dsmr_parser); every batch of 500 also carries the rich vectors (peak history, M-Bus, DSMR 2
    gas, Q3D), an encrypted frame, a bad CRC and noise. Tracing starts at 10k, so the snapshot
    at 100k holds exactly the growth. (Tracing slows allocation about fivefold: hence the small
    telegram, which keeps this test near 20 s.)
    """
    compact = with_crc(
        b"/KFM5\r\n\r\n1-0:99.97.0(1)(0-0:96.7.19)(000104180320W)(0000237126*s)\r\n!"
    )
    rich = [
        "dsmr_v4_2_kaifa.txt",
        "dsmr_v5_two_mbus.txt",
        "fluvius_v171_alt_with_98_1_0_garbage_ts.txt",
        "q3d_esy5q3db1024_v304.txt",
        "dsmr_v2_2.txt",
    ]
    batch = compact * 494 + b"".join(vector(name) for name in rich) + b"\xff noise \r\n"
    batch += vector("aviborg_data2.txt") + b"\r\n" + vector(ENCRYPTED_FRAME)
    per_batch = 494 + len(rich) + 2
    stream = decoder()
    first = stream.feed(batch)
    assert sum(isinstance(r, Snapshot) for r in first) == per_batch - 1  # one bad CRC

    def run(telegrams: int) -> None:
        for _ in range(telegrams // per_batch):
            assert len(stream.feed(batch)) == per_batch

    run(10_000 - per_batch)
    gc.collect()
    tracemalloc.start()
    try:
        at_10k = tracemalloc.take_snapshot()
        run(90_000)
        gc.collect()
        at_100k = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    growth = sum(stat.size_diff for stat in at_100k.compare_to(at_10k, "filename"))
    assert growth < 64 * 1024, at_100k.compare_to(at_10k, "lineno")[:5]
