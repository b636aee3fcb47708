"""Publish window: averages for instantaneous values, newest value for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.energy_gateway.meterlib.core.model import Reading, ReadingValue, Snapshot
from custom_components.energy_gateway.meterlib.derive.window import PublishWindow

T0 = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def message(
    second: int,
    power_kw: ReadingValue,
    energy_kwh: float,
    *,
    tariff: str = "0002",
    meter_id: str | None = "E0012345678",
    extra: tuple[Reading, ...] = (),
) -> Snapshot:
    readings = [
        Reading("1-0:1.7.0", power_kw, "kW"),
        Reading("1-0:1.8.1", energy_kwh, "kWh"),
        Reading("0-0:96.14.0", tariff),
        *extra,
    ]
    return Snapshot(
        format="p1",
        meter_id=meter_id,
        timestamp=T0 + timedelta(seconds=second),
        readings={reading.obis: reading for reading in readings},
        variant="dsmr5",
        header=f"XMX5LGBBFFB{second}",
    )


def test_zero_seconds_passes_every_snapshot_through_unchanged() -> None:
    window = PublishWindow(0)
    snapshots = [message(second, 1.0 + second, 100.0 + second) for second in range(3)]
    for second, snapshot in enumerate(snapshots):
        assert window.add(snapshot, float(second)) is snapshot


def test_first_message_publishes_immediately() -> None:
    window = PublishWindow(10)
    first = message(0, 1.5, 100.0)
    assert window.add(first, 1000.0) is first
    assert window.add(message(1, 2.0, 100.1), 1001.0) is None


def test_window_averages_power_and_keeps_the_newest_counter_and_text() -> None:
    window = PublishWindow(10)
    window.add(message(0, 9.0, 100.0), 0.0)
    assert window.add(message(4, 1.0, 100.001), 4.0) is None
    assert window.add(message(8, 2.0, 100.002, tariff="0001"), 8.0) is None
    published = window.add(message(12, 6.0, 100.004), 12.0)
    assert published is not None
    # 9 kW was already published with the first message; this window saw 1, 2 and 6.
    assert published.value("1-0:1.7.0") == pytest.approx(3.0)
    assert published.value("1-0:1.8.1") == 100.004
    assert published.value("0-0:96.14.0") == "0002"
    assert published.readings["1-0:1.7.0"].unit == "kW"
    assert published.timestamp == T0 + timedelta(seconds=12)
    assert published.header == "XMX5LGBBFFB12"
    assert published.variant == "dsmr5"
    assert published.meter_id == "E0012345678"
    assert list(published.readings) == ["1-0:1.7.0", "1-0:1.8.1", "0-0:96.14.0"]


def test_next_window_starts_empty() -> None:
    window = PublishWindow(10)
    window.add(message(0, 9.0, 100.0), 0.0)
    first = window.add(message(10, 4.0, 100.1), 10.0)
    assert first is not None
    assert first.value("1-0:1.7.0") == 4.0
    assert window.add(message(15, 2.0, 100.2), 15.0) is None
    second = window.add(message(20, 1.0, 100.3), 20.0)
    assert second is not None
    assert second.value("1-0:1.7.0") == pytest.approx(1.5)
    assert second.value("1-0:1.8.1") == 100.3


@pytest.mark.parametrize("unit", ["W", "kW", "MW", "var", "kvar", "VA", "kVA", "V", "A", "Hz"])
def test_every_instantaneous_unit_is_averaged(unit: str) -> None:
    window = PublishWindow(5)
    extra = "1-0:32.7.0"
    window.add(message(0, 1.0, 1.0, extra=(Reading(extra, 1.0, unit),)), 0.0)
    window.add(message(1, 1.0, 1.0, extra=(Reading(extra, 230, unit),)), 1.0)
    published = window.add(message(6, 1.0, 1.0, extra=(Reading(extra, 232, unit),)), 6.0)
    assert published is not None
    assert published.value(extra) == 231.0


@pytest.mark.parametrize("unit", ["kWh", "Wh", "m³", "GJ", "kvarh", "%", "s", None])
def test_other_units_keep_the_newest_value(unit: str | None) -> None:
    window = PublishWindow(5)
    extra = "0-1:24.2.1"
    window.add(message(0, 1.0, 1.0, extra=(Reading(extra, 1.0, unit),)), 0.0)
    window.add(message(1, 1.0, 1.0, extra=(Reading(extra, 10.0, unit),)), 1.0)
    published = window.add(message(6, 1.0, 1.0, extra=(Reading(extra, 20.0, unit),)), 6.0)
    assert published is not None
    assert published.value(extra) == 20.0


def test_reading_missing_from_the_newest_message_is_kept() -> None:
    window = PublishWindow(5)
    gas = Reading("0-1:24.2.1", 1234.5, "m³", captured=T0)
    window.add(message(0, 1.0, 1.0), 0.0)
    window.add(message(1, 1.0, 1.0, extra=(gas,)), 1.0)
    published = window.add(message(6, 1.0, 1.0), 6.0)
    assert published is not None
    assert published.readings["0-1:24.2.1"] == gas
    assert list(published.readings)[-1] == "0-1:24.2.1"


def test_empty_and_mismatched_values_are_left_out_of_the_average() -> None:
    window = PublishWindow(5)
    voltage = "1-0:32.7.0"
    window.add(message(0, 1.0, 1.0), 0.0)
    window.add(message(1, None, 1.0, extra=(Reading(voltage, 0.231, "kV"),)), 1.0)
    window.add(message(2, 2.0, 1.0, extra=(Reading(voltage, 229.0, "V"),)), 2.0)
    window.add(message(3, "E", 1.0, extra=(Reading(voltage, None, "V"),)), 3.0)
    published = window.add(message(6, None, 1.0, extra=(Reading(voltage, 231.0, "V"),)), 6.0)
    assert published is not None
    assert published.value("1-0:1.7.0") == 2.0  # only one number in the window
    assert published.value(voltage) == 230.0


def test_window_of_only_empty_values_publishes_the_newest() -> None:
    window = PublishWindow(5)
    window.add(message(0, 1.0, 1.0), 0.0)
    window.add(message(1, None, 1.0), 1.0)
    published = window.add(message(6, None, 1.0), 6.0)
    assert published is not None
    assert published.value("1-0:1.7.0") is None


def test_another_meter_restarts_the_window() -> None:
    window = PublishWindow(10)
    window.add(message(0, 1.0, 1.0), 0.0)
    window.add(message(1, 5.0, 1.0), 1.0)
    other = message(2, 7.0, 50.0, meter_id="E999")
    assert window.add(other, 2.0) is other
    assert window.add(message(3, 3.0, 51.0, meter_id="E999"), 3.0) is None
    published = window.add(message(12, 5.0, 52.0, meter_id="E999"), 12.0)
    assert published is not None
    assert published.value("1-0:1.7.0") == 4.0
    assert published.value("1-0:1.8.1") == 52.0


@pytest.mark.parametrize("seconds", [-1.0, math.nan, math.inf])
def test_invalid_window_is_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match="seconds"):
        PublishWindow(seconds)


@settings(max_examples=100, deadline=None)
@given(
    powers=st.lists(st.floats(min_value=-50.0, max_value=50.0), min_size=2, max_size=30),
    seconds=st.floats(min_value=0.5, max_value=20.0),
)
def test_published_power_stays_within_the_window_and_counters_are_newest(
    powers: list[float], seconds: float
) -> None:
    window = PublishWindow(seconds)
    collected: list[float] = []
    for index, power in enumerate(powers):
        snapshot = message(index, power, 100.0 + index)
        published = window.add(snapshot, float(index))
        if index == 0:
            assert published is snapshot
            continue
        collected.append(power)
        if published is None:
            continue
        value = published.value("1-0:1.7.0")
        assert isinstance(value, float)
        assert min(collected) - 1e-9 <= value <= max(collected) + 1e-9
        assert value == pytest.approx(sum(collected) / len(collected))
        assert published.value("1-0:1.8.1") == 100.0 + index
        collected = []
