"""Counter guard: glitches are held back, real restarts are followed."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.energy_gateway.meterlib.derive.guard import (
    SLACK_SECONDS,
    CounterGuard,
    guard_limit_for_unit,
)


def feed(guard: CounterGuard, values: list[float], *, every: float = 10.0) -> list[float | None]:
    """Check `values` one `every` seconds apart, starting at t=0."""
    return [guard.check(value, index * every) for index, value in enumerate(values)]


def test_first_value_is_always_accepted() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0)
    before = guard.last_good
    assert before is None
    assert guard.check(123456.789, 5000.0) == 123456.789
    assert guard.last_good == 123456.789
    assert guard.rejections == 0


def test_slow_legitimate_growth_passes() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0)
    values = [1000.0 + 0.001 * step for step in range(50)]
    assert feed(guard, values) == values
    assert guard.rejections == 0


def test_growth_at_the_limit_passes_and_beyond_it_does_not() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0)
    guard.check(1000.0, 0.0)
    # One hour later: 100 kWh plus the slack of one minute at full rate is allowed.
    allowed = 1000.0 + 100.0 * (3600 + SLACK_SECONDS) / 3600
    assert guard.check(allowed, 3600.0) == allowed
    assert guard.check(allowed + 100.0 * (10 + SLACK_SECONDS) / 3600 + 0.01, 3610.0) is None
    assert guard.rejections == 1
    assert guard.last_good == allowed


def test_backwards_value_is_rejected() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0)
    assert feed(guard, [500.0, 499.9, 500.0]) == [500.0, None, 500.0]
    assert guard.rejections == 1
    assert guard.last_good == 500.0


def test_impossible_jump_is_rejected() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0)
    assert feed(guard, [500.0, 99_999_999.0, 500.01]) == [500.0, None, 500.01]
    assert guard.rejections == 1


def test_lone_glitch_is_rejected_and_forgotten() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0, confirmations=3)
    results = feed(guard, [500.0, 500.1, 0.0, 500.2, 0.0, 500.3, 0.0, 500.4])
    assert results == [500.0, 500.1, None, 500.2, None, 500.3, None, 500.4]
    assert guard.rejections == 3
    assert guard.last_good == 500.4


def test_replaced_meter_is_accepted_after_the_confirmations() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0, confirmations=3)
    results = feed(guard, [12_345.6, 12_345.7, 0.2, 0.3, 0.3, 0.4, 0.5])
    assert results == [12_345.6, 12_345.7, None, None, 0.3, 0.4, 0.5]
    assert guard.rejections == 2
    assert guard.last_good == 0.5


def test_new_level_far_above_is_accepted_after_the_confirmations() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0, confirmations=2)
    assert feed(guard, [10.0, 90_000.0, 90_000.1, 90_000.2]) == [10.0, None, 90_000.1, 90_000.2]


def test_inconsistent_candidates_never_confirm_each_other() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0, confirmations=3)
    # Garbage that jumps around: each one starts a new candidate chain.
    results = feed(guard, [500.0, 0.0, 7.0e6, 3.0, 0.0, 9.0e9, 500.01])
    assert results == [500.0, None, None, None, None, None, 500.01]
    assert guard.rejections == 5


def test_candidate_chain_restarts_after_a_break() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0, confirmations=3)
    # 0.1, 0.2 agree; 1e9 breaks the chain; 0.3 starts a new one, so no restart yet.
    assert feed(guard, [500.0, 0.1, 0.2, 1.0e9, 0.3, 0.3]) == [500.0, None, None, None, None, None]
    assert guard.check(0.31, 60.0) == 0.31


def test_non_finite_values_are_rejected() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0)
    assert guard.check(math.nan, 0.0) is None
    assert guard.check(math.inf, 1.0) is None
    nothing_yet = guard.last_good
    assert nothing_yet is None
    assert guard.check(5.0, 2.0) == 5.0
    assert guard.rejections == 2


def test_one_confirmation_follows_every_value() -> None:
    guard = CounterGuard(max_rate_per_hour=1.0, confirmations=1)
    assert feed(guard, [10.0, 2.0, 9999.0]) == [10.0, 2.0, 9999.0]


@pytest.mark.parametrize(
    ("rate", "confirmations", "message"),
    [
        (0.0, 3, "max_rate_per_hour"),
        (math.nan, 3, "max_rate_per_hour"),
        (math.inf, 3, "max_rate_per_hour"),
        (1.0, 0, "confirmations"),
    ],
)
def test_invalid_settings_are_refused(rate: float, confirmations: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CounterGuard(max_rate_per_hour=rate, confirmations=confirmations)


@pytest.mark.parametrize(
    ("unit", "limit"),
    [
        ("kWh", 100.0),
        ("kwh", 100.0),
        ("Wh", 100_000.0),
        ("MWh", 0.1),
        ("kvarh", 100.0),
        ("varh", 100_000.0),
        ("m3", 25.0),
        ("m³", 25.0),
        ("GJ", 0.36),
        ("MJ", 360.0),
        ("W", None),
        ("kW", None),
        ("V", None),
        ("%", None),
        ("", None),
        (None, None),
    ],
)
def test_guard_limit_for_unit(unit: str | None, limit: float | None) -> None:
    assert guard_limit_for_unit(unit) == limit


# ---- invariant ----------------------------------------------------------------------

readings = st.lists(
    st.tuples(
        st.one_of(
            st.floats(min_value=0.0, max_value=2000.0),
            st.sampled_from([0.0, 1.0e9, math.nan]),
        ),
        st.floats(min_value=0.1, max_value=3600.0),  # seconds since the previous one
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(readings=readings, confirmations=st.integers(min_value=1, max_value=4))
def test_published_values_only_drop_after_a_confirmed_restart(
    readings: list[tuple[float, float]], confirmations: int
) -> None:
    guard = CounterGuard(max_rate_per_hour=100.0, confirmations=confirmations)
    now = 0.0
    published: list[float] = []
    history: list[tuple[float, float]] = []
    for value, elapsed in readings:
        now += elapsed
        history.append((value, now))
        result = guard.check(value, now)
        if result is None:
            continue
        assert result == value
        if published and result < published[-1]:
            # A drop needs `confirmations` readings in a row, each a plausible step.
            chain = history[-confirmations:]
            assert len(chain) == confirmations
            for (before, at_before), (after, at_after) in itertools.pairwise(chain):
                assert before <= after
                assert after - before <= 100.0 * (at_after - at_before + SLACK_SECONDS) / 3600
        published.append(result)
        assert guard.last_good == result
    rejected = sum(1 for value, _ in readings) - len(published)
    assert guard.rejections == rejected


def test_saved_guard_holds_back_a_lower_first_value_after_a_restart() -> None:
    """Issue 13: after a restart the first value was published unchecked (20132.152 kWh,
    then 20132.103 kWh). A guard restored from its saved state judges it like any other."""
    before = CounterGuard(max_rate_per_hour=100.0)
    assert before.check(20132.152, 1000.0) == 20132.152
    assert before.check(1.0, 1010.0) is None
    saved = before.as_dict()
    assert saved is not None

    after = CounterGuard(max_rate_per_hour=100.0)
    after.restore(saved)
    assert after.last_good == 20132.152
    assert after.rejections == 1
    assert after.check(20132.103, 1100.0) is None
    assert after.check(20132.160, 1110.0) == 20132.160


def test_an_empty_guard_saves_nothing_and_junk_is_refused() -> None:
    guard = CounterGuard(max_rate_per_hour=100.0)
    assert guard.as_dict() is None
    for junk in (
        {"last_good": "1", "at": 0.0, "rejections": 0},
        {"last_good": math.inf, "at": 0.0, "rejections": 0},
        {"last_good": 1.0, "at": 0.0, "rejections": -1},
        {"last_good": 1.0, "at": 0.0, "rejections": True},
    ):
        with pytest.raises((TypeError, ValueError)):
            guard.restore(junk)
    with pytest.raises(KeyError):
        guard.restore({"last_good": 1.0})
    assert guard.last_good is None
