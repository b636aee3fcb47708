"""A-XDR decoding, COSEM date-times and DLMS units."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
import math
import time as clock

import pytest

from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.core.units import canonical_unit
from custom_components.energy_gateway.meterlib.cosem.axdr import (
    MAX_DEPTH,
    AxdrValue,
    BitString,
    CosemDate,
    CosemDateTime,
    CosemTime,
    Data,
    Tag,
    TruncatedError,
    decode,
    parse_date_time,
)
from custom_components.energy_gateway.meterlib.dlms.cosem_units import apply_scaler, unit_name

from .dlms_fixtures import CEST, CET, decode_all

DT = bytes.fromhex("07E5091B01092F0F00FF8880")  # 2021-09-27 09:47:15, deviation -120, DST


@pytest.mark.parametrize(
    ("encoded", "tag", "value"),
    [
        ("00", Tag.NULL, None),
        ("0300", Tag.BOOLEAN, False),
        ("0301", Tag.BOOLEAN, True),
        ("05FFFFFF85", Tag.DOUBLE_LONG, -123),
        ("0600003289", Tag.DOUBLE_LONG_UNSIGNED, 12937),
        ("09034B464D", Tag.OCTET_STRING, b"KFM"),
        ("0A0B4149444F4E5F5630303031", Tag.VISIBLE_STRING, "AIDON_V0001"),
        ("0C03C3A46B", Tag.UTF8_STRING, "äk"),
        ("0D42", Tag.BCD, 42),
        ("0FFD", Tag.INTEGER, -3),
        ("10FF9C", Tag.LONG, -100),
        ("11FE", Tag.UNSIGNED, 254),
        ("120921", Tag.LONG_UNSIGNED, 2337),
        ("14FFFFFFFFFFFFFFFE", Tag.LONG64, -2),
        ("15000000010000000A", Tag.LONG64_UNSIGNED, (1 << 32) + 10),
        ("161E", Tag.ENUM, 30),
        ("173FC00000", Tag.FLOAT32, 1.5),
        ("18C004000000000000", Tag.FLOAT64, -2.5),
        ("1A07E80C1F02", Tag.DATE, CosemDate(2024, 12, 31, 2)),
        ("1B0C1E2DFF", Tag.TIME, CosemTime(12, 30, 45, 255)),
    ],
)
def test_simple_types(encoded: str, tag: int, value: AxdrValue) -> None:
    data = decode_all(bytes.fromhex(encoded))
    assert data == Data(tag, value)


def test_date_time_type_and_bit_string() -> None:
    stamp = decode_all(b"\x19" + DT)
    assert stamp.tag == Tag.DATE_TIME
    assert isinstance(stamp.value, CosemDateTime)
    assert stamp.value.to_datetime() == datetime(2021, 9, 27, 9, 47, 15, tzinfo=CEST)
    bits = decode_all(bytes.fromhex("040AB2C0"))
    assert bits == Data(Tag.BIT_STRING, BitString(b"\xb2\xc0", 10))
    assert str(bits.value) == "1011001011"


def test_nested_structure_and_positions() -> None:
    raw = bytes.fromhex("0202 0906 0100010800FF 06 00003289".replace(" ", ""))
    value, end = decode(raw + b"\xaa", 0)
    assert end == len(raw)
    code = Data(Tag.OCTET_STRING, b"\x01\x00\x01\x08\x00\xff")
    assert value == Data(Tag.STRUCTURE, (code, Data(Tag.DOUBLE_LONG_UNSIGNED, 12937)))
    array, _ = decode(bytes.fromhex("0102 1100 1101"), 0)
    assert array == Data(Tag.ARRAY, (Data(Tag.UNSIGNED, 0), Data(Tag.UNSIGNED, 1)))


def test_long_form_lengths() -> None:
    text = b"x" * 200
    assert decode_all(b"\x0a\x81\xc8" + text) == Data(Tag.VISIBLE_STRING, "x" * 200)
    assert decode_all(b"\x09\x82\x00\x03abc") == Data(Tag.OCTET_STRING, b"abc")
    items = b"\x11\x07" * 300
    value = decode_all(b"\x01\x82\x01\x2c" + items)
    assert isinstance(value.value, tuple)
    assert len(value.value) == 300


@pytest.mark.parametrize(
    "encoded",
    [
        "0202090601000108",  # structure cut inside its OBIS
        "06000032",
        "0A05414243",
        "0981",  # long length prefix without its byte
        "0D",
        "03",
        "0410FF",  # 16 bits, one byte
        "19" + "07E5091B",
        "1A07E8",
        "1B0C",
        "",
    ],
)
def test_truncated_input(encoded: str) -> None:
    with pytest.raises(TruncatedError):
        decode(bytes.fromhex(encoded))


def test_every_cut_of_a_body_is_truncated() -> None:
    body = bytes.fromhex("020309060100200700FF1209210202 0FFF 1623".replace(" ", ""))
    assert decode_all(body).tag == Tag.STRUCTURE
    for cut in range(len(body)):
        with pytest.raises(TruncatedError):
            decode(body[:cut])


def test_huge_lengths_allocate_nothing() -> None:
    """Declared sizes far beyond the input fail at once, before anything is sized by them."""
    start = clock.perf_counter()
    for encoded in ("0984FFFFFFFF", "0184FFFFFFFF11", "0284FFFFFFFF", "0484FFFFFFFF00"):
        with pytest.raises(TruncatedError, match="exceeds the input"):
            decode(bytes.fromhex(encoded))
    assert clock.perf_counter() - start < 0.05


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("0985", "unsupported A-XDR length prefix"),
        ("1300", "unsupported A-XDR type tag 0x13"),
        ("FF", "unsupported A-XDR type tag 0xFF"),
        ("0D4A", "not two decimal digits"),
        ("0DA1", "not two decimal digits"),
    ],
)
def test_malformed_input(encoded: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message) as info:
        decode(bytes.fromhex(encoded))
    assert not isinstance(info.value, TruncatedError)


def test_nesting_limit() -> None:
    deep = b"\x02\x01" * MAX_DEPTH + b"\x00"
    value = decode_all(deep)
    for _ in range(MAX_DEPTH):
        assert value.tag == Tag.STRUCTURE
        assert isinstance(value.value, tuple)
        value = value.value[0]
    assert value == Data(Tag.NULL, None)
    with pytest.raises(DecodeError, match="nested too deeply"):
        decode_all(b"\x02\x01" * (MAX_DEPTH + 1) + b"\x00")
    assert decode_all(b"\x01\x01" * 3 + b"\x11\x05", max_depth=3).tag == Tag.ARRAY


def stamp(hexed: str) -> CosemDateTime:
    return parse_date_time(bytes.fromhex(hexed))


def test_deviation_gives_the_utc_offset_with_the_sign_flipped() -> None:
    assert stamp("07E5091B01092F0F00FF8880").to_datetime() == datetime(
        2021, 9, 27, 9, 47, 15, tzinfo=CEST
    )
    assert stamp("07E60B0C0610360000FFC400").to_datetime() == datetime(
        2022, 11, 12, 16, 54, tzinfo=CET
    )
    west = stamp("07E60B0C061036000A003C00").to_datetime()
    assert west == datetime(2022, 11, 12, 16, 54, 0, 100_000, tzinfo=timezone(timedelta(hours=-1)))


def test_unspecified_deviation_is_central_european_time() -> None:
    # The DST bit of the clock status decides, whatever the date says.
    assert stamp("07E1090F05052128FF800080").to_datetime() == datetime(
        2017, 9, 15, 5, 33, 40, tzinfo=CEST
    )
    assert stamp("07E1090F05052128FF800000").to_datetime() == datetime(
        2017, 9, 15, 5, 33, 40, tzinfo=CET
    )
    # Status unspecified too: the EU summer-time rule for the date.
    assert stamp("07E30C1001073B28FF8000FF").to_datetime() == datetime(
        2019, 12, 16, 7, 59, 40, tzinfo=CET
    )
    assert stamp("07E80701FF0C0000FF8000FF").to_datetime() == datetime(2024, 7, 1, 12, tzinfo=CEST)
    # A deviation beyond 14 hours is a broken field, read like an unspecified one.
    assert stamp("07E80701FF0C0000FF7FFF80").to_datetime() == datetime(2024, 7, 1, 12, tzinfo=CEST)


@pytest.mark.parametrize(
    ("local", "summer"),
    [
        ("2024-03-31T01:59:00", False),  # last Sunday of March, before 02:00 CET
        ("2024-03-31T02:00:00", True),
        ("2024-10-27T01:59:00", True),  # last Sunday of October
        ("2024-10-27T02:00:00", False),  # the repeated hour counts as winter time
        ("2023-03-26T03:00:00", True),
        ("2023-10-29T01:00:00", True),
        ("2023-10-29T03:00:00", False),
    ],
)
def test_eu_summer_time_rule(local: str, summer: bool) -> None:
    moment = datetime.fromisoformat(local)
    raw = (
        moment.year.to_bytes(2, "big")
        + bytes((moment.month, moment.day, 0xFF, moment.hour, moment.minute, 0, 0xFF))
        + b"\x80\x00\xff"
    )
    assert parse_date_time(raw).to_datetime() == moment.replace(tzinfo=CEST if summer else CET)


@pytest.mark.parametrize(
    "hexed",
    [
        "FFFF091B01092F0F00FF8880",  # year unspecified
        "07E5FF1B01092F0F00FF8880",  # month unspecified
        "07E509FF01092F0F00FF8880",  # day unspecified
        "07E5091B01FF2F0F00FF8880",  # hour unspecified
        "07E5091B0109FF0F00FF8880",  # minute unspecified
        "07E5021E01092F0F00FF8880",  # 30 February
        "07E5091B01092F3D00FF8880",  # second 61
        "07E5091B01092F0F64FF8880",  # hundredths 100
    ],
)
def test_unusable_date_times_give_none(hexed: str) -> None:
    assert stamp(hexed).to_datetime() is None


def test_unspecified_seconds_read_as_zero() -> None:
    assert stamp("07E5091B01092FFFFFFF8880").to_datetime() == datetime(
        2021, 9, 27, 9, 47, tzinfo=CEST
    )


@pytest.mark.parametrize(
    ("hexed", "plausible"),
    [
        ("07E5091B01092F0F00FF8880", True),
        ("FFFFFFFFFFFFFFFFFFFF8000", True),  # everything unspecified
        ("07E5FE1BFF092F0FFF800080", True),  # DST-begin month marker
        ("07CF091B01092F0F00FF8880", False),  # 1999
        ("0834091B01092F0F00FF8880", False),  # 2100
        ("07E50D1B01092F0F00FF8880", False),  # month 13
        ("07E5001B01092F0F00FF8880", False),  # month 0
        ("07E5092001092F0F00FF8880", False),  # day 32
        ("07E5091B01182F0F00FF8880", False),  # hour 24
        ("07E5091B01093C0F00FF8880", False),  # minute 60
        ("07E5091B01092F3C00FF8880", False),  # second 60
    ],
)
def test_plausibility(hexed: str, plausible: bool) -> None:
    assert stamp(hexed).plausible() is plausible


def test_date_and_time_values() -> None:
    assert CosemDate(2024, 2, 29, 4).to_date() == date(2024, 2, 29)
    assert CosemDate(2023, 2, 29, 4).to_date() is None
    assert CosemDate(0xFFFF, 1, 1, 0xFF).to_date() is None
    assert CosemDate(2024, 0xFE, 1, 0xFF).to_date() is None
    assert CosemTime(23, 59, 59, 99).to_time() == time(23, 59, 59, 990_000)
    assert CosemTime(7, 5, 0xFF, 0xFF).to_time() == time(7, 5)
    assert CosemTime(0xFF, 0, 0, 0).to_time() is None
    assert CosemTime(7, 5, 60, 0).to_time() is None
    with pytest.raises(DecodeError, match="12 bytes"):
        parse_date_time(b"\x07\xe5")


# --- units ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "unit"),
    [
        (27, "W"),
        (28, "VA"),
        (29, "var"),
        (30, "Wh"),
        (31, "VAh"),
        (32, "varh"),
        (33, "A"),
        (35, "V"),
        (44, "Hz"),
        (7, "s"),
        (9, "°C"),
        (13, "m³"),
        (19, "L"),
        (56, "%"),
        (255, None),
        (254, None),
        (200, "unit 200"),
        (1, "unit 1"),  # calendar units are not mistaken for anything
    ],
)
def test_unit_names(code: int, unit: str | None) -> None:
    assert unit_name(code) == unit


def test_unit_spellings_are_the_canonical_ones() -> None:
    for code in (4, 5, 6, 7, 9, 13, 19, 27, 28, 29, 30, 31, 32, 33, 35, 44, 56):
        name = unit_name(code)
        assert canonical_unit(name) == name


@pytest.mark.parametrize(
    ("raw", "scaler", "unit", "value"),
    [
        (2337, -1, "V", 233.7),
        (383, -2, "A", 3.83),
        (968, -3, None, 0.968),
        (1000, -3, None, 1.0),
        (3, -1, "A", 0.3),
        (12937, 0, "Wh", 12937.0),
        (83, 0, None, 83),
        (631, 1, "Wh", 6310.0),
        (5, 3, "Wh", 5000.0),
        (True, 0, None, 1),
        (1.5, 0, "W", 1.5),
        (2.5, -1, "V", 0.25),
        (1e308, 10, "W", None),
        (math.nan, 0, "W", None),
        (math.inf, -1, "W", None),
    ],
)
def test_apply_scaler(raw: float, scaler: int, unit: str | None, value: float | None) -> None:
    result = apply_scaler(raw, scaler, unit)
    assert result == value
    assert type(result) is type(value)
