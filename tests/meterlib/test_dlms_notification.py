"""data-notification APDUs and the body layouts: OBIS structures, flat triples and pairs,
positional lists."""

from __future__ import annotations

from datetime import datetime

import pytest

from custom_components.energy_gateway.meterlib.core.errors import DecodeError, UnsupportedListError
from custom_components.energy_gateway.meterlib.core.model import Reading
from custom_components.energy_gateway.meterlib.cosem.axdr import TruncatedError
from custom_components.energy_gateway.meterlib.dlms import lists
from custom_components.energy_gateway.meterlib.dlms.notification import (
    LAYOUT_PAIRS,
    LAYOUT_POSITIONAL,
    LAYOUT_STRUCTURES,
    LAYOUT_TRIPLES,
    parse_notification,
    parse_notifications,
    plausible,
    read_body,
)

from .dlms_fixtures import (
    CEST,
    CET,
    DATE_TIME,
    SIMPLE_BODY,
    array,
    decode_all,
    notification,
    obis,
    octets,
    scaler_unit,
    structure,
    u16,
    u32,
    visible,
)

EVN_DT = bytes.fromhex("07E5091B01092F0F00FF8880")


def values(body: bytes) -> dict[str, tuple[object, str | None]]:
    content = read_body(decode_all(body))
    return {code: (r.value, r.unit) for code, r in content.readings.items()}


# --- the APDU ---------------------------------------------------------------------------


def test_date_time_forms() -> None:
    plain = parse_notification(notification(SIMPLE_BODY))
    assert plain.invoke_id == 1
    assert plain.date_time is not None
    assert plain.date_time.to_datetime() == datetime(2024, 6, 15, 12, 30, tzinfo=CEST)
    assert plain.length == len(notification(SIMPLE_BODY))
    absent = parse_notification(notification(SIMPLE_BODY, None))
    assert absent.date_time is None
    tagged = b"\x0f\x40\x00\x00\x00\x09\x0c" + DATE_TIME + SIMPLE_BODY
    kaifa = parse_notification(tagged)
    assert kaifa.invoke_id == 0x40000000
    assert kaifa.date_time == plain.date_time
    assert kaifa.body == plain.body


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        (b"", TruncatedError, "cut off"),
        (b"\x0f\x00\x00", TruncatedError, "header is cut off"),
        (b"\x0f\x00\x00\x00\x01\x0c\x07\xe8", TruncatedError, "date-time is cut off"),
        (b"\x0f\x00\x00\x00\x01\x09", TruncatedError, "date-time is cut off"),
        (b"\x0f\x00\x00\x00\x01\x09\x05" + bytes(5), DecodeError, "date-time of 5 bytes"),
        (b"\x0f\x00\x00\x00\x01\x19" + DATE_TIME, DecodeError, "starts with 0x19"),
        (b"\xc2\x00", DecodeError, "not a data-notification"),
    ],
)
def test_malformed_apdus(raw: bytes, error: type[DecodeError], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_notification(raw)


def test_back_to_back_notifications() -> None:
    first = notification(SIMPLE_BODY)
    second = notification(structure(structure(obis("1-0:2.8.0"), u32(5))), None)
    found = parse_notifications(first + second)
    assert [n.length for n in found] == [len(first), len(second)]
    with pytest.raises(DecodeError, match="the APDU ends inside it"):
        parse_notifications(first + second[:-1])
    with pytest.raises(DecodeError, match="empty APDU"):
        parse_notifications(b"")
    with pytest.raises(DecodeError, match="APDU tag 0x00"):
        parse_notifications(first + b"\x00")


def test_plausibility() -> None:
    assert plausible(parse_notifications(notification(SIMPLE_BODY)))
    assert plausible(parse_notifications(notification(SIMPLE_BODY, None)))
    year_1990 = bytes.fromhex("07C6060F060C1E0000FF8880")
    assert not plausible(parse_notifications(notification(SIMPLE_BODY, year_1990)))
    assert not plausible(parse_notifications(notification(u32(5))))


# --- layouts ----------------------------------------------------------------------------


def test_obis_structures_with_and_without_scaler_unit() -> None:
    content = read_body(decode_all(SIMPLE_BODY))
    assert content.layout == LAYOUT_STRUCTURES
    assert content.list_id is None
    assert content.readings == {
        "0-0:96.1.0": Reading("0-0:96.1.0", "SIM0001"),
        "1-0:1.8.0": Reading("1-0:1.8.0", 123456.0, "Wh"),
        "1-0:32.7.0": Reading("1-0:32.7.0", 230.1, "V"),
    }


def test_flat_triples_with_clock_first_and_meter_number_last() -> None:
    """The Netz NÖ layout: date-time and meter number without OBIS code."""
    body = structure(
        octets(EVN_DT),
        obis("1-0:1.8.0"),
        u32(12937),
        scaler_unit(0, 30),
        obis("1-0:13.7.0"),
        u16(1000),
        scaler_unit(-3, 255),
        octets(b"181220000009"),
    )
    content = read_body(decode_all(body))
    assert content.layout == LAYOUT_TRIPLES
    assert list(content.readings) == ["0-0:1.0.0", "1-0:1.8.0", "1-0:13.7.0", "0-0:96.1.0"]
    assert values(body) == {
        "0-0:1.0.0": (datetime(2021, 9, 27, 9, 47, 15, tzinfo=CEST), None),
        "1-0:1.8.0": (12937.0, "Wh"),
        "1-0:13.7.0": (1.0, None),
        "0-0:96.1.0": ("181220000009", None),
    }


def test_flat_pairs_take_units_from_the_code() -> None:
    body = structure(
        obis("1-0:1.8.1"),
        u32(3593919),
        obis("1-0:1.7.0"),
        u32(2893),
        obis("1-0:3.8.0"),
        u32(10),
        obis("1-0:4.7.0"),
        u32(0),
        obis("1-0:9.7.0"),
        u32(7),
        obis("1-0:31.7.0"),
        u16(12),
        obis("1-0:91.7.0"),
        u16(3),
        obis("1-0:14.7.0"),
        u16(50),
        obis("1-0:9.8.0"),
        u32(4),
        obis("1-0:0.2.0"),
        visible("V1.2"),
        obis("1-0:99.1.0"),
        u32(9),
        obis("0-0:96.14.0"),
        b"\x16\x02",
    )
    content = read_body(decode_all(body))
    assert content.layout == LAYOUT_PAIRS
    assert values(body) == {
        "1-0:1.8.1": (3593919.0, "Wh"),
        "1-0:1.7.0": (2893.0, "W"),
        "1-0:3.8.0": (10.0, "varh"),
        "1-0:4.7.0": (0.0, "var"),
        "1-0:9.7.0": (7.0, "VA"),
        "1-0:31.7.0": (12.0, "A"),
        "1-0:91.7.0": (3.0, "A"),
        "1-0:14.7.0": (50.0, "Hz"),
        "1-0:9.8.0": (4.0, "VAh"),
        "1-0:0.2.0": ("V1.2", None),
        "1-0:99.1.0": (9, None),  # no unit known: the raw integer
        "0-0:96.14.0": (2, None),
    }


def test_kamstrup_scales_and_clock_alias() -> None:
    body = structure(
        visible("Kamstrup_V0001"),
        obis("1-1:0.0.5"),
        visible("5706567274389702"),
        obis("1-1:31.7.0"),
        u32(564),
        obis("1-1:32.7.0"),
        u16(232),
        obis("1-1:13.7.0"),
        u16(83),
        obis("1-1:1.8.0"),
        u32(631),
        obis("1-1:1.7.0"),
        u32(1468),
        obis("0-1:1.0.0"),
        octets(bytes.fromhex("07EA030C040F181EFF800000")),
    )
    content = read_body(decode_all(body))
    assert content.list_id == "Kamstrup_V0001"
    assert content.manufacturer == "Kamstrup"
    assert values(body) == {
        "1-1:0.2.129": ("Kamstrup_V0001", None),
        "1-1:0.0.5": ("5706567274389702", None),
        "1-1:31.7.0": (5.64, "A"),
        "1-1:32.7.0": (232.0, "V"),
        "1-1:13.7.0": (0.83, None),
        "1-1:1.8.0": (6310.0, "Wh"),
        "1-1:1.7.0": (1468.0, "W"),
        "0-0:1.0.0": (datetime(2026, 3, 12, 15, 24, 30, tzinfo=CET), None),
    }


def test_aidon_list_id_is_keyed() -> None:
    body = array(
        structure(obis("1-1:0.2.129"), visible("AIDON_V0001")),
        structure(obis("1-0:1.7.0"), u32(1362), scaler_unit(0, 27)),
    )
    content = read_body(decode_all(body))
    assert (content.list_id, content.manufacturer) == ("AIDON_V0001", "Aidon")


def test_logical_device_name_names_the_maker() -> None:
    body = structure(
        structure(obis("0-0:42.0.0"), octets(b"KFM1200200234804")),
        structure(obis("1-0:1.8.0"), u32(1), scaler_unit(0, 30)),
    )
    assert read_body(decode_all(body)).manufacturer == "Kaifa"


def test_value_types() -> None:
    nan = b"\x17\x7f\xc0\x00\x00"
    body = array(
        structure(obis("0-0:96.1.1"), octets(b"\x01\x02\xfe")),
        structure(obis("0-0:96.1.2"), octets(b"")),
        structure(obis("0-0:96.1.3"), b"\x0c\x05h\xc3\xa9\x00\x00"),
        structure(obis("0-0:96.3.10"), b"\x03\x01"),
        structure(obis("0-0:96.5.0"), b"\x04\x04\xa0"),
        structure(obis("0-0:96.7.0"), b"\x00"),
        structure(obis("0-0:1.0.1"), b"\x19" + EVN_DT),
        structure(obis("0-0:1.0.2"), b"\x1a\x07\xe8\x06\x0f\xff"),
        structure(obis("0-0:1.0.3"), b"\x1b\x0c\x1e\x00\xff"),
        structure(obis("0-0:1.0.4"), b"\x1a\xff\xff\x06\x0f\xff"),
        structure(obis("0-0:1.0.5"), b"\x1b\xff\x1e\x00\xff"),
        structure(obis("1-0:1.7.0"), nan, scaler_unit(0, 27)),
        structure(obis("1-0:2.7.0"), nan),
        structure(obis("1-0:3.7.0"), b"\x18" + bytes(8)),
        structure(obis("0-0:98.1.0"), array(structure(u32(1)))),
        structure(obis("0-0:1.0.0"), octets(bytes(12))),
        structure(obis("1-0:1.6.0"), octets(EVN_DT)),
        structure(obis("0-0:96.1.4"), octets(b"\x00\x01\x02\x03\x04\x05")),
        structure(obis("0-1:1.0.0"), octets(b"\x07\xe8\x06\x0f\xff")),
    )
    assert values(body) == {
        "0-0:96.1.1": ("0102FE", None),
        "0-0:96.1.2": (None, None),
        "0-0:96.1.3": ("hé", None),
        "0-0:96.3.10": (1, None),
        "0-0:96.5.0": ("1010", None),
        "0-0:96.7.0": (None, None),
        "0-0:1.0.1": (datetime(2021, 9, 27, 9, 47, 15, tzinfo=CEST), None),
        "0-0:1.0.2": ("2024-06-15", None),
        "0-0:1.0.3": ("12:30:00", None),
        "0-0:1.0.4": (None, None),
        "0-0:1.0.5": (None, None),
        "1-0:1.7.0": (None, "W"),
        "1-0:2.7.0": (None, "W"),
        "1-0:3.7.0": (0.0, "var"),
        "0-0:1.0.0": (None, None),  # a clock code holding no usable date-time
        "1-0:1.6.0": (datetime(2021, 9, 27, 9, 47, 15, tzinfo=CEST), None),
        "0-0:96.1.4": ("000102030405", None),
        "0-1:1.0.0": (None, None),  # a date where a date-time belongs
    }


def test_codes_of_other_media_are_not_taken_for_obis() -> None:
    """Only A = 0 and A = 1 count as codes; other six-byte strings are values."""
    body = structure(
        octets(b"\x07\x00\x03\x00\x00\xff"),
        obis("1-0:1.8.0"),
        u32(1),
        octets(b"\x08\x00\x01\x00\x00\xff"),
    )
    content = read_body(decode_all(body))
    assert list(content.readings) == ["1-0:1.8.0"]
    empty_text = structure(octets(b""), obis("1-0:1.8.0"), u32(1), visible(""))
    assert list(values(empty_text)) == ["1-0:1.8.0"]


def test_numbers_without_code_in_an_obis_keyed_list() -> None:
    """No known layout mixes them: a positional list in which a value looked like an OBIS
    code (here a 6-byte binary serial) is unsupported, not read as one odd pair."""
    serial = octets(b"\x01\x00\x20\x07\x00\xff")
    positional = structure(u16(230), u16(231), serial, u32(1500), u32(7), octets(b"A1"))
    with pytest.raises(UnsupportedListError, match="mixing OBIS codes with 3 numbers") as caught:
        read_body(decode_all(positional))
    assert caught.value.shape == (
        "structure(6): long-unsigned x2, octet-string, double-long-unsigned x2, octet-string"
    )
    with pytest.raises(UnsupportedListError, match="with 1 numbers"):
        read_body(decode_all(structure(octets(b""), obis("1-0:1.8.0"), u32(1), u32(2))))


def test_first_reading_of_a_code_wins() -> None:
    body = structure(
        structure(obis("1-0:1.8.0"), u32(1), scaler_unit(0, 30)),
        structure(obis("1-0:1.8.0"), u32(2), scaler_unit(0, 30)),
    )
    assert values(body) == {"1-0:1.8.0": (1.0, "Wh")}


# --- positional lists -------------------------------------------------------------------


KAIFA_IDS = (octets(b"KFM_001"), octets(b"6970631401753985"), octets(b"MA304H3E"))
KAIFA_POWERS = (u32(948), u32(0), u32(0), u32(64))
HOURLY = (
    octets(bytes.fromhex("07E1090F05050000FF800080")),
    u32(1000),
    u32(2000),
    u32(30),
    u32(40),
)


def test_kaifa_one_phase_list_2() -> None:
    body = structure(*KAIFA_IDS, *KAIFA_POWERS, u32(1416), u32(2385))
    content = read_body(decode_all(body))
    assert (content.layout, content.list_id, content.manufacturer) == (
        LAYOUT_POSITIONAL,
        "KFM_001",
        "Kaifa",
    )
    assert values(body) == {
        "1-1:0.2.129": ("KFM_001", None),
        "0-0:96.1.0": ("6970631401753985", None),
        "0-0:96.1.7": ("MA304H3E", None),
        "1-0:1.7.0": (948.0, "W"),
        "1-0:2.7.0": (0.0, "W"),
        "1-0:3.7.0": (0.0, "var"),
        "1-0:4.7.0": (64.0, "var"),
        "1-0:31.7.0": (1.416, "A"),
        "1-0:32.7.0": (238.5, "V"),
    }


@pytest.mark.parametrize("phases", [1, 3])
def test_kaifa_list_3(phases: int) -> None:
    electrical = (
        (u32(1416), u32(2385))
        if phases == 1
        else (u32(1416), u32(3241), u32(3119), u32(2385), u32(0), u32(2389))
    )
    body = structure(*KAIFA_IDS, *KAIFA_POWERS, *electrical, *HOURLY)
    found = values(body)
    assert len(found) == (14 if phases == 1 else 18)
    assert found["0-0:1.0.0"] == (datetime(2017, 9, 15, 5, 0, tzinfo=CEST), None)
    assert found["1-0:1.8.0"] == (1000.0, "Wh")
    assert found["1-0:4.8.0"] == (40.0, "varh")
    assert found["1-0:32.7.0"] == (238.5, "V")


def test_positional_oddities() -> None:
    """A date-time sent as a date-time value fits its field; a value of another type than
    its field (text or a nested structure for a number, a number for a text, a date-time of
    5 bytes) makes the list unsupported: nothing of it is published."""
    hourly = (b"\x19" + bytes.fromhex("07E1090F05050000FF800080"), *HOURLY[1:])
    body = structure(*KAIFA_IDS, *KAIFA_POWERS, u32(1), u32(2), *hourly)
    assert values(body)["0-0:1.0.0"] == (datetime(2017, 9, 15, 5, 0, tzinfo=CEST), None)
    misfits = [
        structure(*KAIFA_IDS[:2], u32(5), *KAIFA_POWERS, u32(1), u32(2), *hourly),
        structure(*KAIFA_IDS, *KAIFA_POWERS, structure(u32(1)), u32(2)),
        structure(
            KAIFA_IDS[0], b"\x17\x3f\xc0\x00\x00", b"\x03\x01", *KAIFA_POWERS, u32(1), u32(2)
        ),
        structure(
            *KAIFA_IDS, *KAIFA_POWERS, u32(1), u32(2), octets(b"\x07\xe1\x09\x0f\x05"), *HOURLY[1:]
        ),
    ]
    for misfit in misfits:
        with pytest.raises(UnsupportedListError, match="known list with values of other types"):
            read_body(decode_all(misfit))


def test_kaifa_list_1() -> None:
    content = read_body(decode_all(structure(u32(1316))))
    assert content.layout == lists.KAIFA_LIST_1
    assert content.list_id is None
    assert content.manufacturer == "Kaifa"
    assert values(structure(u32(1316))) == {"1-0:1.7.0": (1316.0, "W")}
    assert values(u32(77)) == {"1-0:1.7.0": (77.0, "W")}  # a bare value


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (structure(*KAIFA_IDS, u32(1)), "structure\\(4\\): octet-string x3, double-long-unsigned"),
        (structure(visible("OTHER_V1"), u32(1)), "structure\\(2\\): visible-string, double-long"),
        (structure(u32(1), u32(2)), "structure\\(2\\): double-long-unsigned x2$"),
        (structure(), "structure\\(0\\)$"),
        (structure(b"\x12\x00\x01"), "structure\\(1\\): long-unsigned$"),  # not Kaifa list 1
    ],
)
def test_unknown_positional_lists(body: bytes, message: str) -> None:
    with pytest.raises(UnsupportedListError, match=message) as caught:
        read_body(decode_all(body))
    assert caught.value.shape in str(caught.value)
    assert caught.value.shape.startswith("structure(")


def test_list_tables() -> None:
    assert lists.positional_fields("KFM_001", 7) is None
    assert lists.positional_fields("AIDON_V0001", 13) is None
    assert lists.shaped_list(("double-long-unsigned", "double-long-unsigned")) is None
    assert lists.shaped_list(("long-unsigned",)) is None
    assert lists.push_list_scale(0, 96, 1, 0) is None
    assert lists.push_list_scale(1, 31, 7, 0) == (-2, "A")
    assert lists.push_list_scale(1, 13, 7, 0) is None  # power factor: scale not known
    assert lists.pair_scale(None, 0, 1, 7) is None
    assert lists.pair_scale(None, 1, 0, 7) is None
    assert lists.pair_scale(None, 1, 81, 7) is None
    assert lists.pair_scale(None, 1, 1, 2) is None
    assert lists.pair_scale(None, 1, 11, 8) is None
    assert lists.pair_scale(None, 1, 92, 7) == (0, "V")
    assert lists.pair_scale("Kamstrup_V0001", 1, 71, 7) == (-2, "A")
    assert lists.pair_scale("Kamstrup_V0001", 1, 53, 7) == (-2, None)
    assert lists.pair_scale("Kamstrup_V0001", 1, 62, 8) == (1, "Wh")
    assert lists.pair_scale("Kamstrup_V0001", 1, 91, 7) == (0, "A")
    assert lists.alias("Kamstrup_V0001", "0-1:1.0.0") == "0-0:1.0.0"
    assert lists.alias("AIDON_V0001", "0-1:1.0.0") == "0-1:1.0.0"
    assert lists.manufacturer_from_list_id("KFM_001") == "Kaifa"
    assert lists.manufacturer_from_list_id("ISK_1") is None
    assert lists.manufacturer_from_list_id(None) is None
