"""Capacity-tariff tracker: quarter-hour average import power, month peaks, billing mean.

Works from the cumulative import energy counter of any meter, so meters without the
Belgian `1-0:1.4.0` / `1-0:1.6.0` lines get the same figures. Time is always passed in;
the tracker never reads the clock, so it can be replayed and tested.

Rules (the tariff is defined on fixed local quarters, hh:00/15/30/45, summed import only):

* **Boundary values.** The counter value at a quarter boundary is interpolated linearly
  between the last reading before and the first reading after it. That is only trusted
  when those two readings are at most `max_gap` apart (default 3 minutes); a reading
  exactly on the boundary is always exact.
* **Complete quarters.** A quarter is complete when the counter is known at both of its
  boundaries; its power is the energy between them x 4. Gaps inside a quarter do not
  matter (the counter difference is exact). A quarter whose start or end falls in a
  longer gap, and the partial quarter of the first reading, are skipped: they never
  become a peak and leave `last_quarter_kw` empty.
* **Counter going backwards** is ignored. After `RESTART_CONFIRMATIONS` consecutive lower
  readings the meter is taken as replaced: tracking restarts from the newest one (its
  quarter is partial) and the month peak and history are kept. Readings that are not
  newer than the previous one are ignored too.
* **Months** follow local midnight on the 1st; a quarter belongs to the month of its local
  start, so 23:45-00:00 on the last day counts for that month. Months without a single
  complete quarter have no peak.
* **Running quarter.** Its average is published once it covers `min_covered` (default
  60 s): a P1 counter moves in 1 Wh steps, and one step over one second reads as 3.6 kW.
  Over 60 s one step is worth 0.06 kW, and even a DSMR 4 meter (every 10 s) has sent six
  readings. Before that the average is None and the projection uses the meter's power
  when it sends one.
* **Billing mean** (Flemish rule): the mean of the running month's peak and the peaks of
  the 11 months before it, each floored at `floor_kw` (2.5 kW in Flanders; the caller sets
  0 for meters elsewhere, whose mean is then the plain mean of their peaks). Months with
  no known peak (not measured, not seeded, or the running month before its first complete
  quarter) are left out of the mean rather than guessed, as the grid operator does for
  connections younger than a year; with no known month at all it is None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
import math
from typing import Any

QUARTER = timedelta(minutes=15)
QUARTER_HOURS = 0.25
DEFAULT_MAX_GAP = timedelta(minutes=3)
DEFAULT_MIN_COVERED = timedelta(seconds=60)
CAPACITY_FLOOR_KW = 2.5
BILLING_MONTHS = 12
HISTORY_MONTHS = 12
RESTART_CONFIRMATIONS = 3
_STORAGE_VERSION = 1
_HOUR_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class MonthPeak:
    """Highest complete quarter of one month."""

    month: date
    """First day of the peak's month."""
    kw: float
    start: datetime | None
    """Start of the peak quarter, None when the source did not say."""


@dataclass(frozen=True, slots=True)
class CapacityState:
    """Everything the tracker knows after the latest update."""

    current_quarter_kw: float | None
    projected_quarter_kw: float | None
    last_quarter_kw: float | None
    last_quarter_start: datetime | None
    month_peak_kw: float | None
    month_peak_start: datetime | None
    history: tuple[MonthPeak, ...]
    """The last 12 completed months that have a peak, newest first."""
    billing_mean_kw: float | None


@dataclass(frozen=True, slots=True)
class _Point:
    """One counter value at one instant (UTC)."""

    at: datetime
    kwh: float


@dataclass(frozen=True, slots=True)
class _KnownMonth:
    peak: MonthPeak
    measured: bool
    """True when we measured it ourselves; a seed from the meter never replaces those."""


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


class CapacityTracker:
    """Follow the import counter and derive the capacity-tariff figures."""

    def __init__(
        self,
        tz: tzinfo,
        *,
        max_gap: timedelta = DEFAULT_MAX_GAP,
        min_covered: timedelta = DEFAULT_MIN_COVERED,
    ) -> None:
        self._tz = tz
        self._max_gap = max_gap
        self._min_covered_hours = min_covered.total_seconds() / _HOUR_SECONDS
        self.floor_kw = CAPACITY_FLOOR_KW
        """Each month's peak counts at least this much in the billing mean."""
        self._last: _Point | None = None
        self._power_kw: float | None = None
        self._lower_readings = 0
        self._quarter_start: datetime | None = None
        self._quarter_start_kwh: float | None = None
        self._first_in_quarter: _Point | None = None
        self._last_quarter_start: datetime | None = None
        self._last_quarter_kw: float | None = None
        self._month: date | None = None
        self._month_peak: MonthPeak | None = None
        self._months: dict[date, _KnownMonth] = {}

    # ---- time helpers -------------------------------------------------------------

    def _quarter_floor(self, instant: datetime) -> datetime:
        """Start (UTC) of the local quarter containing `instant`."""
        local = instant.astimezone(self._tz)
        floored = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
        return floored.astimezone(UTC)

    def _month_of(self, instant: datetime) -> date:
        return instant.astimezone(self._tz).date().replace(day=1)

    def _local(self, instant: datetime | None) -> datetime | None:
        return None if instant is None else instant.astimezone(self._tz)

    # ---- updates --------------------------------------------------------------------

    def update(
        self, now: datetime, import_kwh: float, power_kw: float | None = None
    ) -> CapacityState:
        """Feed one reading of the total import counter (kWh) taken at `now` (aware).

        `power_kw` is the current import power, used only for the projection.
        """
        if now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        point = _Point(now.astimezone(UTC), float(import_kwh))
        if not math.isfinite(point.kwh) or point.kwh < 0:
            return self.state
        last = self._last
        if last is None:
            self._start_from(point)
        elif point.at <= last.at:
            return self.state
        elif point.kwh < last.kwh:
            self._lower_readings += 1
            if self._lower_readings < RESTART_CONFIRMATIONS:
                return self.state
            # Meter replaced: nothing measured before compares with the new counter.
            self._quarter_start_kwh = None
            self._first_in_quarter = None
            self._advance(point, continuous=False)
        else:
            self._advance(point, continuous=point.at - last.at <= self._max_gap)
        if power_kw is not None and math.isfinite(power_kw):
            self._power_kw = max(float(power_kw), 0.0)  # the tariff counts import only
        else:
            self._power_kw = None
        return self.state

    def _start_from(self, point: _Point) -> None:
        """First reading ever (or after a restore without a usable last reading)."""
        start = self._quarter_floor(point.at)
        month = self._month_of(start)
        if self._month is not None and month < self._month:
            return  # older than the month we already hold; nothing sensible to do with it
        if month != self._month:
            self._roll_month(month)
        self._quarter_start = start
        self._quarter_start_kwh = point.kwh if point.at == start else None
        self._first_in_quarter = point
        self._last = point
        self._lower_readings = 0

    def _advance(self, point: _Point, *, continuous: bool) -> None:
        """Move to `point`, closing every quarter whose end lies in between."""
        last = self._last
        assert last is not None
        assert self._quarter_start is not None
        boundary = self._quarter_start + QUARTER
        if not continuous:
            final = self._quarter_floor(point.at)
            if boundary < final:
                # Several boundaries fall inside a gap: none is known, so skip straight to
                # the quarter just before the newest one instead of walking the whole gap.
                self._close_quarter(None)
                self._open_quarter(final - QUARTER, None)
                boundary = final
        while boundary <= point.at:
            value: float | None
            if boundary == point.at:
                value = point.kwh
            elif continuous:
                share = (boundary - last.at) / (point.at - last.at)
                value = last.kwh + (point.kwh - last.kwh) * share
            else:
                value = None
            self._close_quarter(value)
            self._open_quarter(boundary, value)
            boundary += QUARTER
        if self._first_in_quarter is None:
            self._first_in_quarter = point
        self._last = point
        self._lower_readings = 0

    def _close_quarter(self, end_kwh: float | None) -> None:
        start_kwh = self._quarter_start_kwh
        kw: float | None = None
        if start_kwh is not None and end_kwh is not None:
            kw = (end_kwh - start_kwh) / QUARTER_HOURS
            assert self._month is not None
            if self._month_peak is None or kw > self._month_peak.kw:
                self._month_peak = MonthPeak(self._month, kw, self._quarter_start)
        self._last_quarter_start = self._quarter_start
        self._last_quarter_kw = kw

    def _open_quarter(self, start: datetime, start_kwh: float | None) -> None:
        self._quarter_start = start
        self._quarter_start_kwh = start_kwh
        self._first_in_quarter = None
        month = self._month_of(start)
        if month != self._month:
            self._roll_month(month)

    def _roll_month(self, month: date) -> None:
        """Close the running month into the history and start `month`."""
        if self._month is not None and self._month_peak is not None:
            self._months[self._month] = _KnownMonth(self._month_peak, measured=True)
        self._month = month
        self._month_peak = None
        self._prune()

    def _prune(self) -> None:
        if self._month is None:
            return
        oldest = _add_months(self._month, -HISTORY_MONTHS)
        self._months = {
            month: known for month, known in self._months.items() if oldest <= month < self._month
        }

    # ---- meter history ------------------------------------------------------------

    def seed_history(
        self, entries: Iterable[tuple[datetime | None, datetime | None, float]]
    ) -> None:
        """Fill past months from the meter's own peak list (`0-0:98.1.0`).

        Each entry is (month stamp, peak time, kW); the stamp is 00:00 on the 1st of the
        month after the peak month. Entries without a peak time are placeholders and are
        skipped; months we measured ourselves are kept as measured.
        """
        for stamp, raw_peak_time, kw in entries:
            if raw_peak_time is None or not math.isfinite(kw) or kw < 0:
                continue
            peak_time = self._assume_local(raw_peak_time)
            month = self._seed_month(
                None if stamp is None else self._assume_local(stamp), peak_time
            )
            if self._month is not None and month >= self._month:
                continue  # the running month is ours to measure
            known = self._months.get(month)
            if known is not None and known.measured:
                continue
            peak = MonthPeak(month, float(kw), self._seed_quarter_start(peak_time))
            self._months[month] = _KnownMonth(peak, measured=False)
        self._prune()

    def seed_running_peak(self, peak_time: datetime, kw: float) -> bool:
        """Take the meter's own peak of the running month (the Belgian `1-0:1.6.0`).

        The meter measured every quarter, also those we did not hear, so its peak counts
        from the first telegram on; a higher quarter of our own still wins. A peak of
        another month (the meter has not rolled over yet) is ignored. True when it changed
        the month peak.
        """
        if self._month is None or not math.isfinite(kw) or kw < 0:
            return False
        start = self._seed_quarter_start(self._assume_local(peak_time))
        if self._month_of(start) != self._month:
            return False
        if self._month_peak is not None and self._month_peak.kw >= kw:
            return False
        self._month_peak = MonthPeak(self._month, float(kw), start)
        return True

    def _seed_month(self, stamp: datetime | None, peak_time: datetime) -> date:
        if stamp is not None:
            # The stamp is the instant the month closed; step back into the month itself.
            return _add_months(self._month_of(stamp), -1)
        # Peak times are usually quarter ends, so a peak at 00:00 on the 1st belongs to
        # the month before.
        return self._month_of(peak_time - timedelta(seconds=1))

    def _assume_local(self, instant: datetime) -> datetime:
        """Meter times are local wall-clock times; attach our zone when none is given."""
        return instant.replace(tzinfo=self._tz) if instant.utcoffset() is None else instant

    def _seed_quarter_start(self, peak_time: datetime) -> datetime:
        floor = self._quarter_floor(peak_time)
        # Meters stamp the end of the quarter; a time inside a quarter names that quarter.
        return floor - QUARTER if floor == peak_time else floor

    # ---- results ------------------------------------------------------------------

    @property
    def state(self) -> CapacityState:
        """Figures as of the latest accepted reading."""
        current, projected = self._current_quarter()
        peak = self._month_peak
        return CapacityState(
            current_quarter_kw=current,
            projected_quarter_kw=projected,
            last_quarter_kw=self._last_quarter_kw,
            last_quarter_start=self._local(self._last_quarter_start),
            month_peak_kw=None if peak is None else peak.kw,
            month_peak_start=None if peak is None else self._local(peak.start),
            history=self._history(),
            billing_mean_kw=self._billing_mean(),
        )

    def _current_quarter(self) -> tuple[float | None, float | None]:
        last, start = self._last, self._quarter_start
        if last is None or start is None:
            return None, None
        elapsed = (last.at - start).total_seconds() / _HOUR_SECONDS
        remaining = max(QUARTER_HOURS - elapsed, 0.0)
        if self._quarter_start_kwh is not None:
            energy = last.kwh - self._quarter_start_kwh
            if elapsed < self._min_covered_hours:
                # Too short for an average; the projection can still lean on the power.
                if self._power_kw is None:
                    return None, None
                return None, (energy + remaining * self._power_kw) / QUARTER_HOURS
            average = energy / elapsed
        else:
            first = self._first_in_quarter
            assert first is not None
            span = (last.at - first.at).total_seconds() / _HOUR_SECONDS
            if span < self._min_covered_hours or span <= 0:
                return None, None
            average = (last.kwh - first.kwh) / span
            # The part of the quarter before our first reading is assumed at that average.
            energy = average * elapsed
        rate = average if self._power_kw is None else self._power_kw
        return average, (energy + remaining * rate) / QUARTER_HOURS

    def _history(self) -> tuple[MonthPeak, ...]:
        newest_first = sorted(self._months.items(), reverse=True)
        return tuple(
            MonthPeak(known.peak.month, known.peak.kw, self._local(known.peak.start))
            for _, known in newest_first[:HISTORY_MONTHS]
        )

    def _billing_mean(self) -> float | None:
        if self._month is None:
            return None
        oldest = _add_months(self._month, -(BILLING_MONTHS - 1))
        peaks = [known.peak.kw for month, known in self._months.items() if month >= oldest]
        if self._month_peak is not None:
            peaks.append(self._month_peak.kw)
        if not peaks:
            return None
        return sum(max(kw, self.floor_kw) for kw in peaks) / len(peaks)

    # ---- persistence --------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot of everything needed to continue after a restart."""
        return {
            "version": _STORAGE_VERSION,
            "month": None if self._month is None else self._month.isoformat(),
            "month_peak": None if self._month_peak is None else _peak_to_dict(self._month_peak),
            "months": [
                {**_peak_to_dict(known.peak), "measured": known.measured}
                for _, known in sorted(self._months.items())
            ],
            "quarter": None if self._last is None else self._quarter_to_dict(),
        }

    def _quarter_to_dict(self) -> dict[str, Any]:
        assert self._last is not None
        assert self._quarter_start is not None
        first = self._first_in_quarter
        return {
            "last": _point_to_list(self._last),
            "start": self._quarter_start.isoformat(),
            "start_kwh": self._quarter_start_kwh,
            "first": None if first is None else _point_to_list(first),
            "last_quarter_start": _iso(self._last_quarter_start),
            "last_quarter_kw": self._last_quarter_kw,
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any] | None,
        tz: tzinfo,
        *,
        max_gap: timedelta = DEFAULT_MAX_GAP,
    ) -> CapacityTracker:
        """Rebuild a tracker from `as_dict` output; anything unusable starts fresh.

        Months and the quarter in progress are restored independently, so a damaged
        quarter never costs the month history.
        """
        tracker = cls(tz, max_gap=max_gap)
        if not isinstance(data, Mapping) or data.get("version") != _STORAGE_VERSION:
            return tracker
        try:
            tracker._restore_months(data)
        except (TypeError, ValueError, KeyError, AttributeError):
            return cls(tz)
        try:
            tracker._restore_quarter(data.get("quarter"))
        except (TypeError, ValueError, KeyError, AttributeError):
            tracker._clear_quarter()
        return tracker

    def _restore_months(self, data: Mapping[str, Any]) -> None:
        month_text = data.get("month")
        month = None if month_text is None else _parse_month(month_text)
        peak_data = data.get("month_peak")
        month_peak = None if peak_data is None else _peak_from_dict(peak_data)
        if month_peak is not None and month_peak.month != month:
            raise ValueError("month peak outside its month")
        months: dict[date, _KnownMonth] = {}
        for item in data.get("months") or ():
            peak = _peak_from_dict(item)
            months[peak.month] = _KnownMonth(peak, measured=bool(item["measured"]))
        self._month, self._month_peak, self._months = month, month_peak, months
        self._prune()

    def _restore_quarter(self, data: Any) -> None:
        if data is None:
            return
        if self._month is None:
            raise ValueError("quarter without a month")
        last = _point_from_list(data["last"])
        start = _parse_time(data["start"])
        first = None if data["first"] is None else _point_from_list(data["first"])
        start_kwh = _optional_number(data["start_kwh"])
        if start != self._quarter_floor(start) or not start <= last.at < start + QUARTER:
            raise ValueError("inconsistent quarter")
        if self._month_of(start) != self._month:
            raise ValueError("quarter outside the running month")
        if start_kwh is None and first is None:
            raise ValueError("partial quarter without its first reading")
        self._last = last
        self._quarter_start = start
        self._quarter_start_kwh = start_kwh
        self._first_in_quarter = first
        last_quarter = data["last_quarter_start"]
        self._last_quarter_start = None if last_quarter is None else _parse_time(last_quarter)
        self._last_quarter_kw = _optional_number(data["last_quarter_kw"])

    def _clear_quarter(self) -> None:
        self._last = None
        self._quarter_start = None
        self._quarter_start_kwh = None
        self._first_in_quarter = None
        self._last_quarter_start = None
        self._last_quarter_kw = None


# ---- JSON helpers ---------------------------------------------------------------------


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UTC).isoformat()


def _parse_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise TypeError("time must be text")
    instant = datetime.fromisoformat(text)
    if instant.utcoffset() is None:
        raise ValueError("time must be aware")
    return instant.astimezone(UTC)


def _parse_month(text: Any) -> date:
    if not isinstance(text, str):
        raise TypeError("month must be text")
    month = date.fromisoformat(text)
    if month.day != 1:
        raise ValueError("month must be the first day")
    return month


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _optional_number(value: Any) -> float | None:
    return None if value is None else _number(value)


def _peak_to_dict(peak: MonthPeak) -> dict[str, Any]:
    return {"month": peak.month.isoformat(), "kw": peak.kw, "start": _iso(peak.start)}


def _peak_from_dict(data: Any) -> MonthPeak:
    start = data["start"]
    return MonthPeak(
        _parse_month(data["month"]),
        _number(data["kw"]),
        None if start is None else _parse_time(start),
    )


def _point_to_list(point: _Point) -> list[Any]:
    return [point.at.isoformat(), point.kwh]


def _point_from_list(data: Any) -> _Point:
    at, kwh = data
    return _Point(_parse_time(at), _number(kwh))
