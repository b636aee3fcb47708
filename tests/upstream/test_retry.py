"""Backoff with full jitter, and Retry-After in both of its forms."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.energy_gateway.upstream.retry import Backoff, RetryWait, parse_retry_after


def test_bounds_double_up_to_the_cap_and_reset() -> None:
    """With the largest draw the delays show the bounds: 5, 10, 20, ... capped at 60."""
    backoff = Backoff(base=5.0, cap=60.0, rng=lambda low, high: high)
    bounds = [backoff.next_delay() for _ in range(6)]
    assert bounds == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    backoff.reset()
    assert backoff.next_delay() == 5.0


def test_jitter_is_drawn_below_the_bound_and_retry_after_wins() -> None:
    draws: list[tuple[float, float]] = []

    def lowest(low: float, high: float) -> float:
        draws.append((low, high))
        return low

    backoff = Backoff(base=5.0, cap=60.0, rng=lowest)
    assert backoff.next_delay() == 0.0
    assert backoff.next_delay(at_least=120.0) == 120.0
    assert draws == [(0.0, 5.0), (0.0, 10.0)]


def test_a_wait_ends_at_its_time_or_when_the_clock_goes_back() -> None:
    wait = RetryWait(since=1000.0, until=1090.0)
    assert not wait.over(1000.0)
    assert not wait.over(1089.9)
    assert wait.over(1090.0)
    assert wait.over(999.0)  # set back past the failure: the deadline means nothing now


def test_retry_after() -> None:
    now = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Thu, 03 Dec 2026 12:01:30 GMT", now) == 90.0
    assert parse_retry_after("Thu, 03 Dec 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("99999999", now) == 86400.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
