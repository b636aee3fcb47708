"""What a session keeps across restarts: capacity, counter guards, link totals (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.energy_gateway.meterlib.core.model import Reading, Snapshot
from custom_components.energy_gateway.meterlib.derive.deriver import Deriver
from custom_components.energy_gateway.meterlib.links.stream import LinkStats
from custom_components.energy_gateway.meterlib.saved_state import (
    SavedState,
    link_totals,
    restore_link_totals,
)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _energy(kwh: float) -> Snapshot:
    return Snapshot("p1", "E1", T0, {"1-0:1.8.1": Reading("1-0:1.8.1", kwh, "kWh")})


def test_counters_survive_a_json_round_trip() -> None:
    before = Deriver(UTC)
    before.derive(_energy(20132.152), T0)
    stored = json.loads(json.dumps(before.counters_dict()))

    after = Deriver(UTC)
    after.restore_counters(stored)
    published = after.derive(_energy(20132.103), T0 + timedelta(minutes=1))
    assert published.values["1-0:1.8.1"] == 20132.152
    assert after.counter_rejections == 1


@pytest.mark.parametrize(
    "junk",
    [None, "x", [1, 2], [{"obis": 3, "unit": "kWh"}], [{"obis": "1-0:1.8.1", "unit": "kWh"}]],
)
def test_junk_counters_are_skipped(junk: Any) -> None:
    deriver = Deriver(UTC)
    deriver.restore_counters(junk)
    assert deriver.derive(_energy(5.0), T0).values["1-0:1.8.1"] == 5.0


def test_one_bad_counter_does_not_cost_the_others() -> None:
    deriver = Deriver(UTC)
    deriver.restore_counters(
        [
            {"obis": "1-0:1.8.1", "unit": "kWh", "last_good": "bad", "at": 0.0, "rejections": 0},
            {"obis": "1-0:1.8.1", "unit": "kWh", "last_good": 9.0, "at": 0.0, "rejections": 0},
        ]
    )
    assert deriver.derive(_energy(5.0), T0).values["1-0:1.8.1"] == 9.0


def test_link_totals_continue_and_moments_start_fresh() -> None:
    stats = LinkStats(crc_failures=2, reconnects=3, messages_ok=50, connected=True)
    saved = json.loads(json.dumps(link_totals(stats)))
    fresh = LinkStats()
    restore_link_totals(fresh, saved)
    assert (fresh.crc_failures, fresh.reconnects, fresh.messages_ok) == (2, 3, 0)
    assert not fresh.connected
    restore_link_totals(fresh, {"crc_failures": -1, "reconnects": "7", "decode_failures": 1.5})
    assert (fresh.crc_failures, fresh.reconnects, fresh.decode_failures) == (2, 3, 0)


def test_capacity_only_storage_of_version_1_is_read() -> None:
    legacy = {"version": 1, "month": "2026-11-01", "months": [], "quarter": None}
    assert SavedState.from_stored(legacy) == SavedState(capacity=legacy)
    state = SavedState(capacity={"version": 1}, counters=[], link={"reconnects": 1})
    assert SavedState.from_stored(json.loads(json.dumps(state.as_dict()))) == state
    assert SavedState.from_stored(None) == SavedState()
    assert SavedState.from_stored({"version": 2, "capacity": 5, "link": []}) == SavedState()
