"""When to try again: exponential backoff with full jitter, and the server's Retry-After.

Plain Python (no Home Assistant import).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import random


class Backoff:
    """Delays that double per failure up to a cap, each drawn uniformly below that bound.

    Full jitter spreads the retries of many gateways that lost the same portal at once, so
    they do not all come back in the same second.
    """

    def __init__(
        self,
        *,
        base: float = 5.0,
        cap: float = 300.0,
        rng: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """`base` is the bound after the first failure, `cap` the largest bound."""
        self.base = base
        self.cap = cap
        self._rng = rng
        self.failures = 0

    def next_delay(self, at_least: float = 0.0) -> float:
        """Seconds to wait after one more failure; never below `at_least` (Retry-After)."""
        bound = min(self.cap, self.base * 2.0**self.failures)
        self.failures += 1
        return max(at_least, self._rng(0.0, bound))

    def reset(self) -> None:
        """A success: the next failure starts from `base` again."""
        self.failures = 0


@dataclass(frozen=True, slots=True)
class RetryWait:
    """No request from the failure (`since`) until `until`; both Unix times."""

    since: float
    until: float

    def over(self, now: float) -> bool:
        """The wait has passed, or the clock was set back to before the failure.

        A wall clock can jump back (NTP correcting a clock that ran ahead, a restored
        virtual machine): the deadline would then lie as far in the future as the jump and
        hold delivery that long. Trying once more is cheap; the next failure waits again.
        """
        return now >= self.until or now < self.since


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or
    unreadable. Capped at a day, so a broken header cannot stop delivery for good."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), 86400.0)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), 86400.0)
