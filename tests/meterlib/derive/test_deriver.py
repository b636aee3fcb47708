"""The deriver's own figures: totals over tariffs, and counters kept from going backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.energy_gateway.meterlib.core.meaning import TOTAL_EXPORT, TOTAL_IMPORT
from custom_components.energy_gateway.meterlib.core.model import Reading, ReadingValue, Snapshot
from custom_components.energy_gateway.meterlib.derive.deriver import Deriver

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def snapshot(*readings: tuple[str, ReadingValue, str | None]) -> Snapshot:
    return Snapshot(
        "p1",
        "E0012345678",
        T0,
        {obis: Reading(obis, value, unit) for obis, value, unit in readings},
    )


def test_totals_sum_the_tariffs_of_one_unit() -> None:
    published = Deriver(UTC).derive(
        snapshot(
            ("1-0:1.8.1", 100.25, "kWh"),
            ("1-0:1.8.2", 50.5, "kWh"),
            ("1-0:2.8.1", 1.0, "kWh"),
            ("1-0:2.8.2", 2, "kWh"),
        ),
        T0,
    )
    assert published.values[TOTAL_IMPORT] == 150.75
    assert published.units[TOTAL_IMPORT] == "kWh"
    assert published.values[TOTAL_EXPORT] == 3.0


def test_no_total_over_mixed_units_empty_values_or_beside_the_meters_own() -> None:
    deriver = Deriver(UTC)
    mixed = deriver.derive(snapshot(("1-0:1.8.1", 100.0, "kWh"), ("1-0:1.8.2", 50.0, "Wh")), T0)
    assert TOTAL_IMPORT not in mixed.values
    empty = deriver.derive(snapshot(("1-0:2.8.1", 100.0, "kWh"), ("1-0:2.8.2", None, "kWh")), T0)
    assert TOTAL_EXPORT not in empty.values
    own = deriver.derive(
        snapshot(("1-0:1.8.0", 7.0, "kWh"), ("1-0:1.8.1", 3.0, "kWh"), ("1-0:1.8.2", 4.0, "kWh")),
        T0,
    )
    assert TOTAL_IMPORT not in own.values
    assert own.values["1-0:1.8.0"] == 7.0


def test_kamstrup_channel_one_registers_get_totals() -> None:
    published = Deriver(UTC).derive(
        snapshot(("1-1:1.8.1", 10.0, "kWh"), ("1-1:1.8.2", 5.0, "kWh")), T0
    )
    assert published.values[TOTAL_IMPORT] == 15.0


def test_many_sets_of_codes_in_turn() -> None:
    """A meter alternating between lists, and more lists than are remembered: each message
    still gets the totals of its own tariffs."""
    deriver = Deriver(UTC)
    for round_ in range(3):
        for extra in range(12):
            published = deriver.derive(
                snapshot(
                    ("1-0:1.8.1", 1.0 + round_, "kWh"),
                    ("1-0:1.8.2", 2.0, "kWh"),
                    (f"1-0:32.7.{extra}", 230.0, "V"),
                ),
                T0 + timedelta(seconds=12 * round_ + extra),
            )
            assert published.values[TOTAL_IMPORT] == 3.0 + round_


def test_a_stray_zero_counter_is_held_back() -> None:
    deriver = Deriver(UTC)
    deriver.derive(snapshot(("1-0:1.8.1", 1234.5, "kWh")), T0)
    glitch = deriver.derive(snapshot(("1-0:1.8.1", 0.0, "kWh")), T0 + timedelta(seconds=1))
    assert glitch.values["1-0:1.8.1"] == 1234.5
    assert deriver.counter_rejections == 1


def test_flemish_floor_only_for_belgian_meters() -> None:
    """A month peak of 0.8 kW is billed as 2.5 kW in Flanders; a Dutch meter's 12-month
    peak average is its plain 0.8 kW (issue 13)."""

    def mean_of(variant: str) -> float | None:
        deriver = Deriver(UTC)
        published = None
        for minutes, kwh in ((0, 10.0), (15, 10.2), (30, 10.3)):
            reading = snapshot(("1-0:1.8.0", kwh, "kWh"))
            reading = Snapshot(reading.format, reading.meter_id, T0, reading.readings, variant)
            published = deriver.derive(reading, T0 + timedelta(minutes=minutes))
        assert published is not None
        assert published.values["capacity_month_peak"] == 0.8
        value = published.values["capacity_billing_mean"]
        assert value is None or isinstance(value, float)
        return value

    assert mean_of("fluvius") == 2.5
    assert mean_of("dsmr5") == 0.8
