"""Push coordinator: one per meter, fed by the meter stream, no polling."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import (
    CONF_PUBLISH_INTERVAL,
    CONF_RECONNECT_WHEN_SILENT,
    CONF_UNAVAILABLE_AFTER,
    DEFAULT_PUBLISH_INTERVAL,
    DEFAULT_RECONNECT_WHEN_SILENT,
    DEFAULT_UNAVAILABLE_AFTER,
    DOMAIN,
    FIRST_MESSAGE_TIMEOUT,
    ISSUE_WRONG_KEY,
    LOGGER,
    WRONG_KEY_THRESHOLD,
)
from .meterlib.core.errors import DecodeError, EncryptionError
from .meterlib.core.model import Snapshot
from .meterlib.derive.deriver import MeterData, Publisher
from .meterlib.derive.window import PublishWindow
from .meterlib.links.connections import create_link, describe_link
from .meterlib.links.stream import MeterStream
from .source import create_decoder, link_settings

type EnergyGatewayConfigEntry = ConfigEntry[EnergyGatewayRuntime]

# The capacity tracker's state is saved at most this often (and on unload).
_CAPACITY_SAVE_DELAY = 60
_STORAGE_VERSION = 1
_MISSING = object()


@dataclass(kw_only=True)
class EnergyGatewayRuntime:
    """What a loaded config entry keeps at runtime."""

    coordinator: MeterCoordinator


class MeterCoordinator(DataUpdateCoordinator[MeterData]):
    """Receives snapshots from one meter and publishes them to its entities."""

    config_entry: EnergyGatewayConfigEntry

    def __init__(self, hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> None:
        """Prepare the link and decoder; nothing is opened until `_async_setup`."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=None,
        )
        options = entry.options
        self.unavailable_after = float(
            options.get(CONF_UNAVAILABLE_AFTER, DEFAULT_UNAVAILABLE_AFTER)
        )
        reconnect = options.get(CONF_RECONNECT_WHEN_SILENT, DEFAULT_RECONNECT_WHEN_SILENT)
        settings = link_settings(entry.data)
        self.link_description = describe_link(settings)
        self.decoder = create_decoder(entry.data)
        self.stream = MeterStream(
            lambda: create_link(settings),
            self.decoder,
            on_snapshot=self._on_snapshot,
            on_error=self._on_decode_error,
            on_state=self._on_link_state,
            idle_timeout=2 * self.unavailable_after if reconnect else None,
        )
        publish_interval = float(options.get(CONF_PUBLISH_INTERVAL, DEFAULT_PUBLISH_INTERVAL))
        self.window = PublishWindow(publish_interval)
        self.publisher = Publisher(
            dt_util.get_default_time_zone(), publish_interval=publish_interval
        )
        self._store: Store[dict[str, Any]] = Store(
            hass, _STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.capacity"
        )
        self._first_snapshot: asyncio.Future[None] = hass.loop.create_future()
        self._last_message: float | None = None
        self._stale = False
        self._wrong_key_streak = 0
        self._reauth_started = False
        self._stale_unsub: CALLBACK_TYPE | None = None
        self.last_snapshot_time: datetime | None = None
        # `DataUpdateCoordinator.data` is typed as never None; this is the honest view.
        self.latest: MeterData | None = None
        self.changed_keys: set[str] = set()

    async def _async_setup(self) -> None:
        """Restore saved capacity history and start reading the meter."""
        self.publisher.restore_capacity(await self._store.async_load())
        self.config_entry.async_create_background_task(
            self.hass, self.stream.run(), f"{DOMAIN} stream {self.link_description}"
        )
        self._stale_unsub = async_track_time_interval(
            self.hass,
            self._check_stale,
            timedelta(seconds=max(1.0, self.unavailable_after / 4)),
            cancel_on_shutdown=True,
        )

    async def _async_update_data(self) -> MeterData:
        """Wait for the first message; afterwards the stream pushes data itself."""
        if self.latest is not None:
            return self.latest
        try:
            async with asyncio.timeout(FIRST_MESSAGE_TIMEOUT):
                await asyncio.shield(self._first_snapshot)
        except TimeoutError:
            if self._wrong_key_streak:
                raise ConfigEntryAuthFailed(
                    translation_domain=DOMAIN, translation_key="wrong_key"
                ) from None
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="no_data",
                translation_placeholders={
                    "link": self.link_description,
                    "error": self.stream.stats.last_error or "-",
                },
            ) from None
        return self._first_data()

    def _first_data(self) -> MeterData:
        # A method, so the type checker does not carry the None seen before the wait.
        assert self.latest is not None  # set by the first snapshot
        return self.latest

    async def async_shutdown(self) -> None:
        """Stop reading and save the capacity history."""
        await super().async_shutdown()
        if self._stale_unsub is not None:
            self._stale_unsub()
            self._stale_unsub = None
        await self.stream.stop()
        await self._store.async_save(self.publisher.capacity_dict())

    @callback
    def _on_snapshot(self, snapshot: Snapshot) -> None:
        """Handle a good message from the stream (runs in the event loop)."""
        now = self.hass.loop.time()
        self._last_message = now
        self.last_snapshot_time = dt_util.utcnow()
        if self._wrong_key_streak:
            self._wrong_key_streak = 0
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
        published = self.window.add(snapshot, now)
        if published is None:
            return
        previous = self.latest.values if self.latest is not None else {}
        data = self.latest = self.publisher.publish(published, dt_util.now())
        # Most registers repeat every telegram; entities skip work for keys not listed here.
        self.changed_keys = {
            key for key, value in data.values.items() if previous.get(key, _MISSING) != value
        } | (previous.keys() - data.values.keys())
        self._store.async_delay_save(self.publisher.capacity_dict, _CAPACITY_SAVE_DELAY)
        if self._stale:
            self._stale = False
            LOGGER.info("%s: messages from %s are arriving again", self.name, self.link_description)
        self.async_set_updated_data(data)
        if not self._first_snapshot.done():
            self._first_snapshot.set_result(None)

    @callback
    def _on_decode_error(self, error: DecodeError) -> None:
        """Track messages that fail to decrypt: a key that stopped working needs the user."""
        if not isinstance(error, EncryptionError):
            return
        self._wrong_key_streak += 1
        if self._wrong_key_streak < WRONG_KEY_THRESHOLD or self._reauth_started:
            return
        if self.latest is None:
            # Still setting up: setup reports the wrong key itself.
            return
        self._reauth_started = True
        LOGGER.warning(
            "%s: messages no longer decrypt with the configured key; asking for a new one",
            self.name,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_WRONG_KEY,
            translation_placeholders={"title": self.config_entry.title},
        )
        self.config_entry.async_start_reauth(self.hass)

    @callback
    def _on_link_state(self, connected: bool, reason: str | None) -> None:
        """The stream reports outages once each; entities follow the message timer."""
        if not connected:
            LOGGER.debug("%s: link %s down: %s", self.name, self.link_description, reason)

    @callback
    def _check_stale(self, _now: datetime) -> None:
        """Make entities unavailable when the meter has been silent for too long."""
        if self._last_message is None or self._stale:
            return
        if self.hass.loop.time() - self._last_message < self.unavailable_after:
            return
        self._stale = True
        LOGGER.info(
            "%s: no message from %s for %g s; entities are unavailable until it is back (%s)",
            self.name,
            self.link_description,
            self.unavailable_after,
            self.stream.stats.last_error or "the meter is silent",
        )
        self.async_update_listeners()

    @property
    def available(self) -> bool:
        """True while messages arrive."""
        return self.latest is not None and not self._stale

    @property
    def _issue_id(self) -> str:
        return f"{ISSUE_WRONG_KEY}_{self.config_entry.entry_id}"

    def message_age(self) -> float | None:
        """Seconds since the last good message."""
        if self._last_message is None:
            return None
        return self.hass.loop.time() - self._last_message
