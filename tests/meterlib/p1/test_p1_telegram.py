"""parse_telegram on every recorded vector and on hand-made edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from custom_components.energy_gateway.meterlib.core.errors import ChecksumError, DecodeError
from custom_components.energy_gateway.meterlib.core.model import Reading, Snapshot
from custom_components.energy_gateway.meterlib.p1.telegram import (
    parse_decrypted_telegram,
    parse_telegram,
)

from ..conftest import GOOD_TELEGRAMS, edit_telegram, vector, with_crc

CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))


def parse(name: str) -> Snapshot:
    return parse_telegram(vector(name))


def reading(snapshot: Snapshot, obis: str) -> Reading:
    assert obis in snapshot.readings, f"{obis} missing"
    return snapshot.readings[obis]


def test_dsmr5() -> None:
    snap = parse("dsmr_v5.txt")
    assert (snap.format, snap.variant, snap.encrypted) == ("p1", "dsmr5", False)
    assert snap.header == "ISk5\\2MT382-1000"
    assert snap.meter_id == "K8EG004046395507"
    assert snap.timestamp == datetime(2017, 1, 2, 18, 20, 2, tzinfo=UTC)
    assert snap.timestamp.utcoffset() == timedelta(hours=1)  # W = winter time
    assert snap.value("1-3:0.2.8") == "50"
    assert snap.value("0-0:1.0.0") == snap.timestamp
    assert snap.readings["0-0:96.1.1"].value == "4B384547303034303436333935353037"
    assert reading(snap, "1-0:1.8.1") == Reading("1-0:1.8.1", 4.426, "kWh")
    assert reading(snap, "1-0:1.8.2") == Reading("1-0:1.8.2", 2.399, "kWh")
    assert reading(snap, "1-0:2.8.1") == Reading("1-0:2.8.1", 2.444, "kWh")
    assert reading(snap, "1-0:1.7.0") == Reading("1-0:1.7.0", 0.244, "kW")
    assert reading(snap, "1-0:32.7.0") == Reading("1-0:32.7.0", 230.0, "V")
    assert reading(snap, "1-0:31.7.0") == Reading("1-0:31.7.0", 0.48, "A")
    assert snap.value("0-0:96.14.0") == 2
    assert snap.value("0-0:96.7.21") == 13
    assert reading(snap, "1-0:99.97.0") == Reading("1-0:99.97.0", 0)
    assert snap.value("0-0:96.13.0") is None
    # M-Bus channel 1: gas with its capture time; channel 2: announced but empty.
    assert snap.value("0-1:24.1.0") == 3
    assert snap.value("0-1:96.1.0") == "3232323241424344313233343536373839"
    assert reading(snap, "0-1:24.2.1") == Reading(
        "0-1:24.2.1", 0.107, "m³", captured=datetime(2017, 1, 2, 16, 10, 5, tzinfo=CET)
    )
    assert snap.value("0-2:24.1.0") == 3
    assert reading(snap, "0-2:96.1.0").value is None
    assert "0-2:24.2.1" not in snap.readings
    assert len(snap.readings) == 37  # every line of the telegram


def test_dsmr4_kaifa_power_failure_log() -> None:
    snap = parse("dsmr_v4_2_kaifa.txt")
    assert snap.variant == "dsmr4"
    assert snap.value("1-0:1.8.1") == 1581.123
    assert snap.value("1-0:1.8.2") == 1435.706
    assert snap.value("1-0:1.7.0") == 2.027
    log = reading(snap, "1-0:99.97.0")
    assert log.value == 3
    assert log.entries == (
        (datetime(2000, 1, 4, 18, 3, 20, tzinfo=CET), 237126.0),
        (datetime(2000, 1, 1, 0, 0, 1, tzinfo=CET), 2147583646.0),
        (datetime(2000, 1, 2, 0, 0, 3, tzinfo=CET), 2317482647.0),
    )
    assert reading(snap, "0-1:24.2.1") == Reading(
        "0-1:24.2.1", 981.443, "m³", captured=datetime(2016, 11, 29, 20, 0, tzinfo=CET)
    )
    # Its equipment id is hex of non-printable bytes: kept exactly as sent.
    assert snap.meter_id == "3960221976967177082151037881335713"


def test_dsmr5_two_mbus_and_empty_slot() -> None:
    snap = parse("dsmr_v5_two_mbus.txt")
    assert snap.timestamp == datetime(2020, 4, 26, 22, 33, 25, tzinfo=CEST)
    assert snap.meter_id == "E0044007382246019"
    assert reading(snap, "0-1:24.2.1") == Reading(
        "0-1:24.2.1", 0, None, captured=datetime(1970, 1, 1, 0, 0, tzinfo=UTC)
    )
    assert snap.value("0-1:96.1.0") is None
    assert reading(snap, "0-2:24.2.1") == Reading(
        "0-2:24.2.1", 246.138, "m³", captured=datetime(2020, 4, 26, 22, 30, 1, tzinfo=CEST)
    )
    assert snap.value("0-2:96.1.0") == "4730303339303031393336393930363139"
    assert reading(snap, "1-0:99.97.0").entries == (
        (datetime(2019, 3, 26, 9, 50, 15, tzinfo=CET), 2014.0),
    )


def test_unpadded_crc_and_heat_meter() -> None:
    data = vector("dsmr_v5_unpadded_crc_warmtelink.txt")
    assert b"!B9F\r\n" in data
    snap = parse_telegram(data)
    assert snap.value("0-1:24.1.0") == 4
    assert reading(snap, "0-1:24.2.1") == Reading(
        "0-1:24.2.1", 240.86, "GJ", captured=datetime(2026, 2, 15, 20, 5, 23, tzinfo=CET)
    )
    assert snap.meter_id == "ADC3100000158491"  # 0xAD is not printable: kept as sent


def test_fluvius_capacity_tariff_lines() -> None:
    snap = parse("fluvius_v171.txt")
    assert snap.variant == "fluvius"
    assert snap.value("0-0:96.1.4") == "50217"
    assert snap.meter_id == "1SAG3101021605"
    assert snap.value("1-0:1.8.1") == 0.034
    assert snap.value("1-0:1.8.2") == 15.758
    assert reading(snap, "1-0:1.4.0") == Reading("1-0:1.4.0", 2.351, "kW")
    peak = reading(snap, "1-0:1.6.0")
    assert peak == Reading(
        "1-0:1.6.0", 2.589, "kW", captured=datetime(2020, 5, 9, 13, 45, 58, tzinfo=CEST)
    )
    assert peak.captured == datetime(2020, 5, 9, 11, 45, 58, tzinfo=UTC)
    history = reading(snap, "0-0:98.1.0")
    assert history.value == 3
    assert history.unit is None
    assert history.entries == (
        (
            datetime(2020, 5, 1, tzinfo=CEST),
            datetime(2020, 4, 23, 19, 25, 38, tzinfo=CEST),
            3.695,
        ),
        (
            datetime(2020, 4, 1, tzinfo=CEST),
            datetime(2020, 3, 5, 12, 21, 39, tzinfo=CEST),
            5.98,
        ),
        (
            datetime(2020, 3, 1, tzinfo=CEST),
            datetime(2020, 2, 10, 3, 54, 21, tzinfo=CET),
            4.318,
        ),
    )
    assert snap.value("0-0:96.14.0") == 1
    assert reading(snap, "0-1:24.2.3").value == 112.384
    assert reading(snap, "0-1:24.2.3").unit == "m³"
    assert snap.value("0-2:24.1.0") == 7
    assert reading(snap, "0-2:24.2.1").value == 872.234


def test_fluvius_empty_month_placeholder_is_none() -> None:
    snap = parse("fluvius_v171_alt_with_98_1_0_garbage_ts.txt")
    assert snap.value("1-0:1.4.0") == 0.052
    assert reading(snap, "1-0:1.6.0").captured == datetime(2023, 11, 2, 11, 45, tzinfo=CET)
    assert snap.value("1-0:1.6.0") == 3.064
    history = reading(snap, "0-0:98.1.0")
    assert history.value == 4
    assert history.entries[0] == (datetime(2023, 8, 1, tzinfo=CEST), None, 0.0)
    assert [row[2] for row in history.entries[1:]] == [1.862, 4.229, 4.927]
    assert history.entries[1][1] == datetime(2023, 8, 31, 18, 15, tzinfo=CEST)
    assert history.entries[3][0] == datetime(2023, 11, 1, tzinfo=CET)


def test_eon_hungary_billing_snapshot() -> None:
    snap = parse("eon_hungary_v5.txt")
    assert snap.variant == "eon_hu"
    assert snap.meter_id == "890082200002160"  # 0-0:96.1.0 wins over 0-0:42.0.0
    assert snap.value("1-0:1.8.0") == 173.64
    assert snap.value("1-0:2.8.0") == 627.177
    assert reading(snap, "1-0:2.7.0") == Reading("1-0:2.7.0", 2.601, "kW")
    assert reading(snap, "1-0:14.7.0") == Reading("1-0:14.7.0", 50.0, "Hz")
    assert reading(snap, "1-0:13.7.0") == Reading("1-0:13.7.0", 4.556)  # power factor
    billing = reading(snap, "0-0:98.1.0")
    assert billing.value == datetime(2023, 7, 1, tzinfo=CEST)
    assert len(billing.entries) == 1
    assert len(billing.entries[0]) == 19
    assert billing.entries[0][0] == 40.777
    assert billing.entries[0][-1] == 3.4


def test_sagemcom_units_stay_as_sent() -> None:
    snap = parse("sagemcom_t210_d_r_plaintext.txt")
    assert snap.variant == "sagemcom"
    assert snap.meter_id is None
    assert reading(snap, "1-0:1.8.0") == Reading("1-0:1.8.0", 6545766.0, "Wh")
    assert reading(snap, "1-0:1.7.0") == Reading("1-0:1.7.0", 286.0, "W")
    assert reading(snap, "1-0:4.8.0") == Reading("1-0:4.8.0", 3897726.0, "varh")
    assert reading(snap, "1-0:4.7.0") == Reading("1-0:4.7.0", 166.0, "var")
    assert snap.timestamp == datetime(2022, 10, 6, 15, 50, 14, tzinfo=CEST)


@pytest.mark.parametrize(
    ("name", "meter_id", "import_kwh"),
    [
        ("q3d_esy5q3db1024_v304.txt", "1ESY1313002565", 52185.7825309),
        ("q3d_esy5q3da1004_v304.txt", "1ESY1336001560", 32549.5061662),
    ],
)
def test_q3d_f_group_and_trailing_junk(name: str, meter_id: str, import_kwh: float) -> None:
    data = vector(name)
    assert data.rstrip().endswith((b"\xff", b"3"))  # noise after the `!` line
    snap = parse_telegram(data)
    assert (snap.variant, snap.meter_id, snap.timestamp) == ("q3d", meter_id, None)
    assert snap.value("1-0:1.8.0") == import_kwh
    assert all("*" not in obis for obis in snap.readings)
    assert snap.value("0-0:96.1.255") == meter_id
    assert snap.readings["1-0:1.7.0"].unit == "W"
    assert snap.value("1-0:96.5.5") == "80"


def test_q3d_b_values() -> None:
    snap = parse("q3d_esy5q3db1024_v304.txt")
    assert snap.value("1-0:2.8.0") == 19949.3221493
    assert reading(snap, "1-0:1.7.0") == Reading("1-0:1.7.0", 2124.86, "W")
    assert snap.header == "ESY5Q3DB1024 V3.04"


def test_iskra_ireland() -> None:
    data = vector("iskra_ie.txt")
    assert data[5] == 0x02  # the raw control byte in the header; its CRC covers it
    snap = parse_telegram(data)
    assert snap.variant == "iskra_ie"
    assert snap.header == "ISk5\x02MIE5T-200"
    assert snap.meter_id == "09610"
    assert snap.value("1-0:1.8.1") == 10.181
    assert snap.value("1-0:2.7.0") == 0.27
    assert snap.readings["0-1:96.1.1"].value is None
    # Irish time, not CET: the S flag means IST (UTC+1).
    assert snap.timestamp == datetime(2023, 2, 2, 12, 27, 47, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "meter_id", "captured"),
    [
        ("dsmr_v2_2.txt", "00000000000000", datetime(2016, 11, 7, 19, 0, tzinfo=CET)),
        ("dsmr_v3.txt", "K8EG004046395507", datetime(2009, 2, 12, 16, 0, tzinfo=CET)),
    ],
)
def test_dsmr2_gas_value_on_next_line(name: str, meter_id: str, captured: datetime) -> None:
    snap = parse(name)
    assert snap.variant == "dsmr2"
    assert snap.meter_id == meter_id
    assert snap.timestamp is None
    assert reading(snap, "0-1:24.2.1") == Reading("0-1:24.2.1", 1.001, "m³", captured=captured)
    header = reading(snap, "0-1:24.3.0")
    assert header.value == captured
    assert header.entries == ((0, 60, 1, "0-1:24.2.1", "m3"),)


def test_dsmr3_values() -> None:
    snap = parse("dsmr_v3.txt")
    assert snap.value("1-0:1.8.1") == 12345.678
    assert reading(snap, "0-0:17.0.0") == Reading("0-0:17.0.0", 16.0, "A")
    assert snap.value("0-0:96.13.1") == "303132333435363738"


def test_swedish_and_kaifa_from_aviborg() -> None:
    swedish = parse("aviborg_ascii2Data.txt")
    assert (swedish.variant, swedish.meter_id) == ("p1", None)
    assert swedish.value("1-0:1.8.0") == 1605.055
    assert reading(swedish, "1-0:4.7.0") == Reading("1-0:4.7.0", 0.47, "kvar")
    kaifa = parse("aviborg_ascii1Data.txt")  # ends right after the CRC digits
    assert kaifa.variant == "dsmr4"
    assert kaifa.value("1-0:1.8.1") == 671.578
    assert reading(kaifa, "0-1:24.2.1").value == 473.789


def test_wrong_crc_is_checksum_error() -> None:
    data = vector("aviborg_data2.txt")
    with pytest.raises(ChecksumError, match="FCA6") as caught:
        parse_telegram(data)
    assert caught.value.raw == data
    unchecked = parse_telegram(data, verify_crc=False)
    assert unchecked.value("1-0:1.8.1") == 11522.839
    # It claims 5 power failures but lists two: the entries present are kept.
    assert len(unchecked.readings["1-0:99.97.0"].entries) == 2


@pytest.mark.parametrize("name", GOOD_TELEGRAMS)
def test_every_good_vector_parses(name: str) -> None:
    snap = parse(name)
    assert snap.format == "p1"
    assert snap.variant is not None
    assert len(snap.readings) >= 8
    assert all(r.obis.count(":") == 1 and r.obis.count(".") == 2 for r in snap.readings.values())


def test_lower_case_and_short_crc() -> None:
    data = vector("dsmr_v5.txt")
    assert parse_telegram(data.replace(b"!6EEE", b"!6eee")).value("1-0:1.8.1") == 4.426
    body = data[: data.index(b"!") + 1]
    assert parse_telegram(with_crc(body).replace(b"!6EEE", b"!6eEe")).variant == "dsmr5"


def test_lf_only_line_ends() -> None:
    crlf = vector("fluvius_v171.txt")
    body = crlf[: crlf.index(b"!") + 1].replace(b"\r\n", b"\n")
    snap = parse_telegram(with_crc(body))
    assert snap.readings == parse_telegram(crlf).readings


def test_crc_mismatch_and_malformed_crc() -> None:
    data = vector("dsmr_v5.txt")
    with pytest.raises(ChecksumError):
        parse_telegram(data.replace(b"4.426", b"4.427"))
    with pytest.raises(DecodeError, match="malformed checksum") as caught:
        parse_telegram(data.replace(b"!6EEE", b"!6EXE"))
    assert not isinstance(caught.value, ChecksumError)
    with pytest.raises(DecodeError, match="malformed"):
        parse_telegram(data.replace(b"!6EEE", b"!6EEE1"))


def test_not_a_telegram() -> None:
    with pytest.raises(DecodeError, match="header"):
        parse_telegram(b"1-0:1.8.1(000004.426*kWh)\r\n!6EEE\r\n")
    with pytest.raises(DecodeError, match="end marker"):
        parse_telegram(b"/ISK5\r\n\r\n1-0:1.8.1(000004.426*kWh)\r\n")


def test_one_bad_number_costs_only_its_line() -> None:
    data = edit_telegram("dsmr_v5.txt", b"000004.426*kWh", b"00.2x4*kWh")
    snap = parse_telegram(data)
    assert "1-0:1.8.1" not in snap.readings
    assert snap.value("1-0:1.8.2") == 2.399
    assert len(snap.readings) == 36


@pytest.mark.parametrize(
    "bad_line",
    [
        b"1-0:1.8.1(nan*kWh)",
        b"1-0:1.8.1(1e5*kWh)",
        b"1-0:1.8.1(1_0*kWh)",
        b"1-0:1.8.1(--1*kWh)",
        b"1-0:1.8.1((4.426*kWh)",
        b"1-0:1.8.1(4.4)26*kWh)",
        b"1-0:1.8.1(4.4)(26)(*kWh)",
        b"1-0:1.8.1(4.426*kWh",
        b"1-0:1.8.1",
        b"1-0:1.8(4.426*kWh)",
        b"X-0:1.8.1(4.426*kWh)",
        b"(4.426*kWh)",
        b"1-0:1.8.1" + b"9" * 40 + b"(4.426*kWh)",
    ],
)
def test_malformed_lines_are_skipped(bad_line: bytes) -> None:
    data = edit_telegram("dsmr_v5.txt", b"1-0:1.8.1(000004.426*kWh)", bad_line)
    snap = parse_telegram(data)
    assert snap.value("1-0:1.8.1") is None
    assert snap.value("1-0:1.8.2") == 2.399


def test_unknown_lines_and_value_shapes_are_kept() -> None:
    extra = (
        b"1-0:99.1.0(12.5*kW)\r\n"
        b"0-0:96.99.9(ABC-1)\r\n"
        b"1-0:99.2.0(1)(2.5*kW)(xyz)\r\n"
        b"1-0:1.8.0.255(5*kWh)\r\n"
        b"1-0:21.7.255*255(-1.5*kW)\r\n"
        b"1-0:96.50.0(0.5)\r\n"
        b"0-0:96.50.1(00015)\r\n"
        b"0-0:96.50.2()\r\n"
        b"0-0:96.50.3(170102192002)\r\n"
        b"0-0:96.50.4(171302192002W)\r\n"
        b"0-0:96.50.5(171302192002X)\r\n"
        b"1-0:99.3.0(171302192002W)(1*V)\r\n"
        b"1-0:99.97.0()\r\n"
        b"1-0:99.97.1(2)(0-0:96.7.19)(000104180320X)(0000237126*s)(1)(2*s)\r\n"
        b"0-0:99.97.0(1)(0-0:96.7.19)(000104180320X)(0000237126*s)\r\n"
        b"0-1:24.2.1(170102161005W)(9.5)\r\n"
        b"0-0:98.1.0(2)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)\r\n"
        b"0-2:24.3.0(170102161005W)(00)(60)(1)(0-2:24.2.1)(m3)\r\n"
        b"(00012.500*m3)\r\n"
        b"0-3:24.3.0(170102161005W)(00)(60)(1)\r\n"
        b"(2.5)\r\n"
        b"0-4:24.3.0(170102161005W)(00)(60)(1)(0-4:24.2.1)(m3)\r\n"
        b"1-0:1.8.9(1.0*kWh)\r\n"
        b"(7.0)\r\n"
        b"1-0:1.8.8(2.0*kWh)   \r\n"
        b"!"
    )
    data = vector("dsmr_v5.txt")
    body = data[: data.index(b"!")] + extra
    snap = parse_telegram(with_crc(body))
    assert reading(snap, "1-0:99.1.0") == Reading("1-0:99.1.0", 12.5, "kW")
    assert snap.value("0-0:96.99.9") == "ABC-1"
    assert reading(snap, "1-0:99.2.0") == Reading("1-0:99.2.0", 1, entries=((2.5, "xyz"),))
    assert snap.value("1-0:1.8.0") == 5.0
    assert snap.value("1-0:21.7.255") == -1.5
    assert snap.value("1-0:96.50.0") == 0.5
    assert snap.value("0-0:96.50.1") == 15
    assert snap.value("0-0:96.50.2") is None
    assert snap.value("0-0:96.50.3") == 170102192002  # 12 digits alone: a number
    assert snap.value("0-0:96.50.4") is None  # S/W stamp shape, but month 13
    assert snap.value("0-0:96.50.5") == "171302192002X"
    assert reading(snap, "1-0:99.3.0") == Reading("1-0:99.3.0", 1.0, "V", captured=None)
    assert reading(snap, "1-0:99.97.0") == Reading("1-0:99.97.0", 0)
    assert reading(snap, "0-0:99.97.0").entries == ((None, 237126.0),)  # X is no season flag
    assert reading(snap, "1-0:99.97.1").entries == (
        ("0-0:96.7.19", "000104180320X", 237126.0, 1, 2.0),
    )
    assert reading(snap, "0-1:24.2.1").unit is None
    assert snap.value("0-1:24.2.1") == 9.5
    assert reading(snap, "0-0:98.1.0").value == 1  # says 2, carries one triple
    gas = reading(snap, "0-2:24.2.1")
    assert (gas.value, gas.unit) == (12.5, "m³")
    assert reading(snap, "0-3:24.2.1").value == 2.5  # no target code or unit given
    assert "0-4:24.2.1" not in snap.readings  # its value line never came
    assert snap.value("1-0:1.8.9") == 1.0
    assert snap.value("1-0:1.8.8") == 2.0  # trailing blanks after `)` are tolerated


def test_non_ascii_bytes_do_not_crash() -> None:
    data = vector("dsmr_v5.txt")
    body = data[: data.index(b"!")] + b"0-1:24.2.9(170102161005W)(00000.107*m\xb3)\r\n\xff\xfe\r\n!"
    body = body.replace(b"0-0:96.13.0()", b"0-0:96.13.0(\xe9t\xe9)")
    snap = parse_telegram(with_crc(body))
    assert snap.readings["0-1:24.2.9"].unit == "m³"
    assert snap.value("0-0:96.13.0") == "été"
    assert snap.value("1-0:1.8.1") == 4.426


def test_timestamp_without_season_flag_is_standard_time() -> None:
    data = edit_telegram("dsmr_v5.txt", b"0-0:1.0.0(170102192002W)", b"0-0:1.0.0(170702192002)")
    assert parse_telegram(data).timestamp == datetime(2017, 7, 2, 19, 20, 2, tzinfo=CET)
    bad = edit_telegram("dsmr_v5.txt", b"0-0:1.0.0(170102192002W)", b"0-0:1.0.0(632525252525W)")
    snap = parse_telegram(bad)
    assert snap.timestamp is None
    assert "0-0:1.0.0" in snap.readings


def test_summer_flag_gives_cest() -> None:
    data = edit_telegram("dsmr_v5.txt", b"0-0:1.0.0(170102192002W)", b"0-0:1.0.0(170702192002S)")
    assert parse_telegram(data).timestamp == datetime(2017, 7, 2, 17, 20, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "variant"),
    [
        (b"/Lux5\\253663629_D", "smarty"),
        (b"/XMX5LGBBFFB231314239", "dsmr5"),
        (b"/ESY5Q3DB1024 V3.04", "q3d"),
        (b"/FLU5\\253769484_A", "fluvius"),
        (b"/EST5\\253710000_A", "sagemcom"),
    ],
)
def test_variant_from_header(header: bytes, variant: str) -> None:
    data = edit_telegram("dsmr_v5.txt", b"/ISk5\\2MT382-1000", header)
    assert parse_telegram(data).variant == variant


def test_variant_fallbacks() -> None:
    no_version = edit_telegram("dsmr_v5.txt", b"1-3:0.2.8(50)\r\n", b"")
    assert parse_telegram(no_version).variant == "p1"
    odd_version = edit_telegram("dsmr_v5.txt", b"1-3:0.2.8(50)", b"1-3:0.2.8(60)")
    assert parse_telegram(odd_version).variant == "p1"
    plain = vector("sagemcom_t210_d_r_plaintext.txt")
    decrypted = parse_decrypted_telegram(plain)
    assert (decrypted.format, decrypted.encrypted, decrypted.variant) == (
        "p1-encrypted",
        True,
        "sagemcom",
    )
    lux = parse_decrypted_telegram(edit_telegram("dsmr_v5.txt", b"ISk5\\2MT382-1000", b"SAG5"))
    assert lux.variant == "smarty"


def test_meter_id_fallbacks() -> None:
    only_42 = edit_telegram(
        "dsmr_v5.txt", b"0-0:96.1.1(4B384547303034303436333935353037)", b"0-0:42.0.0(4B38)"
    )
    assert parse_telegram(only_42).meter_id == "K8"
    spaces = edit_telegram(
        "dsmr_v5.txt", b"0-0:96.1.1(4B384547303034303436333935353037)", b"0-0:96.1.1(2020)"
    )
    assert parse_telegram(spaces).meter_id == "2020"  # decodes to blanks only: keep as sent
    empty = edit_telegram(
        "dsmr_v5.txt", b"0-0:96.1.1(4B384547303034303436333935353037)", b"0-0:96.1.1()"
    )
    assert parse_telegram(empty).meter_id is None
    iskra = parse_telegram(
        vector("iskra_ie.txt").replace(b"0-0:96.1.0(09610)", b"", 1), verify_crc=False
    )
    assert iskra.meter_id == "00000000"  # 1-0:0.0.0 is the last resort


def test_header_only_and_empty_header() -> None:
    with pytest.raises(DecodeError, match="cut short"):
        parse_telegram(b"/!")
    with pytest.raises(DecodeError, match="no readable line"):
        parse_telegram(b"/ABC5\r\n\r\n1-0:1.8.1(x)(\r\n!\r\n")
    with pytest.raises(DecodeError, match="cut short"):
        parse_telegram(b"/ABC5\r\n\r\n1-0:1.8.1(1.5*kWh)\r\n!")  # no line end after `!`
    snap = parse_telegram(b"/\r\n1-0:1.8.1(1.5*kWh)\r\n!\n")
    assert (snap.header, snap.meter_id, snap.variant) == (None, None, "dsmr2")
    assert snap.value("1-0:1.8.1") == 1.5
    junk_before = parse_telegram(b"\xff\x00noise" + vector("dsmr_v5.txt"))
    assert junk_before.value("1-0:1.8.1") == 4.426


def test_bit_error_that_fakes_an_early_end_is_caught() -> None:
    # `)` and `!` differ in one bit: a flipped `)` at a line end would end the telegram there,
    # without its CRC line.
    data = vector("dsmr_v2_2.txt").replace(b"1-0:1.8.2(00001.001*kWh)", b"1-0:1.8.2(00001.001*kWh!")
    with pytest.raises(DecodeError, match="cut short"):
        parse_telegram(data)
    dsmr5 = vector("dsmr_v5.txt")
    cut = dsmr5[: dsmr5.index(b"1-0:1.8.2")] + b"!\r\n"
    with pytest.raises(DecodeError, match="without checksum"):
        parse_telegram(cut)
    assert parse_telegram(cut, verify_crc=False).value("1-0:1.8.1") == 4.426


def test_code_and_unit_caches_stay_bounded() -> None:
    from custom_components.energy_gateway.meterlib.p1 import telegram

    lines = b"".join(b"1-0:%d.%d.0(%d*u%d)\r\n" % (i // 100, i % 100, i, i) for i in range(1500))
    snap = parse_telegram(with_crc(b"/ABC5\r\n\r\n" + lines + b"!"))
    assert len(snap.readings) == 1500
    assert snap.readings["1-0:14.99.0"] == Reading("1-0:14.99.0", 1499.0, "u1499")
    assert len(telegram._CODE_CACHE) <= 512
    assert len(telegram._UNIT_CACHE) <= 512
