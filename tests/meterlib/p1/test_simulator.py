"""Simulated Belgian P1 meter: valid telegrams whose values move like a real meter's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import re
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
import pytest

from simulators.p1_meter import (
    HEADER,
    LUXEMBOURG_AUTH_KEY,
    SimulatedP1Meter,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
COUNTERS = ("1-0:1.8.1", "1-0:1.8.2", "1-0:2.8.1", "1-0:2.8.2", "0-1:24.2.3", "0-2:24.2.1")
_LINE = re.compile(r"^(\d-\d:\d+\.\d+\.\d+)((?:\([^)]*\))+)$")


def crc16_arc(data: bytes) -> int:
    """Bit-by-bit CRC-16/ARC, independent of the library's table version."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def fields(telegram: bytes) -> dict[str, list[str]]:
    """OBIS code -> the texts inside its parentheses."""
    lines = telegram.decode("ascii").split("\r\n")
    result = {}
    for line in lines[2:]:
        if match := _LINE.match(line):
            result[match[1]] = match[2][1:-1].split(")(")
    return result


def number(telegram: bytes, obis: str) -> float:
    """The numeric value of a line (for M-Bus lines the value after the capture time)."""
    text = fields(telegram)[obis][-1]
    return float(text.split("*")[0])


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)  # type: ignore[misc]


def run(meter: SimulatedP1Meter, start: datetime, step: timedelta, count: int) -> Iterator[bytes]:
    for index in range(count):
        yield meter.telegram(start + index * step)


def test_telegram_layout_and_crc() -> None:
    meter = SimulatedP1Meter(seed=3)
    start = local(2024, 6, 12, 9, 0)
    for telegram in run(meter, start, timedelta(seconds=37), 200):
        assert telegram.startswith(f"/{HEADER}\r\n\r\n".encode())
        assert telegram.endswith(b"\r\n")
        assert telegram.count(b"\n") == telegram.count(b"\r\n")
        bang = telegram.rindex(b"!")
        crc_text = telegram[bang + 1 : -2]
        assert re.fullmatch(rb"[0-9A-F]{4}", crc_text)
        assert int(crc_text, 16) == crc16_arc(telegram[: bang + 1])
        assert len(fields(telegram)) == 36
    # The vector's line order and shapes.
    values = fields(telegram)
    assert values["0-0:96.1.1"] == [b"1SAG1234567890".hex().upper()]
    assert re.fullmatch(r"\d{6}\.\d{3}\*kWh", values["1-0:1.8.1"][0])
    assert re.fullmatch(r"\d{2}\.\d{3}\*kW", values["1-0:21.7.0"][0])
    assert re.fullmatch(r"\d{3}\.\d\*V", values["1-0:32.7.0"][0])
    assert re.fullmatch(r"\d{3}\.\d{2}\*A", values["1-0:31.7.0"][0])
    assert values["0-1:24.1.0"] == ["003"]
    assert values["0-2:24.1.0"] == ["007"]
    assert re.fullmatch(r"\d{5}\.\d{3}\*m3", values["0-1:24.2.3"][1])


def test_same_seed_and_times_give_identical_telegrams() -> None:
    start = local(2024, 2, 5, 6, 30)
    step = timedelta(seconds=1)
    first = list(run(SimulatedP1Meter(seed=7), start, step, 50))
    second = list(run(SimulatedP1Meter(seed=7), start, step, 50))
    other = list(run(SimulatedP1Meter(seed=8), start, step, 50))
    assert first == second
    assert first != other


def test_load_does_not_depend_on_how_often_the_meter_is_read() -> None:
    start = local(2024, 5, 14, 17, 0)
    dense = SimulatedP1Meter(seed=2, start=start)
    sparse = SimulatedP1Meter(seed=2, start=start)
    end = start + timedelta(hours=3)
    for _ in run(dense, start, timedelta(seconds=10), 3 * 360):
        pass
    final_dense = dense.telegram(end)
    final_sparse = sparse.telegram(end)
    for obis in ("1-0:21.7.0", "1-0:41.7.0", "1-0:61.7.0", "1-0:1.8.1", "1-0:2.8.1", "0-1:24.2.3"):
        assert number(final_dense, obis) == number(final_sparse, obis), obis


def test_counters_never_decrease_and_all_move() -> None:
    meter = SimulatedP1Meter(seed=5)
    # A spring Friday and Saturday: heating, showers, PV export on both tariffs.
    start = local(2024, 4, 12, 0, 0)
    previous: dict[str, float] = {}
    first: dict[str, float] = {}
    for telegram in run(meter, start, timedelta(seconds=120), 2 * 24 * 30):
        for obis in COUNTERS:
            value = number(telegram, obis)
            assert value >= previous.get(obis, 0.0), obis
            previous[obis] = value
            first.setdefault(obis, value)
    for obis in COUNTERS:
        assert previous[obis] > first[obis], f"{obis} did not move"


def test_power_voltage_and_current_agree() -> None:
    meter = SimulatedP1Meter(seed=11)
    start = local(2024, 7, 20, 6, 0)
    exported = imported = 0
    for telegram in run(meter, start, timedelta(minutes=3), 240):
        net_phases = 0.0
        for phase, (imp, exp, volt, amp) in enumerate(
            (("21", "22", "32", "31"), ("41", "42", "52", "51"), ("61", "62", "72", "71"))
        ):
            power_in = number(telegram, f"1-0:{imp}.7.0")
            power_out = number(telegram, f"1-0:{exp}.7.0")
            assert power_in == 0 or power_out == 0, phase
            voltage = number(telegram, f"1-0:{volt}.7.0")
            assert 215 < voltage < 245
            current = number(telegram, f"1-0:{amp}.7.0")
            assert current == pytest.approx((power_in + power_out) * 1000 / voltage, abs=0.02)
            net_phases += power_in - power_out
        total_in = number(telegram, "1-0:1.7.0")
        total_out = number(telegram, "1-0:2.7.0")
        assert total_in == 0 or total_out == 0
        assert total_in - total_out == pytest.approx(net_phases, abs=0.004)
        exported += total_out > 0
        imported += total_in > 0
    # A summer Saturday: the midday PV bump exports, mornings and evenings import.
    assert exported > 20
    assert imported > 20


def test_energy_counters_integrate_power() -> None:
    meter = SimulatedP1Meter(seed=4)
    start = local(2024, 1, 16, 17, 0)
    powers = []
    for telegram in run(meter, start, timedelta(seconds=10), 361):
        powers.append(number(telegram, "1-0:1.7.0"))
        if len(powers) == 1:
            at_start = number(telegram, "1-0:1.8.1")
    energy = number(telegram, "1-0:1.8.1") - at_start
    # Rectangle rule over 10 s steps: the counter uses each power until the next telegram.
    assert energy == pytest.approx(sum(powers[:-1]) * 10 / 3600, abs=0.002)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ((2024, 1, 17), {(6, 55): 2, (7, 0): 1, (21, 55): 1, (22, 0): 2}),  # winter Wednesday
        ((2024, 7, 17), {(6, 55): 2, (7, 0): 1, (21, 55): 1, (22, 0): 2}),  # summer Wednesday
        ((2024, 7, 20), {(6, 55): 2, (7, 0): 2, (12, 0): 2, (22, 0): 2}),  # Saturday
    ],
)
def test_tariff_follows_belgian_day_and_night(
    day: tuple[int, int, int], expected: dict[tuple[int, int], int]
) -> None:
    meter = SimulatedP1Meter(seed=1)
    seen: dict[tuple[int, int], int] = {}
    # 0001 is the day tariff in Belgium (the Dutch meaning is the reverse).
    for telegram in run(meter, local(*day, 5, 0), timedelta(minutes=5), 19 * 12):
        stamp = fields(telegram)["0-0:1.0.0"][0]
        hour, minute = int(stamp[6:8]), int(stamp[8:10])
        seen[hour, minute] = int(fields(telegram)["0-0:96.14.0"][0])
    for when, tariff in expected.items():
        assert seen[when] == tariff, when


def test_energy_goes_to_the_register_of_the_tariff_in_force() -> None:
    meter = SimulatedP1Meter(seed=9)
    night = meter.telegram(local(2024, 3, 6, 21, 50))  # Wednesday evening
    before_switch = meter.telegram(local(2024, 3, 6, 22, 0))
    later = meter.telegram(local(2024, 3, 6, 23, 30))
    assert number(before_switch, "1-0:1.8.1") > number(night, "1-0:1.8.1")
    assert number(later, "1-0:1.8.1") == number(before_switch, "1-0:1.8.1")
    assert number(later, "1-0:1.8.2") > number(before_switch, "1-0:1.8.2")


def test_quarter_average_restarts_and_feeds_the_month_peak() -> None:
    meter = SimulatedP1Meter(seed=6)
    start = local(2024, 11, 6, 17, 0)  # an evening with an EV charging session
    quarters = []
    previous_import = previous_peak = None
    for telegram in run(meter, start, timedelta(seconds=15), 12 * 60 + 1):
        stamp = fields(telegram)["0-0:1.0.0"][0]
        average = number(telegram, "1-0:1.4.0")
        imported = number(telegram, "1-0:1.8.1") + number(telegram, "1-0:1.8.2")
        peak = number(telegram, "1-0:1.6.0")
        if stamp[8:12] not in ("0000", "1500", "3000", "4500"):
            assert average >= 0.0
            continue
        assert average == 0.0  # a new quarter starts from nothing
        if previous_import is not None and previous_peak is not None:
            quarter = (imported - previous_import) * 4
            quarters.append(quarter)
            assert peak == pytest.approx(max(previous_peak, quarter), abs=0.005)
            if peak > previous_peak:
                assert fields(telegram)["1-0:1.6.0"][0] == stamp
        previous_import, previous_peak = imported, peak
    assert len(quarters) == 12
    assert max(quarters) > 5.0


def test_month_rollover_moves_the_peak_into_the_history() -> None:
    meter = SimulatedP1Meter(seed=2)
    before = fields(meter.telegram(local(2024, 3, 31, 23, 55)))
    after = fields(meter.telegram(local(2024, 4, 1, 0, 5)))
    assert int(after["0-0:98.1.0"][0]) == int(before["0-0:98.1.0"][0]) + 1
    # Newest first: the instant March closed, then March's peak (which the last quarter,
    # closing at midnight, may still have raised).
    month, peak_time, peak = after["0-0:98.1.0"][3:6]
    old_time, old_peak = before["1-0:1.6.0"]
    assert month == "240401000000S"
    assert (peak_time, peak) == (old_time, old_peak) or (
        peak_time == "240401000000S" and peak > old_peak
    )
    assert after["0-0:98.1.0"][6:] == before["0-0:98.1.0"][3:]
    assert after["1-0:1.6.0"] == ["240401000000S", "00.000*kW"]


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC), "240331015959W"),
        (datetime(2024, 3, 31, 1, 0, 0, tzinfo=UTC), "240331030000S"),
        (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "241027023000S"),
        (datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "241027023000W"),
        (datetime(2024, 12, 1, 12, 0, tzinfo=UTC), "241201130000W"),
    ],
)
def test_meter_time_carries_the_dst_flag(utc: datetime, expected: str) -> None:
    telegram = SimulatedP1Meter(seed=0).telegram(utc)
    assert fields(telegram)["0-0:1.0.0"] == [expected]


def test_meter_time_steps_through_the_autumn_repeated_hour() -> None:
    meter = SimulatedP1Meter(seed=0)
    start = datetime(2024, 10, 27, 0, 0, tzinfo=UTC)
    stamps = [
        fields(telegram)["0-0:1.0.0"][0] for telegram in run(meter, start, timedelta(minutes=30), 5)
    ]
    assert stamps == [
        "241027020000S",
        "241027023000S",
        "241027020000W",
        "241027023000W",
        "241027030000W",
    ]


def test_mbus_values_are_captured_every_five_minutes() -> None:
    meter = SimulatedP1Meter(seed=1)
    start = local(2024, 1, 10, 7, 1)
    captures = set()
    for telegram in run(meter, start, timedelta(seconds=20), 90):
        gas_time, _gas = fields(telegram)["0-1:24.2.3"]
        water_time, _water = fields(telegram)["0-2:24.2.1"]
        assert gas_time == water_time
        assert int(gas_time[8:10]) % 5 == 0
        assert gas_time[10:12] == "00"
        captures.add(gas_time)
    assert len(captures) == 7  # 07:00 (the first telegram's) to 07:30


def test_encrypted_frames_decrypt_to_the_plain_telegram() -> None:
    key = bytes(range(16))
    start = local(2024, 8, 1, 12, 0)
    plain_meter = SimulatedP1Meter(seed=4, equipment_id="1SAG9999999999")
    secret_meter = SimulatedP1Meter(seed=4, equipment_id="1SAG9999999999", encrypt_key=key)
    counters = []
    for index in range(3):
        now = start + timedelta(seconds=index)
        plain = plain_meter.telegram(now)
        frame = secret_meter.telegram(now)
        assert frame[:2] == b"\xdb\x08"
        system_title = frame[2:10]
        assert frame[10] == 0x82
        assert int.from_bytes(frame[11:13], "big") == len(frame) - 13
        assert frame[13] == 0x30
        counter = frame[14:18]
        counters.append(int.from_bytes(counter, "big"))
        ciphertext, tag = frame[18:-12], frame[-12:]
        decryptor = Cipher(
            algorithms.AES(key), modes.GCM(system_title + counter, tag, min_tag_length=12)
        ).decryptor()
        decryptor.authenticate_additional_data(b"\x30" + LUXEMBOURG_AUTH_KEY)
        assert decryptor.update(ciphertext) + decryptor.finalize() == plain
    assert counters == [counters[0], counters[0] + 1, counters[0] + 2]


def test_rejects_naive_times_and_bad_keys() -> None:
    with pytest.raises(ValueError, match="aware"):
        SimulatedP1Meter().telegram(datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        SimulatedP1Meter(start=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="16 bytes"):
        SimulatedP1Meter(encrypt_key=b"short")


def test_the_meter_never_runs_backwards() -> None:
    meter = SimulatedP1Meter(seed=1)
    later = meter.telegram(local(2024, 1, 10, 12, 0))
    earlier = meter.telegram(local(2024, 1, 10, 11, 0))
    assert fields(earlier)["0-0:1.0.0"] == fields(later)["0-0:1.0.0"]
    assert number(earlier, "1-0:1.8.1") == number(later, "1-0:1.8.1")


def test_the_p1_parser_reads_what_the_simulator_sent() -> None:
    telegram_module = pytest.importorskip("custom_components.energy_gateway.meterlib.p1.telegram")
    meter = SimulatedP1Meter(seed=12, equipment_id="1SAG5555555555")
    start = local(2024, 10, 27, 1, 30)  # across the autumn DST change
    for telegram in run(meter, start, timedelta(minutes=7), 30):
        snapshot = telegram_module.parse_telegram(telegram)
        assert snapshot.meter_id == "1SAG5555555555"
        assert snapshot.header == HEADER
        assert snapshot.timestamp == meter.reported["0-0:1.0.0"]
        assert snapshot.timestamp.utcoffset() == meter.reported["0-0:1.0.0"].utcoffset()  # type: ignore[union-attr]
        for obis, value in meter.reported.items():
            reading = snapshot.readings[obis]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert reading.value == pytest.approx(value), obis
            elif isinstance(value, datetime):
                assert reading.value == value, obis
        for obis, captured in meter.reported_times.items():
            assert snapshot.readings[obis].captured == captured, obis
        rows = snapshot.readings["0-0:98.1.0"].entries
        assert [tuple(row) for row in rows] == [tuple(row) for row in meter.reported_history]


def test_the_p1_decoder_reads_an_encrypted_simulated_stream() -> None:
    decoder_module = pytest.importorskip("custom_components.energy_gateway.meterlib.p1.decoder")
    key = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
    meter = SimulatedP1Meter(seed=3, encrypt_key=key)
    decoder = decoder_module.P1Decoder(key=key, auth_key=LUXEMBOURG_AUTH_KEY)
    start = local(2024, 3, 31, 1, 58)  # the spring DST jump
    stream = b"".join(run(meter, start, timedelta(seconds=20), 12))
    results = []
    for offset in range(0, len(stream), 333):  # chunks that split frames anywhere
        results += decoder.feed(stream[offset : offset + 333])
    assert len(results) == 12
    assert all(result.encrypted for result in results)
    assert results[-1].value("1-0:1.8.2") == meter.reported["1-0:1.8.2"]
    assert [result.timestamp.utcoffset() for result in results[:2]] == [
        timedelta(hours=1),
        timedelta(hours=1),
    ]
    assert results[-1].timestamp.utcoffset() == timedelta(hours=2)
