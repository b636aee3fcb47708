"""Publish window: write states at most once per window without losing information.

A meter that talks every second would flood the recorder, so the user may choose a
window. Counters and text keep their newest value (a counter's latest value contains all
the energy before it); instantaneous quantities are averaged over the window so a short
peak still shows up in the published value instead of falling between two samples.
"""

from __future__ import annotations

from dataclasses import replace
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.model import Reading, Snapshot

# Units of instantaneous quantities, the ones averaged over a window.
INSTANTANEOUS_UNITS = frozenset({"W", "kW", "MW", "var", "kvar", "VA", "kVA", "V", "A", "Hz"})


class PublishWindow:
    """Collect the snapshots of one meter and hand out one per window.

    The first message publishes at once and opens a window. Later messages are collected;
    the first one that arrives when the window has run its length publishes everything
    collected (itself included) and opens the next window. Time is the caller's monotonic
    clock, so no timer is needed. A message from another meter (different `meter_id`)
    drops what was collected and starts over as a first message.
    """

    def __init__(self, seconds: float) -> None:
        if not seconds >= 0 or not math.isfinite(seconds):
            raise ValueError("seconds must be zero or a positive number")
        self._seconds = seconds
        self._opened_at: float | None = None
        self._meter_id: str | None = None
        self._pending: list[Snapshot] = []

    def add(self, snapshot: Snapshot, now_monotonic: float) -> Snapshot | None:
        """Take one message; return the snapshot to publish now, or None."""
        if self._seconds == 0:
            return snapshot
        if self._opened_at is None or snapshot.meter_id != self._meter_id:
            self._open(snapshot, now_monotonic)
            return snapshot
        self._pending.append(snapshot)
        if now_monotonic - self._opened_at < self._seconds:
            return None
        merged = _merge(self._pending)
        self._open(snapshot, now_monotonic)
        return merged

    def _open(self, snapshot: Snapshot, now_monotonic: float) -> None:
        self._opened_at = now_monotonic
        self._meter_id = snapshot.meter_id
        self._pending = []


def _merge(snapshots: list[Snapshot]) -> Snapshot:
    """One snapshot standing for all of `snapshots` (oldest first)."""
    newest = snapshots[-1]
    history: dict[str, list[Reading]] = {}
    for snapshot in snapshots:
        for obis, reading in snapshot.readings.items():
            history.setdefault(obis, []).append(reading)
    # The newest message's order first, then readings only older messages carried.
    order = list(newest.readings) + [obis for obis in history if obis not in newest.readings]
    readings = {obis: _combine(history[obis]) for obis in order}
    return replace(newest, readings=readings)


def _combine(readings: list[Reading]) -> Reading:
    """Newest reading, with its value averaged when it is an instantaneous number."""
    latest = readings[-1]
    if latest.unit not in INSTANTANEOUS_UNITS:
        return latest
    # Only numbers in the same unit can be averaged; empty values do not count.
    numbers = [
        float(reading.value)
        for reading in readings
        if reading.unit == latest.unit
        and isinstance(reading.value, int | float)
        and not isinstance(reading.value, bool)
    ]
    if not numbers:
        return latest
    return latest._replace(value=math.fsum(numbers) / len(numbers))
