"""Shared parts of the upstream tests: meters that publish snapshots, the entry, time travel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import CONF_TOKEN, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_gateway.const import CONF_SOURCE, DOMAIN
from custom_components.energy_gateway.meterlib.core.model import Reading, Snapshot
from custom_components.energy_gateway.upstream.const import (
    CONF_ALLOW_HTTP,
    CONF_GATEWAY_ID,
    CONF_METERS,
    CONF_PAYLOAD_FORMAT,
    CONF_PUSH_INTERVAL,
    CONF_RETENTION_DAYS,
    ENTRY_KIND,
    KIND_UPSTREAM,
    SIGNAL_SNAPSHOT,
)
from custom_components.energy_gateway.upstream.pusher import UpstreamPusher
from simulators.upstream_portal import TOKEN, Portal

START = datetime(2026, 12, 3, 8, 0, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=30)


class Meters:
    """Meter entries (not set up: only their identity matters here) that publish numbered
    snapshots on the signal the meter coordinators use; `produced` is the truth to compare."""

    def __init__(self, hass: HomeAssistant, count: int) -> None:
        self.hass = hass
        self.entries = [
            # Disabled: Home Assistant keeps them without setting them up.
            MockConfigEntry(
                domain=DOMAIN,
                title=f"P1 meter M{n}",
                unique_id=f"M{n}",
                data={CONF_SOURCE: "p1"},
                disabled_by=ConfigEntryDisabler.USER,
            )
            for n in range(count)
        ]
        for entry in self.entries:
            entry.add_to_hass(hass)
        self.produced: dict[str, list[int]] = {entry.unique_id or "": [] for entry in self.entries}
        self._sequence = 0

    def publish(self) -> None:
        """Each meter shows one new snapshot, stamped with the (frozen) wall clock."""
        for entry in self.entries:
            self._sequence += 1
            number = self._sequence
            snapshot = Snapshot(
                format="p1",
                meter_id=f"SERIAL-{entry.unique_id}",
                timestamp=dt_util.utcnow(),
                readings={
                    "1-0:1.8.0": Reading("1-0:1.8.0", float(number), "kWh"),
                    "1-0:1.7.0": Reading("1-0:1.7.0", 1.5, "kW"),
                },
            )
            self.produced[entry.unique_id or ""].append(number)
            async_dispatcher_send(self.hass, SIGNAL_SNAPSHOT, entry.entry_id, snapshot)

    @property
    def total(self) -> int:
        return sum(len(numbers) for numbers in self.produced.values())


def delivered(portal: Portal) -> dict[str, list[int]]:
    """What the portal holds after deduplication, per meter, in arrival order."""
    return {
        meter: [int(s["readings"]["1-0:1.8.0"]["value"]) for s in snapshots]
        for meter, snapshots in portal.snapshots_by_meter().items()
    }


def upstream_entry(portal: Portal, **data: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Upstream 127.0.0.1",
        unique_id=None,
        data={
            ENTRY_KIND: KIND_UPSTREAM,
            CONF_URL: portal.url,
            CONF_ALLOW_HTTP: True,
            CONF_TOKEN: TOKEN,
            CONF_GATEWAY_ID: "site-1",
            CONF_PAYLOAD_FORMAT: "v1",
            CONF_PUSH_INTERVAL: 30,
            CONF_METERS: [],
            CONF_RETENTION_DAYS: 7,
        }
        | data,
    )


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, step: timedelta = INTERVAL
) -> None:
    """Move the wall clock and let every timer due in that span run to completion."""
    freezer.tick(step)
    # The frozen wall clock moved, the event loop's did not (sockets need real time), so
    # the due timers (the push interval among them) are fired explicitly.
    async_fire_time_changed(hass, dt_util.utcnow(), fire_all=True)
    await hass.async_block_till_done(wait_background_tasks=True)


async def tick_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    done: Callable[[], bool],
    *,
    limit: int = 200,
    step: timedelta = INTERVAL,
) -> int:
    """Tick until `done()`; returns the ticks it took. Fails if it never is."""
    for count in range(limit):
        if done():
            return count
        await tick(hass, freezer, step)
    raise AssertionError("not reached within the tick limit")


def sensor_state(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_{key}")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def setup_upstream(hass: HomeAssistant, portal: Portal, **data: object) -> UpstreamPusher:
    """An upstream entry for `portal`, loaded, with its first push done."""
    entry = upstream_entry(portal, **data)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    pusher: UpstreamPusher = entry.runtime_data
    return pusher
