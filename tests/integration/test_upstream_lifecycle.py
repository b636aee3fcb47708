"""The upstream entry's outbox file across set-up, Home Assistant's stop and failures: it is
always closed, and what arrived before the last writes is in it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
import contextlib
import sqlite3
import threading

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers.dispatcher import DATA_DISPATCHER
import pytest

from custom_components.energy_gateway.upstream.const import SIGNAL_SNAPSHOT
from custom_components.energy_gateway.upstream.outbox import Outbox, StoredSnapshot
from custom_components.energy_gateway.upstream.pusher import UpstreamPusher
from custom_components.energy_gateway.upstream.setup import outbox_path
from simulators.upstream_portal import Portal

from .upstream_helpers import Meters, setup_upstream, upstream_entry


def _is_closed(outbox: Outbox) -> bool:
    try:
        outbox.stats()
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database"
        return True
    return False


def _stored(hass: HomeAssistant, entry_id: str) -> int:
    """Snapshots in the entry's outbox file, read with a connection of our own."""
    reopened = Outbox(outbox_path(hass, entry_id), max_age=86400.0, max_bytes=10**9)
    try:
        return reopened.stats().backlog
    finally:
        reopened.close()


async def _assert_all_stored_and_closed(pusher: UpstreamPusher, meters: Meters) -> None:
    """The pusher closed its file, and every snapshot the meters published is in it (read
    on a thread of our own: after a stop, Home Assistant's executor is shut down)."""
    assert _is_closed(pusher.outbox)
    stored = await asyncio.to_thread(_stored, pusher.hass, pusher.config_entry.entry_id)
    assert stored == meters.total


class _Gate:
    """Holds a worker thread inside a call until released, and tells when one is held."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.release = threading.Event()

    def pass_through(self) -> None:
        self.inside.set()
        self.release.wait(10)


@contextlib.contextmanager
def _outboxes_opened(gate: _Gate | None = None) -> Iterator[list[Outbox]]:
    """Every outbox opened meanwhile (after `gate`, if given, lets the opening through)."""
    opened: list[Outbox] = []
    original_init = Outbox.__init__

    def recorded(self: Outbox, *args: object, **kwargs: object) -> None:
        if gate is not None:
            gate.pass_through()
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        opened.append(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Outbox, "__init__", recorded)
        yield opened


async def _stop_until_final_write(hass: HomeAssistant) -> None:
    """Home Assistant's stop up to its last writes, as `async_stop` runs them."""
    hass.set_state(CoreState.stopping)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()


async def _final_write(hass: HomeAssistant) -> None:
    hass.set_state(CoreState.final_write)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()


async def test_stop_stores_what_arrived_and_closes_the_file(
    hass: HomeAssistant, portal: Portal
) -> None:
    """Home Assistant stops without unloading: a snapshot that arrives after the stop event
    (a meter's last telegram) is still stored, then the file is closed."""
    meters = Meters(hass, 2)
    pusher = await setup_upstream(hass, portal)
    portal.behaviour.status = 503  # nothing leaves the outbox
    meters.publish()
    await _stop_until_final_write(hass)
    meters.publish()
    await _final_write(hass)
    await _assert_all_stored_and_closed(pusher, meters)


async def test_a_write_under_way_when_home_assistant_stops_is_kept(
    hass: HomeAssistant, portal: Portal
) -> None:
    """Home Assistant stops while snapshots are being written: the write completes, the
    snapshots are in the file, and the file is closed."""
    meters = Meters(hass, 2)
    pusher = await setup_upstream(hass, portal)
    portal.behaviour.status = 503  # nothing leaves the outbox
    gate = _Gate()
    original_add = Outbox.add

    def held(self: Outbox, snapshots: Iterable[StoredSnapshot]) -> int:
        gate.pass_through()
        return original_add(self, snapshots)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Outbox, "add", held)
        meters.publish()
        assert await hass.async_add_executor_job(gate.inside.wait, 10)
        threading.Timer(0.3, gate.release.set).start()
        await hass.async_stop()
    await _assert_all_stored_and_closed(pusher, meters)


async def test_set_up_while_stopping_still_closes_the_file(
    hass: HomeAssistant, portal: Portal
) -> None:
    """A reload that was under way when the stop event passed (the reconfigure just before a
    restart): its new outbox is closed at the last writes all the same."""
    entry = (await setup_upstream(hass, portal)).config_entry
    await _stop_until_final_write(hass)
    assert await hass.config_entries.async_reload(entry.entry_id)
    pusher: UpstreamPusher = entry.runtime_data
    assert not _is_closed(pusher.outbox)
    await _final_write(hass)
    assert _is_closed(pusher.outbox)


async def test_set_up_after_the_last_writes_opens_nothing(
    hass: HomeAssistant, portal: Portal
) -> None:
    """Too late to be closed by anyone: the entry does not load and leaves no file open."""
    entry = upstream_entry(portal)
    entry.add_to_hass(hass)
    hass.set_state(CoreState.final_write)
    with _outboxes_opened() as opened:
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert len(opened) == 1
    assert _is_closed(opened[0])


async def test_set_up_cancelled_while_the_file_opens(hass: HomeAssistant, portal: Portal) -> None:
    """Home Assistant cancels a set-up (stopping during a reload) while a worker thread
    opens the file: the thread finishes opening, and the file is closed then."""
    gate = _Gate()
    entry = upstream_entry(portal)
    entry.add_to_hass(hass)
    with _outboxes_opened(gate) as opened:
        setup = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
        assert await hass.async_add_executor_job(gate.inside.wait, 10)
        setup.cancel()
        gate.release.set()
        with pytest.raises(asyncio.CancelledError):
            await setup
        for _ in range(500):
            if opened and _is_closed(opened[0]):
                break
            await asyncio.sleep(0.01)
    assert len(opened) == 1
    assert _is_closed(opened[0])


async def test_an_outbox_that_cannot_be_opened_is_retried_with_a_reason(
    hass: HomeAssistant, portal: Portal
) -> None:
    """The outbox path is taken by a directory: the entry waits to retry, says why, and
    takes no snapshots meanwhile."""
    entry = upstream_entry(portal)
    entry.add_to_hass(hass)
    path = outbox_path(hass, entry.entry_id)
    await hass.async_add_executor_job(lambda: path.mkdir(parents=True))
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert str(path) in entry.reason
    # No listener is left behind to collect snapshots that nothing would ever store.
    assert SIGNAL_SNAPSHOT not in hass.data.get(DATA_DISPATCHER, {})
