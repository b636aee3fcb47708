"""Set-up, unload and removal of an upstream portal entry: no meter session, an outbox."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
import sqlite3

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE, Platform
from homeassistant.core import CoreState, Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..meterlib.core.model import Snapshot
from . import repairs
from .const import CONF_RETENTION_DAYS, DEFAULT_RETENTION_DAYS, MAX_OUTBOX_BYTES, SIGNAL_SNAPSHOT
from .outbox import Outbox
from .pusher import UpstreamConfigEntry, UpstreamPusher

PLATFORMS: list[Platform] = [Platform.SENSOR]
_PAST_FINAL_WRITE = frozenset({CoreState.final_write, CoreState.not_running, CoreState.stopped})
"""Home Assistant states after its last-writes event: a listener for it would never run."""


def outbox_path(hass: HomeAssistant, entry_id: str) -> Path:
    """The entry's outbox file, under the configuration directory."""
    return Path(hass.config.path(".storage", f"{DOMAIN}.upstream.{entry_id}.sqlite3"))


async def async_setup_upstream(hass: HomeAssistant, entry: UpstreamConfigEntry) -> bool:
    """Open the outbox, start taking snapshots, then deliver on the interval."""
    # Meters start alongside this entry: hold their first snapshots while the file opens.
    early: list[tuple[str, Snapshot, datetime, str | None]] = []
    stop_early = async_dispatcher_connect(
        hass,
        SIGNAL_SNAPSHOT,
        lambda meter_entry_id, snapshot, member=None: early.append(
            (meter_entry_id, snapshot, dt_util.utcnow(), member)
        ),
    )
    try:
        outbox, dropped = await _open_outbox(hass, entry)
    finally:
        stop_early()
    pusher: UpstreamPusher | None = None
    try:
        pusher = UpstreamPusher(hass, entry, outbox, dropped)
        pusher.subscribe(early)  # no await since the early listener stopped: none missed
        entry.runtime_data = pusher
        if hass.state in _PAST_FINAL_WRITE:  # nothing would close the file
            raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="shutting_down")
        _close_on_final_write(hass, entry, pusher)
        await pusher.async_config_entry_first_refresh()
    except BaseException:
        # Failed, cancelled, or Home Assistant stopped meanwhile: the file must not stay open.
        if pusher is not None:
            await pusher.async_close()
        else:
            outbox.close()  # only opened: closes at once, even while cancelled
        raise
    if pusher.closed:  # Home Assistant's last writes came while this was setting up
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="shutting_down")
    # A coordinator refreshes only while something listens; the push must go on when the
    # user disables every one of the entry's sensors.
    entry.async_on_unload(pusher.async_add_listener(lambda: None))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _open_outbox(hass: HomeAssistant, entry: UpstreamConfigEntry) -> tuple[Outbox, int]:
    """The entry's outbox and its count of drops so far; a file that cannot be opened (disk
    full, permissions) is retried."""
    days = float(entry.data.get(CONF_RETENTION_DAYS, DEFAULT_RETENTION_DAYS))
    path = outbox_path(hass, entry.entry_id)

    def open_and_count() -> tuple[Outbox, int]:
        outbox = Outbox(
            path,
            max_age=days * 86400,
            max_bytes=MAX_OUTBOX_BYTES,
            clock=lambda: dt_util.utcnow().timestamp(),
        )
        try:
            return outbox, outbox.stats().dropped
        except BaseException:
            outbox.close()
            raise

    opening = hass.async_add_executor_job(open_and_count)
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        # Cancelled (Home Assistant stopping during a reload): the worker thread opens the
        # file all the same, and nobody would close it.
        opening.add_done_callback(_close_unused)
        raise
    except (sqlite3.Error, OSError) as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="outbox_unavailable",
            translation_placeholders={"path": str(path), "error": str(err)},
        ) from err


def _close_unused(opening: asyncio.Future[tuple[Outbox, int]]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result()[0].close()  # a fresh connection no one else holds: closes at once


def _close_on_final_write(
    hass: HomeAssistant, entry: UpstreamConfigEntry, pusher: UpstreamPusher
) -> None:
    """Home Assistant stops without unloading entries: store what arrived and close the file
    when it asks for the last writes (closing twice is harmless if an unload follows).

    Listening for the final write rather than the stop event also covers a set-up that
    was still running when the stop event passed (a reload just before a restart).
    """

    async def close(_event: Event) -> None:
        await pusher.async_close()

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_FINAL_WRITE, close))


async def async_unload_upstream(hass: HomeAssistant, entry: UpstreamConfigEntry) -> bool:
    """Remove the sensors, store what arrived, close the outbox (its content stays)."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    await entry.runtime_data.async_close()
    return True


async def async_remove_upstream(hass: HomeAssistant, entry: UpstreamConfigEntry) -> None:
    """The entry is deleted: its outbox and issues go with it."""
    repairs.clear_all(hass, entry)
    path = outbox_path(hass, entry.entry_id)

    def delete() -> None:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    await hass.async_add_executor_job(delete)
