"""Capacity-tariff tracker: quarters, months (DST included), history, persistence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import json
import math
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.energy_gateway.meterlib.derive.capacity import (
    CapacityState,
    CapacityTracker,
    MonthPeak,
)

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    *,
    second: int = 0,
    fold: int = 0,
) -> datetime:
    """An aware Brussels wall-clock time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=BRUSSELS, fold=fold)


def run(
    tracker: CapacityTracker,
    start: datetime,
    end: datetime,
    kwh: float,
    power_kw: float,
    *,
    step: timedelta = timedelta(minutes=1),
) -> float:
    """Feed readings every `step` from `start` (exclusive) to `end` (inclusive) at a
    constant power; return the counter at `end`."""
    # Step in UTC: wall-clock arithmetic would repeat or skip the DST hour.
    at, end = start.astimezone(UTC), end.astimezone(UTC)
    while at < end:
        nxt = min(at + step, end)
        kwh += power_kw * (nxt - at).total_seconds() / 3600
        tracker.update(nxt, kwh)
        at = nxt
    return kwh


def month_end_readings(tracker: CapacityTracker, month: date, powers: tuple[float, float]) -> None:
    """Three readings exactly on the boundaries 00:00, 00:15 and 00:30 of the 1st of
    `month`: two complete quarters with the given powers, nothing else that month."""
    base = 100.0 * ((month.year - 2020) * 12 + month.month)  # below 10 MWh until 2028
    start = local(month.year, month.month, 1, 0, 0)
    tracker.update(start, base)
    tracker.update(start + timedelta(minutes=15), base + powers[0] / 4)
    tracker.update(start + timedelta(minutes=30), base + powers[0] / 4 + powers[1] / 4)


# ---- quarters -----------------------------------------------------------------------


def test_quarter_boundary_interpolates_the_counter() -> None:
    tracker = CapacityTracker(BRUSSELS)
    tracker.update(local(2024, 5, 6, 10, 0), 100.0)
    before = tracker.update(local(2024, 5, 6, 10, 14, second=50), 100.0 + 4 * (890 / 3600))
    assert before.current_quarter_kw == pytest.approx(4.0)
    assert before.last_quarter_kw is None
    assert before.month_peak_kw is None

    # 0.05 kWh between 10:14:50 and 10:15:10: half of it belongs before hh:15.
    after = tracker.update(local(2024, 5, 6, 10, 15, second=10), 100.0 + 4 * (890 / 3600) + 0.05)
    expected = (4 * (890 / 3600) + 0.025) / 0.25
    assert after.last_quarter_kw == pytest.approx(expected)
    assert after.last_quarter_start == local(2024, 5, 6, 10, 0)
    assert after.month_peak_kw == pytest.approx(expected)
    assert after.month_peak_start == local(2024, 5, 6, 10, 0)
    # 10 s into the new quarter is too short for an average (a 9 kW figure from 25 Wh).
    assert after.current_quarter_kw is None
    later = tracker.update(local(2024, 5, 6, 10, 16, second=10), 100.0 + 4 * (890 / 3600) + 0.1)
    assert later.current_quarter_kw == pytest.approx(0.075 / (70 / 3600))


def test_reading_exactly_on_the_boundary_starts_the_quarter_and_projects_from_power() -> None:
    tracker = CapacityTracker(BRUSSELS)
    state = tracker.update(local(2024, 5, 6, 10, 0), 100.0, power_kw=3.0)
    assert state.current_quarter_kw is None  # nothing covered yet
    assert state.projected_quarter_kw == pytest.approx(3.0)
    assert state.last_quarter_kw is None


def test_first_reading_mid_quarter_is_partial() -> None:
    tracker = CapacityTracker(BRUSSELS)
    first = tracker.update(local(2024, 5, 6, 10, 7), 50.0)
    assert first.current_quarter_kw is None
    assert first.projected_quarter_kw is None
    kwh = run(tracker, local(2024, 5, 6, 10, 7), local(2024, 5, 6, 10, 14), 50.0, 2.0)
    assert tracker.state.current_quarter_kw == pytest.approx(2.0)
    kwh = run(tracker, local(2024, 5, 6, 10, 14), local(2024, 5, 6, 10, 20), kwh, 2.0)
    state = tracker.state
    assert state.last_quarter_kw is None  # 10:00-10:15 was only partly seen
    assert state.last_quarter_start == local(2024, 5, 6, 10, 0)
    assert state.month_peak_kw is None
    run(tracker, local(2024, 5, 6, 10, 20), local(2024, 5, 6, 10, 31), kwh, 2.0)
    assert tracker.state.last_quarter_kw == pytest.approx(2.0)
    assert tracker.state.month_peak_kw == pytest.approx(2.0)


def test_projection_uses_power_or_running_average() -> None:
    tracker = CapacityTracker(BRUSSELS)
    tracker.update(local(2024, 5, 6, 10, 0), 0.0)
    plain = tracker.update(local(2024, 5, 6, 10, 5), 0.5)
    assert plain.current_quarter_kw == pytest.approx(6.0)
    assert plain.projected_quarter_kw == pytest.approx(6.0)
    with_power = tracker.update(local(2024, 5, 6, 10, 5, second=1), 0.5, power_kw=12.0)
    # 0.5 kWh so far, then almost 10 minutes at 12 kW.
    remaining = (10 * 60 - 1) / 3600
    assert with_power.projected_quarter_kw == pytest.approx((0.5 + remaining * 12) / 0.25)
    exporting = tracker.update(local(2024, 5, 6, 10, 5, second=2), 0.5, power_kw=-4.0)
    assert exporting.projected_quarter_kw == pytest.approx(0.5 / 0.25)


def test_projection_of_a_partial_quarter_fills_the_unseen_start_with_the_average() -> None:
    tracker = CapacityTracker(BRUSSELS)
    tracker.update(local(2024, 5, 6, 10, 5), 100.0)
    state = tracker.update(local(2024, 5, 6, 10, 10), 100.5)
    assert state.current_quarter_kw == pytest.approx(6.0)
    assert state.projected_quarter_kw == pytest.approx(6.0)
    idle = tracker.update(local(2024, 5, 6, 10, 10, second=30), 100.55, power_kw=0.0)
    average = 0.55 / (5.5 / 60)
    assert idle.projected_quarter_kw == pytest.approx(average * (10.5 / 60) / 0.25)


def test_month_peak_is_the_highest_complete_quarter_and_keeps_the_first_on_ties() -> None:
    tracker = CapacityTracker(BRUSSELS)
    kwh = run(tracker, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 15), 0.0, 3.0)
    kwh = run(tracker, local(2024, 5, 6, 10, 15), local(2024, 5, 6, 10, 30), kwh, 7.0)
    kwh = run(tracker, local(2024, 5, 6, 10, 30), local(2024, 5, 6, 10, 45), kwh, 2.0)
    run(tracker, local(2024, 5, 6, 10, 45), local(2024, 5, 6, 11, 0), kwh, 7.0)
    state = tracker.state
    assert state.month_peak_kw == pytest.approx(7.0)
    assert state.month_peak_start == local(2024, 5, 6, 10, 15)
    assert state.last_quarter_kw == pytest.approx(7.0)
    assert state.last_quarter_start == local(2024, 5, 6, 10, 45)


# ---- months and DST ------------------------------------------------------------------


def test_end_of_march_rolls_over_at_local_midnight_across_dst() -> None:
    tracker = CapacityTracker(BRUSSELS)
    # 31 March 2024: clocks jump from 02:00 to 03:00.
    kwh = run(tracker, local(2024, 3, 31, 1, 29), local(2024, 3, 31, 1, 45), 10.0, 1.0)
    kwh = run(tracker, local(2024, 3, 31, 1, 45), local(2024, 3, 31, 3, 0), kwh, 3.0)
    state = tracker.state
    assert state.last_quarter_kw == pytest.approx(3.0)  # 01:45 CET to 03:00 CEST is 15 min
    assert state.last_quarter_start == local(2024, 3, 31, 1, 45)

    kwh = run(tracker, local(2024, 3, 31, 3, 0), local(2024, 3, 31, 23, 45), kwh, 1.0)
    kwh = run(tracker, local(2024, 3, 31, 23, 45), local(2024, 4, 1, 0, 0), kwh, 5.0)
    kwh = run(tracker, local(2024, 4, 1, 0, 0), local(2024, 4, 1, 0, 5), kwh, 9.0)
    state = tracker.state
    # 23:45-00:00 belongs to March; April has no complete quarter yet.
    assert state.month_peak_kw is None
    assert [(peak.month, round(peak.kw, 6)) for peak in state.history] == [(date(2024, 3, 1), 5.0)]
    assert state.history[0].start == local(2024, 3, 31, 23, 45)
    assert state.history[0].start is not None
    assert state.history[0].start.astimezone(UTC) == datetime(2024, 3, 31, 21, 45, tzinfo=UTC)

    run(tracker, local(2024, 4, 1, 0, 5), local(2024, 4, 1, 0, 16), kwh, 9.0)
    state = tracker.state
    assert state.month_peak_kw == pytest.approx(9.0)
    assert state.month_peak_start == local(2024, 4, 1, 0, 0)
    assert [peak.month for peak in state.history] == [date(2024, 3, 1)]


def test_end_of_october_repeated_hour_and_rollover() -> None:
    tracker = CapacityTracker(BRUSSELS)
    # 27 October 2024: 02:00-03:00 happens twice; the peak is in the second 02:15.
    kwh = run(tracker, local(2024, 10, 27, 1, 59), local(2024, 10, 27, 2, 15, fold=1), 0.0, 1.0)
    kwh = run(
        tracker, local(2024, 10, 27, 2, 15, fold=1), local(2024, 10, 27, 2, 30, fold=1), kwh, 6.0
    )
    kwh = run(tracker, local(2024, 10, 27, 2, 30, fold=1), local(2024, 10, 27, 4, 0), kwh, 1.0)
    state = tracker.state
    assert state.month_peak_kw == pytest.approx(6.0)
    assert state.month_peak_start is not None
    assert state.month_peak_start.astimezone(UTC) == datetime(2024, 10, 27, 1, 15, tzinfo=UTC)
    assert state.month_peak_start.fold == 1

    # 1 November 00:00 CET is 23:00 UTC on 31 October.
    kwh = run(tracker, local(2024, 10, 31, 23, 29), local(2024, 10, 31, 23, 45), kwh, 1.0)
    kwh = run(tracker, local(2024, 10, 31, 23, 45), local(2024, 11, 1, 0, 0), kwh, 8.0)
    kwh = run(tracker, local(2024, 11, 1, 0, 0), local(2024, 11, 1, 0, 30), kwh, 4.0)
    state = tracker.state
    assert [(peak.month, round(peak.kw, 6)) for peak in state.history] == [(date(2024, 10, 1), 8.0)]
    assert state.history[0].start is not None
    assert state.history[0].start.astimezone(UTC) == datetime(2024, 10, 31, 22, 45, tzinfo=UTC)
    assert state.month_peak_kw == pytest.approx(4.0)
    assert state.month_peak_start == local(2024, 11, 1, 0, 0)


def test_history_is_capped_at_twelve_months_newest_first() -> None:
    tracker = CapacityTracker(BRUSSELS)
    months = [date(2023 + (index // 12), index % 12 + 1, 1) for index in range(14)]
    for number, month in enumerate(months, start=1):
        month_end_readings(tracker, month, (float(number), number + 0.5))
    state = tracker.state
    assert [peak.month for peak in state.history] == months[-2::-1][:12]
    assert state.history[0] == MonthPeak(date(2024, 1, 1), 13.5, local(2024, 1, 1, 0, 15))
    assert state.history[-1] == MonthPeak(date(2023, 2, 1), 2.5, local(2023, 2, 1, 0, 15))
    assert state.month_peak_kw == 14.5


def test_billing_mean_floors_months_at_two_and_a_half_kw() -> None:
    tracker = CapacityTracker(BRUSSELS)
    for month, powers in (
        (date(2024, 1, 1), (1.0, 0.5)),
        (date(2024, 2, 1), (3.0, 2.0)),
        (date(2024, 3, 1), (0.0, 4.0)),
        (date(2024, 4, 1), (2.0, 1.0)),
    ):
        month_end_readings(tracker, month, powers)
    state = tracker.state
    assert state.month_peak_kw == 2.0
    # January 2.5 (floored), February 3, March 4, running April 2.5 (floored).
    assert state.billing_mean_kw == pytest.approx((2.5 + 3.0 + 4.0 + 2.5) / 4)


def test_billing_mean_covers_the_running_month_and_eleven_before() -> None:
    tracker = CapacityTracker(BRUSSELS)
    months = [date(2023 + (index // 12), index % 12 + 1, 1) for index in range(13)]
    for number, month in enumerate(months, start=1):
        month_end_readings(tracker, month, (float(number), 0.0))
    state = tracker.state
    assert len(state.history) == 12  # January 2023 stays visible ...
    # ... but the mean is January 2024 (13) plus February-December 2023 (2..12 kW).
    expected = (13 + sum(max(kw, 2.5) for kw in range(2, 13))) / 12
    assert state.billing_mean_kw == pytest.approx(expected)


def test_billing_mean_uses_only_known_months_and_is_none_without_any() -> None:
    tracker = CapacityTracker(BRUSSELS)
    assert tracker.state.billing_mean_kw is None
    tracker.update(local(2024, 5, 6, 10, 3), 1.0)
    assert tracker.state.billing_mean_kw is None
    tracker.update(local(2024, 5, 6, 10, 15), 2.0)
    tracker.update(local(2024, 5, 6, 10, 30), 3.5)
    assert tracker.state.billing_mean_kw == pytest.approx(6.0)


# ---- meter history --------------------------------------------------------------------


def test_seed_history_months_and_quarter_starts() -> None:
    tracker = CapacityTracker(BRUSSELS)
    tracker.seed_history(
        [
            (local(2024, 5, 1), local(2024, 4, 23, 19, 25, second=38), 3.695),
            (local(2024, 4, 1), None, 0.0),  # placeholder 632525252525W
            (local(2024, 3, 1), local(2024, 3, 1, 0, 0), 4.25),  # a quarter end at midnight
            (None, datetime(2024, 1, 10, 12, 45), 1.5),  # no stamp, no zone: local time
            (local(2023, 12, 1), local(2023, 11, 5, 8, 0), math.nan),
        ]
    )
    assert tracker.state.history == (
        MonthPeak(date(2024, 4, 1), 3.695, local(2024, 4, 23, 19, 15)),
        MonthPeak(date(2024, 2, 1), 4.25, local(2024, 2, 29, 23, 45)),
        MonthPeak(date(2024, 1, 1), 1.5, local(2024, 1, 10, 12, 30)),
    )
    assert tracker.state.billing_mean_kw is None  # no running month yet
    tracker.update(local(2024, 5, 6, 10, 3), 1.0)
    assert tracker.state.billing_mean_kw == pytest.approx((3.695 + 4.25 + 2.5) / 3)


def test_seed_history_never_replaces_measured_months_or_the_running_one() -> None:
    tracker = CapacityTracker(BRUSSELS)
    month_end_readings(tracker, date(2024, 5, 1), (2.0, 6.0))
    month_end_readings(tracker, date(2024, 6, 1), (1.0, 1.0))
    tracker.seed_history(
        [
            (local(2024, 6, 1), local(2024, 5, 20, 18, 0), 9.9),  # May: measured by us
            (local(2024, 7, 1), local(2024, 6, 20, 18, 0), 9.9),  # June: still running
            (local(2024, 5, 1), local(2024, 4, 20, 18, 0), 5.5),
            (local(2023, 5, 1), local(2023, 4, 20, 18, 0), 5.5),  # older than a year
        ]
    )
    state = tracker.state
    assert state.history == (
        MonthPeak(date(2024, 5, 1), 6.0, local(2024, 5, 1, 0, 15)),
        MonthPeak(date(2024, 4, 1), 5.5, local(2024, 4, 20, 17, 45)),
    )
    assert state.month_peak_kw == 1.0
    tracker.seed_history([(local(2024, 5, 1), local(2024, 4, 21, 9, 0), 7.0)])
    assert tracker.state.history[1] == MonthPeak(date(2024, 4, 1), 7.0, local(2024, 4, 21, 8, 45))


# ---- robustness ---------------------------------------------------------------------


def test_counter_going_backwards_is_ignored() -> None:
    tracker = CapacityTracker(BRUSSELS)
    kwh = run(tracker, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 10), 500.0, 4.0)
    before = tracker.state
    assert tracker.update(local(2024, 5, 6, 10, 10, second=30), 0.0) == before
    assert tracker.update(local(2024, 5, 6, 10, 11), kwh - 1) == before
    kwh = run(tracker, local(2024, 5, 6, 10, 10), local(2024, 5, 6, 10, 30), kwh, 4.0)
    assert tracker.state.last_quarter_kw == pytest.approx(4.0)
    assert tracker.state.month_peak_kw == pytest.approx(4.0)


def test_replaced_meter_is_followed_after_three_lower_readings() -> None:
    tracker = CapacityTracker(BRUSSELS)
    kwh = run(tracker, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 20), 500.0, 4.0)
    assert tracker.state.last_quarter_kw == pytest.approx(4.0)
    tracker.update(local(2024, 5, 6, 10, 21), 0.0)
    tracker.update(local(2024, 5, 6, 10, 22), 0.01)
    restarted = tracker.update(local(2024, 5, 6, 10, 23), 0.02)
    assert restarted.current_quarter_kw is None  # a fresh, partial quarter
    assert restarted.month_peak_kw == pytest.approx(4.0)
    assert kwh > 0.02
    new = run(tracker, local(2024, 5, 6, 10, 23), local(2024, 5, 6, 10, 29), 0.02, 2.0)
    assert tracker.state.current_quarter_kw == pytest.approx(2.0)
    run(tracker, local(2024, 5, 6, 10, 29), local(2024, 5, 6, 10, 46), new, 2.0)
    state = tracker.state
    assert state.last_quarter_kw == pytest.approx(2.0)
    assert state.last_quarter_start == local(2024, 5, 6, 10, 30)
    assert state.month_peak_kw == pytest.approx(4.0)


def test_restart_exactly_on_a_boundary_does_not_close_a_quarter_across_meters() -> None:
    tracker = CapacityTracker(BRUSSELS)
    run(tracker, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 14), 500.0, 4.0)
    tracker.update(local(2024, 5, 6, 10, 14, second=20), 1.0)
    tracker.update(local(2024, 5, 6, 10, 14, second=40), 1.0)
    state = tracker.update(local(2024, 5, 6, 10, 15), 1.0)
    assert state.last_quarter_kw is None
    assert state.month_peak_kw is None
    # The new quarter counts from the new meter's counter.
    assert tracker.update(local(2024, 5, 6, 10, 16), 1.05).current_quarter_kw == pytest.approx(3.0)


def test_stale_or_invalid_readings_are_ignored() -> None:
    tracker = CapacityTracker(BRUSSELS)
    run(tracker, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 5), 500.0, 4.0)
    before = tracker.state
    assert tracker.update(local(2024, 5, 6, 10, 5), 501.0) == before  # same instant
    assert tracker.update(local(2024, 5, 6, 10, 4), 501.0) == before  # older
    assert tracker.update(local(2024, 5, 6, 10, 6), math.nan) == before
    assert tracker.update(local(2024, 5, 6, 10, 6), -1.0) == before
    with pytest.raises(ValueError, match="aware"):
        tracker.update(datetime(2024, 5, 6, 10, 6), 501.0)


def test_gap_across_a_boundary_skips_the_quarters_it_touches() -> None:
    tracker = CapacityTracker(BRUSSELS)
    kwh = run(tracker, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 13), 0.0, 4.0)
    # Nothing from 10:13 to 10:17: neither side of the hh:15 boundary is trusted.
    kwh += 8.0 * 4 / 60
    state = tracker.update(local(2024, 5, 6, 10, 17), kwh)
    assert state.last_quarter_kw is None
    assert state.last_quarter_start == local(2024, 5, 6, 10, 0)
    assert state.current_quarter_kw is None  # only one reading in 10:15-10:30 so far
    kwh = run(tracker, local(2024, 5, 6, 10, 17), local(2024, 5, 6, 10, 31), kwh, 4.0)
    state = tracker.state
    assert state.last_quarter_kw is None  # 10:15-10:30 began inside the gap
    run(tracker, local(2024, 5, 6, 10, 31), local(2024, 5, 6, 10, 46), kwh, 4.0)
    assert tracker.state.last_quarter_kw == pytest.approx(4.0)
    assert tracker.state.month_peak_start == local(2024, 5, 6, 10, 30)


def test_gap_inside_a_quarter_keeps_it_complete() -> None:
    tracker = CapacityTracker(BRUSSELS)
    tracker.update(local(2024, 5, 6, 10, 0), 10.0)
    tracker.update(local(2024, 5, 6, 10, 1), 10.1)
    tracker.update(local(2024, 5, 6, 10, 14), 11.0)
    state = tracker.update(local(2024, 5, 6, 10, 16), 11.2)
    assert state.last_quarter_kw == pytest.approx((11.1 - 10.0) / 0.25)


def test_long_gap_across_months_closes_the_old_month() -> None:
    tracker = CapacityTracker(BRUSSELS)
    kwh = run(tracker, local(2024, 5, 31, 9, 59), local(2024, 5, 31, 10, 20), 0.0, 3.0)
    state = tracker.update(local(2024, 8, 2, 7, 30), kwh + 1000)
    assert [(peak.month, round(peak.kw, 6)) for peak in state.history] == [(date(2024, 5, 1), 3.0)]
    assert state.history[0].start == local(2024, 5, 31, 10, 0)
    assert state.month_peak_kw is None
    assert state.last_quarter_kw is None
    assert state.last_quarter_start == local(2024, 8, 2, 7, 15)
    assert state.current_quarter_kw is None  # the 07:30 quarter has just begun


def test_gap_ending_exactly_on_a_boundary_keeps_that_quarter() -> None:
    tracker = CapacityTracker(BRUSSELS)
    tracker.update(local(2024, 5, 6, 10, 0), 10.0)
    tracker.update(local(2024, 5, 6, 10, 1), 10.1)
    state = tracker.update(local(2024, 5, 6, 10, 15), 11.0)
    assert state.last_quarter_kw == pytest.approx(4.0)


# ---- persistence --------------------------------------------------------------------


def json_round_trip(tracker: CapacityTracker) -> CapacityTracker:
    return CapacityTracker.from_dict(json.loads(json.dumps(tracker.as_dict())), BRUSSELS)


def test_restart_keeps_month_peak_history_and_the_quarter_in_progress() -> None:
    steady = CapacityTracker(BRUSSELS)
    month_end_readings(steady, date(2024, 4, 1), (3.0, 7.0))
    kwh = run(steady, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 20), 10_000.0, 5.0)
    restored = json_round_trip(steady)
    assert restored.state == steady.state
    assert restored.state.history == (MonthPeak(date(2024, 4, 1), 7.0, local(2024, 4, 1, 0, 15)),)
    assert restored.state.month_peak_kw == pytest.approx(5.0)

    run(steady, local(2024, 5, 6, 10, 20), local(2024, 5, 6, 10, 31), kwh, 6.0)
    run(restored, local(2024, 5, 6, 10, 20), local(2024, 5, 6, 10, 31), kwh, 6.0)
    assert restored.state == steady.state
    assert restored.state.last_quarter_kw == pytest.approx((5 * 5 + 10 * 6) / 15)


def test_restart_after_a_long_pause_keeps_the_month_but_not_the_quarter() -> None:
    tracker = CapacityTracker(BRUSSELS)
    kwh = run(tracker, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 20), 10_000.0, 5.0)
    restored = json_round_trip(tracker)
    kwh = run(restored, local(2024, 5, 6, 11, 0), local(2024, 5, 6, 11, 10), kwh + 1, 2.0)
    state = restored.state
    assert state.month_peak_kw == pytest.approx(5.0)
    assert state.last_quarter_kw is None
    assert state.current_quarter_kw == pytest.approx(2.0)


def test_fresh_tracker_round_trips() -> None:
    restored = json_round_trip(CapacityTracker(BRUSSELS))
    assert restored.state == CapacityState(None, None, None, None, None, None, (), None)


def good_dict() -> dict[str, Any]:
    tracker = CapacityTracker(BRUSSELS)
    month_end_readings(tracker, date(2024, 4, 1), (3.0, 7.0))
    run(tracker, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 20), 10_000.0, 5.0)
    data: dict[str, Any] = json.loads(json.dumps(tracker.as_dict()))
    return data


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"version": 99},
        {"version": 1, "months": "garbage"},
        {"version": 1, "month": 5},
        {"version": 1, "month": "2024-05-06"},
        {"version": 1, "month": "2024-05-01", "months": [{"month": "2024-04-01"}]},
        {
            "version": 1,
            "month": "2024-05-01",
            "month_peak": {"month": "2024-04-01", "kw": 1, "start": None},
        },
        {
            "version": 1,
            "month": "2024-05-01",
            "months": [{"month": "2024-04-01", "kw": True, "start": None, "measured": True}],
        },
        {
            "version": 1,
            "month": "2024-05-01",
            "months": [{"month": "2024-04-01", "kw": "inf", "start": None, "measured": True}],
        },
        {
            "version": 1,
            "month": "2024-05-01",
            "months": [{"month": "2024-04-01", "kw": 1e999, "start": None, "measured": True}],
        },
        {
            "version": 1,
            "month": "2024-05-01",
            "months": [
                {"month": "2024-04-01", "kw": 1.0, "start": "2024-04-01T10:00:00", "measured": True}
            ],
        },
        {
            "version": 1,
            "month": "2024-05-01",
            "months": [{"month": "2024-04-01", "kw": 1.0, "start": 17, "measured": True}],
        },
        {"version": 1, "month": None, "quarter": {"last": ["2024-05-06T08:00:00+00:00", 1.0]}},
        ["not", "a", "mapping"],
    ],
)
def test_corrupt_storage_starts_fresh(data: Any) -> None:
    tracker = CapacityTracker.from_dict(data, BRUSSELS)
    assert tracker.state == CapacityState(None, None, None, None, None, None, (), None)
    tracker.update(local(2024, 5, 6, 10, 0), 1.0)
    assert tracker.update(local(2024, 5, 6, 10, 1), 1.05).current_quarter_kw == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("last", "nonsense"),
        ("last", ["2024-05-06T08:10:00+00:00", "12"]),
        ("start", "2024-05-06T08:07:00+00:00"),  # not a quarter start
        ("start", "2024-05-06T07:00:00+00:00"),  # last reading not inside it
        ("start", None),
        ("first", None),  # partial quarter needs its first reading
        ("last_quarter_kw", "x"),
    ],
)
def test_damaged_quarter_keeps_the_months(key: str, value: Any) -> None:
    data = good_dict()
    quarter = data["quarter"]
    quarter["start_kwh"] = None  # make the saved quarter a partial one
    quarter[key] = value
    tracker = CapacityTracker.from_dict(data, BRUSSELS)
    state = tracker.state
    assert state.history == (MonthPeak(date(2024, 4, 1), 7.0, local(2024, 4, 1, 0, 15)),)
    assert state.month_peak_kw == pytest.approx(5.0)
    assert state.current_quarter_kw is None
    assert state.last_quarter_kw is None


def test_quarter_from_another_month_is_dropped() -> None:
    data = good_dict()
    data["month"] = "2024-06-01"
    data["month_peak"] = None
    tracker = CapacityTracker.from_dict(data, BRUSSELS)
    assert tracker.state.current_quarter_kw is None
    assert [peak.month for peak in tracker.state.history] == [date(2024, 4, 1)]
    # A reading from before the month we hold is of no use.
    assert tracker.update(local(2024, 5, 6, 10, 25), 99.0).current_quarter_kw is None
    tracker.update(local(2024, 6, 1, 0, 0), 99.0)
    assert tracker.update(local(2024, 6, 1, 0, 1), 99.05).current_quarter_kw == pytest.approx(3.0)


def test_restored_months_roll_over_on_the_first_reading() -> None:
    data = good_dict()
    data["quarter"] = None
    tracker = CapacityTracker.from_dict(data, BRUSSELS)
    state = tracker.update(local(2024, 6, 3, 12, 0), 50.0)
    assert [(peak.month, round(peak.kw, 6)) for peak in state.history] == [
        (date(2024, 5, 1), 5.0),
        (date(2024, 4, 1), 7.0),
    ]
    assert state.month_peak_kw is None


# ---- invariants ---------------------------------------------------------------------

steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=400),  # seconds to the next reading
        st.floats(min_value=0.0, max_value=20.0),  # power meanwhile, kW
    ),
    min_size=1,
    max_size=200,
)


@settings(max_examples=60, deadline=None)
@given(steps=steps, start_minute=st.integers(min_value=0, max_value=59))
def test_month_peak_is_at_least_every_complete_quarter(
    steps: list[tuple[int, float]], start_minute: int
) -> None:
    tracker = CapacityTracker(BRUSSELS)
    at = local(2024, 10, 31, 23, start_minute).astimezone(UTC)
    kwh = 1000.0
    tracker.update(at, kwh)
    quarters: dict[datetime, tuple[date, float]] = {}
    for seconds, power in steps:
        at += timedelta(seconds=seconds)
        kwh += power * seconds / 3600
        state = tracker.update(at, kwh)
        if state.last_quarter_kw is not None and state.last_quarter_start is not None:
            start = state.last_quarter_start
            quarters[start] = (start.date().replace(day=1), state.last_quarter_kw)
            assert state.last_quarter_kw <= 20.0 + 1e-6
    state = tracker.state
    peaks = {peak.month: peak.kw for peak in state.history}
    if state.month_peak_start is not None:
        peaks[state.month_peak_start.date().replace(day=1)] = state.month_peak_kw or 0.0
    for month, kw in quarters.values():
        assert peaks[month] >= kw
    for month, peak in peaks.items():
        assert peak == max(kw for m, kw in quarters.values() if m == month)


@settings(max_examples=40, deadline=None)
@given(steps=steps, cut=st.integers(min_value=0, max_value=199))
def test_round_trip_at_any_moment_changes_nothing(steps: list[tuple[int, float]], cut: int) -> None:
    steady = CapacityTracker(BRUSSELS)
    at = local(2024, 3, 31, 23, 50).astimezone(UTC)
    kwh = 0.0
    readings = []
    for seconds, power in steps:
        at += timedelta(seconds=seconds)
        kwh += power * seconds / 3600
        readings.append((at, kwh, power))
    cut %= len(readings)  # at least one reading after the restart
    for at, kwh, power in readings[:cut]:
        steady.update(at, kwh, power)
    restored = json_round_trip(steady)
    for at, kwh, power in readings[cut:]:
        steady.update(at, kwh, power)
        restored.update(at, kwh, power)
    assert restored.state == steady.state


def test_the_meters_running_peak_counts_from_the_first_telegram() -> None:
    """Belgian meters say their month peak (1-0:1.6.0): it stands until we measure more."""
    tracker = CapacityTracker(BRUSSELS)
    assert not tracker.seed_running_peak(local(2026, 11, 9, 13, 45, second=58), 2.589)
    start = local(2026, 11, 23, 10, 0, second=5)
    tracker.update(start, 1000.0)
    assert tracker.state.month_peak_kw is None
    assert tracker.seed_running_peak(local(2026, 11, 9, 13, 45, second=58), 2.589)
    state = tracker.state
    assert state.month_peak_kw == 2.589
    assert state.month_peak_start == local(2026, 11, 9, 13, 45)
    assert state.billing_mean_kw == 2.589
    assert not tracker.seed_running_peak(local(2026, 11, 9, 14, 0), 2.0)  # lower: kept
    assert not tracker.seed_running_peak(local(2026, 10, 31, 21, 0), 9.0)  # October's
    assert not tracker.seed_running_peak(local(2026, 11, 2, 9, 0), math.nan)
    assert not tracker.seed_running_peak(local(2026, 11, 2, 9, 0), -1.0)
    # A meter time without zone is local wall-clock time; a time on a boundary ends a quarter.
    assert tracker.seed_running_peak(datetime(2026, 11, 10, 8, 15), 3.1)
    assert tracker.state.month_peak_start == local(2026, 11, 10, 8, 0)

    run(tracker, start, local(2026, 11, 23, 10, 45), 1000.0, 4.0)  # our own 4 kW quarters
    state = tracker.state
    assert state.month_peak_kw == pytest.approx(4.0)
    assert state.month_peak_start == local(2026, 11, 23, 10, 15)
    assert not tracker.seed_running_peak(local(2026, 11, 9, 13, 45, second=58), 2.589)


# ---- minimum covered time and the floor (issue 13) ----------------------------------


def test_no_average_over_less_than_a_minute_of_a_partial_quarter() -> None:
    """Seen on a real meter: one 1 Wh step a second after the first reading was published
    as a 3.6 kW quarter-hour average."""
    tracker = CapacityTracker(BRUSSELS)
    tracker.update(local(2024, 5, 6, 10, 7), 100.000)
    state = tracker.update(local(2024, 5, 6, 10, 7, second=1), 100.001)
    assert state.current_quarter_kw is None
    assert state.projected_quarter_kw is None
    state = tracker.update(local(2024, 5, 6, 10, 7, second=59), 100.010)
    assert state.current_quarter_kw is None
    state = tracker.update(local(2024, 5, 6, 10, 8), 100.011)
    assert state.current_quarter_kw == pytest.approx(0.011 / (60 / 3600))


def test_no_average_over_the_first_seconds_of_a_quarter() -> None:
    tracker = CapacityTracker(BRUSSELS)
    run(tracker, local(2024, 5, 6, 9, 59), local(2024, 5, 6, 10, 14, second=59), 10.0, 0.5)
    state = tracker.update(local(2024, 5, 6, 10, 15, second=1), 10.0 + 0.5 * 16 / 60 + 0.001)
    assert state.current_quarter_kw is None
    with_power = tracker.update(local(2024, 5, 6, 10, 15, second=2), 10.135, power_kw=0.5)
    assert with_power.current_quarter_kw is None
    assert with_power.projected_quarter_kw == pytest.approx(0.5, abs=0.05)


def test_minimum_covered_time_is_a_choice() -> None:
    tracker = CapacityTracker(BRUSSELS, min_covered=timedelta(seconds=10))
    tracker.update(local(2024, 5, 6, 10, 7), 100.0)
    state = tracker.update(local(2024, 5, 6, 10, 7, second=10), 100.01)
    assert state.current_quarter_kw == pytest.approx(3.6)


def test_floor_applies_only_where_it_is_set() -> None:
    """The 2.5 kW minimum is Flanders' billing rule; with floor 0 the mean is the peaks'."""
    tracker = CapacityTracker(BRUSSELS)
    month_end_readings(tracker, date(2024, 5, 1), (0.8, 0.4))
    assert tracker.state.month_peak_kw == pytest.approx(0.8)
    assert tracker.state.billing_mean_kw == pytest.approx(2.5)
    tracker.floor_kw = 0.0
    assert tracker.state.billing_mean_kw == pytest.approx(0.8)
