"""Set-up, unload and removal of an upstream portal entry: no meter session, an outbox."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..meterlib.core.model import Snapshot
from . import repairs
from .const import CONF_RETENTION_DAYS, DEFAULT_RETENTION_DAYS, MAX_OUTBOX_BYTES, SIGNAL_SNAPSHOT
from .outbox import Outbox
from .pusher import UpstreamConfigEntry, UpstreamPusher

PLATFORMS: list[Platform] = [Platform.SENSOR]


def outbox_path(hass: HomeAssistant, entry_id: str) -> Path:
    """The entry's outbox file, under the configuration directory."""
    return Path(hass.config.path(".storage", f"{DOMAIN}.upstream.{entry_id}.sqlite3"))


async def async_setup_upstream(hass: HomeAssistant, entry: UpstreamConfigEntry) -> bool:
    """Open the outbox, start taking snapshots, then deliver on the interval."""
    days = float(entry.data.get(CONF_RETENTION_DAYS, DEFAULT_RETENTION_DAYS))
    # Meters start alongside this entry: hold their first snapshots while the file opens.
    early: list[tuple[str, Snapshot, datetime, str | None]] = []
    stop_early = async_dispatcher_connect(
        hass,
        SIGNAL_SNAPSHOT,
        lambda meter_entry_id, snapshot, member=None: early.append(
            (meter_entry_id, snapshot, dt_util.utcnow(), member)
        ),
    )
    outbox = await hass.async_add_executor_job(
        lambda: Outbox(
            outbox_path(hass, entry.entry_id),
            max_age=days * 86400,
            max_bytes=MAX_OUTBOX_BYTES,
            clock=lambda: dt_util.utcnow().timestamp(),
        )
    )
    stats = await hass.async_add_executor_job(outbox.stats)
    pusher = UpstreamPusher(hass, entry, outbox, stats.dropped)
    stop_early()
    pusher.subscribe(early)
    entry.runtime_data = pusher
    try:
        await pusher.async_config_entry_first_refresh()
    except BaseException:
        await pusher.async_close()
        raise
    # A coordinator refreshes only while something listens; the push must go on when the
    # user disables every one of the entry's sensors.
    entry.async_on_unload(pusher.async_add_listener(lambda: None))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)

    async def close_on_stop(_event: Event) -> None:
        # Home Assistant stops without unloading entries: store what arrived and close the
        # file cleanly (closing twice is harmless if an unload follows).
        await pusher.async_close()

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, close_on_stop))
    return True


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
