"""The upstream portal push against a real aiohttp portal on 127.0.0.1.

Every test ends the same way: the portal holds every reading exactly once after
deduplication on the idempotency key, in the order each meter produced them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest

from custom_components.energy_gateway.const import DOMAIN
from custom_components.energy_gateway.upstream import pusher as pusher_module
from custom_components.energy_gateway.upstream.outbox import Outbox
from custom_components.energy_gateway.upstream.pusher import UpstreamPusher
from simulators.upstream_portal import Portal

from .upstream_helpers import (
    START,
    Meters,
    delivered,
    sensor_state,
    setup_upstream,
    tick,
    tick_until,
)


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    """The wall clock travels; the event loop keeps real time so sockets work."""
    with freeze_time(START, ignore=["asyncio"]) as factory:
        yield factory


def _all_delivered(portal: Portal, meters: Meters) -> bool:
    return sum(len(numbers) for numbers in delivered(portal).values()) >= meters.total


def _issue(hass: HomeAssistant, kind: str, pusher: UpstreamPusher) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{pusher.config_entry.entry_id}")


async def test_normal_delivery(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """Three meters, ten intervals: one batch per interval, gzip once the portal says so."""
    meters = Meters(hass, 3)
    pusher = await setup_upstream(hass, portal)
    for _ in range(10):
        meters.publish()
        await tick(hass, clock)
    assert delivered(portal) == meters.produced
    assert portal.duplicates == 0
    assert portal.gzipped >= 8  # the first answer said Accept-Encoding: gzip
    entry = pusher.config_entry
    assert sensor_state(hass, entry, "backlog") == "0"
    assert sensor_state(hass, entry, "dropped") == "0"
    assert (
        sensor_state(hass, entry, "last_success")
        == clock().replace(tzinfo=START.tzinfo).isoformat()
    )
    body = next(iter(portal.batches.values()))
    assert body["gateway_id"] == "site-1"
    assert body["meters"][0]["serial"] == "SERIAL-M0"
    assert body["meters"][0]["source"] == "p1"


async def test_one_hour_outage(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """The portal is down for an hour: the backlog grows, then drains oldest first."""
    meters = Meters(hass, 4)
    pusher = await setup_upstream(hass, portal)
    portal.behaviour.status = 503
    for _ in range(120):
        meters.publish()
        await tick(hass, clock)
    entry = pusher.config_entry
    assert delivered(portal) == {}
    assert int(sensor_state(hass, entry, "backlog")) == 480
    assert float(sensor_state(hass, entry, "oldest_age")) >= 3500
    portal.behaviour.status = 200
    await tick_until(hass, clock, lambda: _all_delivered(portal, meters))
    assert delivered(portal) == meters.produced
    assert portal.duplicates == 0
    await tick(hass, clock)
    assert sensor_state(hass, entry, "backlog") == "0"
    assert sensor_state(hass, entry, "oldest_age") == "0.0"


async def test_restart_in_the_middle_of_an_outage(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """Home Assistant stops during an outage with a batch pending; the outbox file carries
    the backlog (and the pending batch's key) over the restart."""
    meters = Meters(hass, 2)
    pusher = await setup_upstream(hass, portal)
    portal.behaviour.status = 500
    for _ in range(20):
        meters.publish()
        await tick(hass, clock)
    entry = pusher.config_entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert int(sensor_state(hass, entry, "backlog")) == 40
    for _ in range(5):
        meters.publish()
        await tick(hass, clock)
    portal.behaviour.status = 200
    await tick_until(hass, clock, lambda: _all_delivered(portal, meters))
    assert delivered(portal) == meters.produced
    assert portal.duplicates == 0


@pytest.mark.parametrize(
    ("status", "retry_after"), [(500, None), (503, "600"), (429, "600"), (408, None)]
)
async def test_retryable_answers(
    hass: HomeAssistant,
    portal: Portal,
    clock: FrozenDateTimeFactory,
    status: int,
    retry_after: str | None,
) -> None:
    """Server errors, 408 and rate limits are retried; Retry-After is honoured."""
    meters = Meters(hass, 1)
    pusher = await setup_upstream(hass, portal)
    portal.behaviour.statuses = [status]
    portal.behaviour.retry_after = retry_after
    meters.publish()
    await tick(hass, clock)
    assert portal.requests == 1
    if retry_after is not None:
        # Nothing is sent before the portal's 10 minutes are over.
        for _ in range(19):
            meters.publish()
            await tick(hass, clock)
        assert portal.requests == 1
    await tick_until(hass, clock, lambda: _all_delivered(portal, meters))
    assert delivered(portal) == meters.produced
    assert pusher.halted is None
    assert pusher.counters["retries"] == 1


async def test_clock_set_back_during_a_wait(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """A 429 asks for an hour, then the wall clock is set back a day: delivery goes on at
    the next interval instead of waiting a day and an hour."""
    meters = Meters(hass, 1)
    pusher = await setup_upstream(hass, portal)
    portal.behaviour.statuses = [429]
    portal.behaviour.retry_after = "3600"
    meters.publish()
    await tick(hass, clock)
    assert portal.requests == 1
    meters.publish()
    await tick(hass, clock)
    assert portal.requests == 1  # waiting, as asked
    clock.move_to(START - timedelta(days=1))
    meters.publish()
    await tick(hass, clock)
    assert delivered(portal) == meters.produced
    assert pusher.counters["retries"] == 1


async def test_token_rejected_then_reauthenticated(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """401: delivery stops, a repair issue and a reauthentication flow appear; readings
    keep arriving in the outbox and are all delivered after the new token."""
    meters = Meters(hass, 2)
    portal.token = "rotated"
    pusher = await setup_upstream(hass, portal)
    meters.publish()
    await tick(hass, clock)
    assert pusher.halted == "auth_rejected"
    assert _issue(hass, "upstream_token_rejected", pusher) is not None
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    requests = portal.requests
    for _ in range(5):
        meters.publish()
        await tick(hass, clock)
    assert portal.requests == requests  # stopped, not hammering the portal
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"token": "rotated"}
    )
    assert result["type"] == "abort"
    assert result["reason"] == "upstream_reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    await tick_until(hass, clock, lambda: _all_delivered(portal, meters))
    assert delivered(portal) == meters.produced
    new_pusher: UpstreamPusher = pusher.config_entry.runtime_data
    assert _issue(hass, "upstream_token_rejected", new_pusher) is None


async def test_other_client_error_stops_with_a_repair_issue(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """422 will not get better by retrying: stop, say why, keep the readings."""
    meters = Meters(hass, 1)
    pusher = await setup_upstream(hass, portal)
    portal.behaviour.status = 422
    meters.publish()
    await tick(hass, clock)
    for _ in range(5):
        await tick(hass, clock)
    assert portal.requests == 1
    assert pusher.halted == "rejected"
    issue = _issue(hass, "upstream_rejected", pusher)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["status"] == "422"
    assert sensor_state(hass, pusher.config_entry, "backlog") == "1"


async def test_slow_portal(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """A portal that takes a second per answer still gets everything, once."""
    meters = Meters(hass, 2)
    await setup_upstream(hass, portal)
    portal.behaviour.delay = 1.0
    for _ in range(3):
        meters.publish()
        await tick(hass, clock)
    assert delivered(portal) == meters.produced
    assert portal.duplicates == 0


async def test_portal_stores_then_times_out(
    hass: HomeAssistant,
    portal: Portal,
    clock: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The portal stores a batch but answers too late: the retry carries the same key and
    the same snapshots, so deduplication leaves each reading once."""
    monkeypatch.setattr(pusher_module, "REQUEST_TIMEOUT", 0.3)
    meters = Meters(hass, 2)
    pusher = await setup_upstream(hass, portal)
    portal.behaviour.delay = 1.0
    meters.publish()
    await tick(hass, clock)
    assert pusher.last_answer is not None
    assert pusher.last_answer.outcome == "timeout"
    portal.behaviour.delay = 0.0
    for _ in range(3):
        meters.publish()
        await tick(hass, clock)
    await tick_until(hass, clock, lambda: _all_delivered(portal, meters))
    assert portal.duplicates >= 1
    assert delivered(portal) == meters.produced


async def test_retention_drops_the_oldest_and_says_so(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """A portal gone for longer than the retention: the oldest are dropped and counted."""
    meters = Meters(hass, 1)
    pusher = await setup_upstream(hass, portal, retention_days=1)
    portal.behaviour.status = 503
    meters.publish()
    await tick(hass, clock, timedelta(hours=12))
    meters.publish()
    await tick(hass, clock, timedelta(hours=13))
    assert sensor_state(hass, pusher.config_entry, "dropped") == "1"
    assert _issue(hass, "upstream_dropped", pusher) is not None
    portal.behaviour.status = 200
    await tick_until(hass, clock, lambda: portal.batches != {})
    assert delivered(portal) == {"M0": meters.produced["M0"][1:]}


async def test_only_the_chosen_meters(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    meters = Meters(hass, 3)
    await setup_upstream(hass, portal, meters=[meters.entries[1].entry_id])
    meters.publish()
    await tick(hass, clock)
    assert delivered(portal) == {"M1": meters.produced["M1"]}


async def test_removing_the_entry_removes_its_outbox(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    pusher = await setup_upstream(hass, portal)
    path = pusher.outbox.path
    assert path.exists()
    assert await hass.config_entries.async_remove(pusher.config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not path.exists()


async def test_gzip_refused_falls_back_to_plain_json(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """A 415 to a gzipped body: the same batch goes again as plain JSON."""
    meters = Meters(hass, 1)
    pusher = await setup_upstream(hass, portal)
    meters.publish()
    await tick(hass, clock)  # the answer announces gzip
    portal.behaviour.refuse_gzip = True
    for _ in range(3):
        meters.publish()
        await tick(hass, clock)
    await tick_until(hass, clock, lambda: _all_delivered(portal, meters))
    assert delivered(portal) == meters.produced
    assert pusher.halted is None


async def test_ampx_mode(hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory) -> None:
    """One AmpX message per snapshot, each under its own stable key."""
    meters = Meters(hass, 2)
    await setup_upstream(hass, portal, payload_format="ampx")
    meters.publish()
    await tick(hass, clock)
    messages = list(portal.batches.values())
    assert [(m["meter_id"], m["values"]["active_energy_imported_tot"]) for m in messages] == [
        ("M0", "1"),
        ("M1", "2"),
    ]
    assert messages[0]["serial_number"] == "SERIAL-M0"
    assert messages[0]["values"]["active_power_tot"] == "1.5"
    assert all(key.endswith(("-0", "-1")) for key in portal.batches)


async def test_a_failed_disk_write_loses_nothing(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """The outbox file cannot be written for a while: snapshots wait in memory, in order,
    and are stored and delivered once it can."""
    meters = Meters(hass, 2)
    pusher = await setup_upstream(hass, portal)
    path = pusher.outbox.path
    broken = pusher.outbox
    await hass.async_add_executor_job(broken.close)  # every write now fails
    for _ in range(3):
        meters.publish()
        await tick(hass, clock)
    assert pusher.counters["write_failures"] >= 1
    assert delivered(portal) == {}
    pusher.outbox = await hass.async_add_executor_job(
        lambda: Outbox(path, max_age=86400.0, max_bytes=10**9)
    )
    meters.publish()
    await tick_until(hass, clock, lambda: _all_delivered(portal, meters))
    assert delivered(portal) == meters.produced


async def test_delivery_goes_on_with_every_sensor_disabled(
    hass: HomeAssistant, portal: Portal, clock: FrozenDateTimeFactory
) -> None:
    """The push is the entry's job, not its sensors': a user who disables all of them
    still gets every reading delivered."""
    meters = Meters(hass, 2)
    pusher = await setup_upstream(hass, portal)
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, pusher.config_entry.entry_id):
        registry.async_update_entity(entity.entity_id, disabled_by=er.RegistryEntryDisabler.USER)
    await hass.config_entries.async_reload(pusher.config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    for _ in range(3):
        meters.publish()
        await tick(hass, clock)
    assert delivered(portal) == meters.produced
