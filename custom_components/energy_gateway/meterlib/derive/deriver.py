"""Turn decoded snapshots into the values a meter's entities show.

Adds what the meter does not send itself (totals over tariffs, signed net power, the
capacity-tariff figures), and keeps counters from ever jumping backwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from ..core.meaning import (
    CAPACITY_BILLING_MEAN,
    CAPACITY_CURRENT_QUARTER,
    CAPACITY_LAST_QUARTER,
    CAPACITY_MONTH_PEAK,
    CAPACITY_MONTH_PEAK_TIME,
    CAPACITY_PROJECTED_QUARTER,
    METER_PEAK_TIME,
    NET_POWER,
    TOTAL_EXPORT,
    TOTAL_IMPORT,
    meaning_of,
)
from ..core.model import FLEMISH_VARIANT, ReadingValue, Snapshot
from .capacity import CAPACITY_FLOOR_KW, DEFAULT_MAX_GAP, CapacityState, CapacityTracker
from .guard import CounterGuard, guard_limit_for_unit

# Electricity registers by their C.D.E groups; the A-B prefix is found per meter, since
# some meters (Kamstrup) number their own channel B = 1 instead of 0.
IMPORT_TOTAL = "1.8.0"
EXPORT_TOTAL = "2.8.0"
IMPORT_POWER = "1.7.0"
EXPORT_POWER = "2.7.0"
MONTH_PEAK = "1.6.0"
NET_POWER_REGISTER = "16.7.0"
PEAK_HISTORY = "0-0:98.1.0"

_TO_KWH = {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}
_TO_KW = {"W": 0.001, "kW": 1.0, "MW": 1000.0}
_MAX_LAYOUTS = 8  # sets of codes remembered (a meter alternating between lists has a few)
_UNSEEN_GUARD = CounterGuard(max_rate_per_hour=1.0)
"""Marks a code and unit not looked up yet (None is a real answer: no guard)."""


@dataclass(frozen=True, slots=True)
class MeterData:
    """What a meter's entities show after one published message."""

    snapshot: Snapshot
    values: Mapping[str, ReadingValue]
    """Entity key (OBIS code or computed key) → value to show."""
    units: Mapping[str, str | None]
    mbus_types: Mapping[int, int] = field(default_factory=dict)
    """M-Bus channel → device type (3 gas, 7 water, ...)."""
    capacity: CapacityState | None = None


class Deriver:
    """Derives what a meter's entities show from each snapshot: guarded counters, totals over
    tariffs, net power and the capacity figures. Stateful; one per meter."""

    def __init__(self, tz: tzinfo, *, publish_interval: float = 0.0) -> None:
        self._tz = tz
        # Published snapshots may be a publish window apart; the capacity tracker must not
        # take that spacing for a gap in the data.
        self._capacity_max_gap = max(DEFAULT_MAX_GAP, timedelta(seconds=2 * publish_interval))
        # (OBIS code, unit) → its guard, or None for values that are not counters.
        self._guards: dict[tuple[str, str | None], CounterGuard | None] = {}
        self._tariffs: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._capacity = CapacityTracker(tz, max_gap=self._capacity_max_gap)
        self._has_capacity = False
        self._seeded_history: tuple[Any, ...] = ()

    @property
    def counter_rejections(self) -> int:
        """How many counter values were held back because they were implausible."""
        return sum(guard.rejections for guard in self._guards.values() if guard is not None)

    def restore_capacity(self, data: Mapping[str, Any] | None) -> None:
        """Restore the capacity tracker saved by `capacity_dict` (tolerates None or junk)."""
        self._capacity = CapacityTracker.from_dict(data, self._tz, max_gap=self._capacity_max_gap)

    def capacity_dict(self) -> dict[str, Any]:
        """JSON-safe state to save across restarts."""
        return self._capacity.as_dict()

    def counters_dict(self) -> list[dict[str, Any]]:
        """JSON-safe last good values of the guarded counters, to save across restarts."""
        saved: list[dict[str, Any]] = []
        for (obis, unit), guard in self._guards.items():
            state = None if guard is None else guard.as_dict()
            if state is not None:
                saved.append({"obis": obis, "unit": unit, **state})
        return saved

    def restore_counters(self, saved: Any) -> None:
        """Restore `counters_dict` output so "never backwards" holds across restarts.

        Entries that are not understood are skipped one by one (junk never costs the rest).
        """
        if not isinstance(saved, list):
            return
        for item in saved:
            try:
                obis, unit = item["obis"], item["unit"]
                if not isinstance(obis, str) or not isinstance(unit, str | None):
                    continue
                guard = self._guard_for(obis, unit)
                if guard is not None:
                    guard.restore(item)
            except (KeyError, TypeError, ValueError):
                continue

    def derive(self, snapshot: Snapshot, now: datetime) -> MeterData:
        """Return the values to show for `snapshot`, received at `now` (aware)."""
        values: dict[str, ReadingValue] = {}
        units: dict[str, str | None] = {}
        mbus_types: dict[int, int] = {}
        seconds = now.timestamp()
        for obis, reading in snapshot.readings.items():
            value = reading.value
            if _is_mbus_type(obis) and isinstance(value, int):
                mbus_types[int(obis[2])] = value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = self._guarded(obis, reading.unit, value, seconds)
            values[obis] = value
            units[obis] = reading.unit
        codes = _ElectricityCodes.of(values)
        self._add_totals(values, units, codes)
        self._add_net_power(values, units, codes)
        peak = snapshot.readings.get(codes.code(MONTH_PEAK))
        if peak is not None and peak.captured is not None:
            values[METER_PEAK_TIME] = peak.captured
            units[METER_PEAK_TIME] = None
        capacity = self._update_capacity(snapshot, values, units, now, codes)
        return MeterData(
            snapshot=snapshot, values=values, units=units, mbus_types=mbus_types, capacity=capacity
        )

    def _guarded(self, obis: str, unit: str | None, value: float, seconds: float) -> ReadingValue:
        guard = self._guard_for(obis, unit)
        if guard is None:
            return value
        checked = guard.check(float(value), seconds)
        return guard.last_good if checked is None else checked

    def _guard_for(self, obis: str, unit: str | None) -> CounterGuard | None:
        """The guard of a counter, None for values that are not counters."""
        # Looked up once per code and unit: this runs for every number of every telegram.
        cache_key = (obis, unit)
        guard = self._guards.get(cache_key, _UNSEEN_GUARD)
        if guard is _UNSEEN_GUARD:
            limit = guard_limit_for_unit(unit) if meaning_of(obis, unit).counter else None
            guard = self._guards[cache_key] = (
                None if limit is None else CounterGuard(max_rate_per_hour=limit)
            )
        return guard

    def _add_totals(
        self,
        values: dict[str, ReadingValue],
        units: dict[str, str | None],
        codes: _ElectricityCodes,
    ) -> None:
        """Sum the per-tariff registers when the meter sends no total of its own."""
        imports, exports = self._tariff_codes(values, codes)
        for total_obis, key, tariffs in (
            (codes.code(IMPORT_TOTAL), TOTAL_IMPORT, imports),
            (codes.code(EXPORT_TOTAL), TOTAL_EXPORT, exports),
        ):
            if not tariffs or total_obis in values:
                continue
            unit = units[tariffs[0]]
            total = 0.0
            for obis in tariffs:
                value = values[obis]
                if units[obis] != unit or not isinstance(value, (int, float)):
                    break
                total += float(value)
            else:
                values[key] = round(total, 6)
                units[key] = unit

    def _tariff_codes(
        self, values: Mapping[str, ReadingValue], codes: _ElectricityCodes
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The import and export tariff registers among `values`' codes.

        Remembered per set of codes: a meter sends the same ones in every message.
        """
        layout = tuple(values)
        found = self._tariffs.get(layout)
        if found is None:
            import_prefix, export_prefix = codes.code("1.8."), codes.code("2.8.")
            found = (
                tuple(obis for obis in layout if obis.startswith(import_prefix)),
                tuple(obis for obis in layout if obis.startswith(export_prefix)),
            )
            if len(self._tariffs) >= _MAX_LAYOUTS:
                self._tariffs.clear()
            self._tariffs[layout] = found
        return found

    @staticmethod
    def _add_net_power(
        values: dict[str, ReadingValue], units: dict[str, str | None], codes: _ElectricityCodes
    ) -> None:
        """Signed power: import minus export, in the import register's unit."""
        if codes.code(NET_POWER_REGISTER) in values:
            return  # the meter sends its own, shown under the same name
        import_power, export_power = codes.code(IMPORT_POWER), codes.code(EXPORT_POWER)
        imported = values.get(import_power)
        if not isinstance(imported, (int, float)):
            return
        unit = units.get(import_power)
        net = float(imported)
        exported = values.get(export_power)
        if isinstance(exported, (int, float)):
            scale = _conversion(units.get(export_power), unit, _TO_KW)
            if scale is None:
                return
            net -= float(exported) * scale
        values[NET_POWER] = round(net, 6)
        units[NET_POWER] = unit

    def _update_capacity(
        self,
        snapshot: Snapshot,
        values: dict[str, ReadingValue],
        units: dict[str, str | None],
        now: datetime,
        codes: _ElectricityCodes,
    ) -> CapacityState | None:
        import_total = codes.code(IMPORT_TOTAL)
        import_key = import_total if import_total in values else TOTAL_IMPORT
        energy = values.get(import_key)
        to_kwh = _TO_KWH.get(units.get(import_key) or "")
        if not isinstance(energy, (int, float)) or to_kwh is None:
            return None
        power = values.get(codes.code(IMPORT_POWER))
        to_kw = _TO_KW.get(units.get(codes.code(IMPORT_POWER)) or "")
        power_kw = float(power) * to_kw if isinstance(power, (int, float)) and to_kw else None
        history = snapshot.readings.get(PEAK_HISTORY)
        if history is not None and history.entries and history.entries != self._seeded_history:
            self._seeded_history = history.entries
            self._capacity.seed_history(_history_rows(history.entries))
        # The 2.5 kW floor is Flanders' billing rule; elsewhere the mean is of the peaks.
        flemish = snapshot.variant == FLEMISH_VARIANT
        self._capacity.floor_kw = CAPACITY_FLOOR_KW if flemish else 0.0
        state = self._capacity.update(now, float(energy) * to_kwh, power_kw)
        if self._seed_running_peak(snapshot, codes.code(MONTH_PEAK)):
            state = self._capacity.state
        for key, value in (
            (CAPACITY_CURRENT_QUARTER, state.current_quarter_kw),
            (CAPACITY_PROJECTED_QUARTER, state.projected_quarter_kw),
            (CAPACITY_LAST_QUARTER, state.last_quarter_kw),
            (CAPACITY_MONTH_PEAK, state.month_peak_kw),
            (CAPACITY_BILLING_MEAN, state.billing_mean_kw),
        ):
            values[key] = None if value is None else round(value, 3)
            units[key] = "kW"
        values[CAPACITY_MONTH_PEAK_TIME] = state.month_peak_start
        units[CAPACITY_MONTH_PEAK_TIME] = None
        return state

    def _seed_running_peak(self, snapshot: Snapshot, code: str) -> bool:
        """The meter's own peak of the running month (Belgium), with the time it names."""
        peak = snapshot.readings.get(code)
        if peak is None or peak.captured is None or not isinstance(peak.value, (int, float)):
            return False
        to_kw = _TO_KW.get(peak.unit or "")
        if to_kw is None:
            return False
        return self._capacity.seed_running_peak(peak.captured, float(peak.value) * to_kw)


@dataclass(frozen=True, slots=True)
class _ElectricityCodes:
    """The A-B prefix a meter uses for its electricity registers (`1-0:` or `1-1:`)."""

    prefix: str

    @classmethod
    def of(cls, values: Mapping[str, ReadingValue]) -> _ElectricityCodes:
        if any(key.startswith("1-0:") for key in values):
            return cls("1-0:")
        channel = next((key[:4] for key in values if key.startswith("1-")), "1-0:")
        return cls(channel)

    def code(self, groups: str) -> str:
        return self.prefix + groups


def _is_mbus_type(obis: str) -> bool:
    return obis.endswith(":24.1.0") and obis.startswith("0-") and obis[2:3].isdigit()


def _conversion(source: str | None, target: str | None, table: Mapping[str, float]) -> float | None:
    if source == target:
        return 1.0
    from_scale = table.get(source or "")
    to_scale = table.get(target or "")
    return None if from_scale is None or to_scale is None else from_scale / to_scale


def _history_rows(
    entries: tuple[tuple[ReadingValue, ...], ...],
) -> list[tuple[datetime | None, datetime | None, float]]:
    """The meter's 0-0:98.1.0 rows as (month stamp, peak time, kW); malformed rows are left out."""
    rows: list[tuple[datetime | None, datetime | None, float]] = []
    for entry in entries:
        if len(entry) != 3:
            continue
        month, peak_time, kw = entry
        if not isinstance(kw, (int, float)):
            continue
        rows.append(
            (
                month if isinstance(month, datetime) else None,
                peak_time if isinstance(peak_time, datetime) else None,
                float(kw),
            )
        )
    return rows
