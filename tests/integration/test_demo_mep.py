"""The demo's MEP meter: the config-flow answers `scripts/demo` posts add it, and its replayed
week of history continues the live counter without a jump."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
import sys

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "scripts" / "lib"))
from demo_meters import SimulatedMep

from custom_components.energy_gateway.const import DOMAIN

SERIAL = "5706567270099999"


@pytest.fixture
async def demo_meter(socket_enabled: None) -> AsyncIterator[SimulatedMep]:
    meter = SimulatedMep("Danish NES meter", SERIAL, seed=5)
    await meter.start()
    yield meter
    await meter.stop()


async def test_the_demo_adds_its_mep_meter_through_the_flow(
    hass: HomeAssistant, demo_meter: SimulatedMep
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    for step in demo_meter.flow_steps():
        assert result["type"] in (FlowResultType.MENU, FlowResultType.FORM)
        assert result["step_id"] == step.step_id
        assert not result.get("errors")
        result = await hass.config_entries.flow.async_configure(result["flow_id"], step.answer)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_the_replayed_week_ends_where_the_live_counter_starts(
    demo_meter: SimulatedMep,
) -> None:
    rows = demo_meter.history(("1-0:1.8.0", "1-0:2.8.0"), 24)
    live = demo_meter.reported()
    for key, hours in rows.items():
        assert len(hours) == 24
        states = [row.state for row in hours]
        assert states == sorted(states), key  # a counter never goes back
        # The last full hour is less than an hour of growth below the live counter.
        assert 0 <= live[key] - states[-1] < 5_000, key
