"""Counter guard: keep glitches (a stray 0, garbage digits) out of cumulative counters.

Home Assistant reads a drop of a `total_increasing` sensor as a new meter cycle and a
spike as real consumption, so a single bad value corrupts the long-term statistics. The
guard holds such values back, yet never freezes: a counter that really restarted (meter
replaced, register wrapped) is followed once enough consecutive readings agree with it.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any

from ..core.units import canonical_unit

# Allowed growth per hour for each counter unit: the equivalent of about 100 kW, a big
# house or a small building. Volumes allow 25 m³/h, a DN40 water meter at full flow or
# roughly 250 kW of gas.
_LIMITS_PER_HOUR: dict[str, float] = {
    "Wh": 100_000.0,
    "kWh": 100.0,
    "MWh": 0.1,
    "varh": 100_000.0,
    "kvarh": 100.0,
    "VAh": 100_000.0,
    "kVAh": 100.0,
    "MJ": 360.0,
    "GJ": 0.36,
    "m³": 25.0,
    "L": 25_000.0,
}

# Readings can arrive in bursts (a bridge flushing its buffer), so elapsed time alone
# understates what the meter counted in between; allow this much extra time at full rate.
SLACK_SECONDS = 60.0
_HOUR_SECONDS = 3600.0


def guard_limit_for_unit(unit: str | None) -> float | None:
    """Default maximum growth per hour for a counter in `unit`, None for non-counters."""
    canonical = canonical_unit(unit)
    return None if canonical is None else _LIMITS_PER_HOUR.get(canonical)


class CounterGuard:
    """Decide, reading by reading, whether a counter value may be published."""

    def __init__(self, *, max_rate_per_hour: float, confirmations: int = 3) -> None:
        if not max_rate_per_hour > 0 or not math.isfinite(max_rate_per_hour):
            raise ValueError("max_rate_per_hour must be a positive number")
        if confirmations < 1:
            raise ValueError("confirmations must be at least 1")
        self._max_rate_per_hour = max_rate_per_hour
        self._confirmations = confirmations
        self.rejections = 0
        """How many readings were held back so far."""
        self.last_good: float | None = None
        """The last value this guard let through."""
        self._last_good_at = 0.0
        self._candidates: list[tuple[float, float]] = []
        """Consecutive rejected readings that agree with each other: a possible restart."""

    def check(self, value: float, now_monotonic: float) -> float | None:
        """Return the value to publish, or None to keep showing `last_good`."""
        if not math.isfinite(value):
            self._candidates = []  # garbage interrupts a run of agreeing readings
            self.rejections += 1
            return None
        if self.last_good is None or self._plausible(
            self.last_good, self._last_good_at, value, now_monotonic
        ):
            return self._accept(value, now_monotonic)
        last_candidate = self._candidates[-1] if self._candidates else None
        if last_candidate is not None and self._plausible(*last_candidate, value, now_monotonic):
            self._candidates.append((value, now_monotonic))
        else:
            self._candidates = [(value, now_monotonic)]
        if len(self._candidates) >= self._confirmations:
            return self._accept(value, now_monotonic)
        self.rejections += 1
        return None

    def as_dict(self) -> dict[str, float | int] | None:
        """JSON-safe state to keep across restarts; None before the first good value.

        Worth keeping because the guard judges each value against the last good one: a
        guard that starts empty would publish a first value lower than the last one shown.
        """
        if self.last_good is None:
            return None
        return {
            "last_good": self.last_good,
            "at": self._last_good_at,
            "rejections": self.rejections,
        }

    def restore(self, saved: Mapping[str, Any]) -> None:
        """Continue from `as_dict` output; raises ValueError or TypeError on junk."""
        last_good, at, rejections = saved["last_good"], saved["at"], saved["rejections"]
        if not all(_is_number(value) for value in (last_good, at, rejections)):
            raise TypeError("guard state must hold numbers")
        if not math.isfinite(last_good) or not math.isfinite(at) or rejections < 0:
            raise ValueError("guard state out of range")
        self.last_good = float(last_good)
        self._last_good_at = float(at)
        self.rejections = int(rejections)
        self._candidates = []

    def _accept(self, value: float, now_monotonic: float) -> float:
        self.last_good = value
        self._last_good_at = now_monotonic
        self._candidates = []
        return value

    def _plausible(self, before: float, before_at: float, value: float, at: float) -> bool:
        """True when `value` can follow `before`: not lower, and not faster than allowed."""
        hours = (max(at - before_at, 0.0) + SLACK_SECONDS) / _HOUR_SECONDS
        return before <= value <= before + self._max_rate_per_hour * hours


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
