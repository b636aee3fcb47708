"""Coordinators: one per meter, holding that meter's library session.

`PushMeterCoordinator` is fed by a pushing meter's session and never polls;
`PolledMeterCoordinator` asks a polled meter on its update interval. What both share (the
capacity state kept across restarts, silence handling, the key-problem repair, the devices)
lives in `MeterCoordinator`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import (
    CONF_POLL_INTERVAL,
    CONF_PUBLISH_INTERVAL,
    CONF_RECONNECT_WHEN_SILENT,
    CONF_UNAVAILABLE_AFTER,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_PUBLISH_INTERVAL,
    DEFAULT_RECONNECT_WHEN_SILENT,
    DEFAULT_UNAVAILABLE_AFTER,
    DOMAIN,
    FIRST_MESSAGE_TIMEOUT,
    ISSUE_WRONG_KEY,
    LOGGER,
    WRONG_KEY_THRESHOLD,
)
from .devices import register_devices
from .families import create_polled_session, extras_of, family_of, keys_of, link_settings
from .fleet import FleetCoordinator
from .meterlib.core.errors import DecodeError, EncryptionError, LinkError
from .meterlib.derive.deriver import MeterData
from .meterlib.session import PolledSession, PushSession
from .unsupported_lists import UnsupportedListWatch
from .upstream.const import SIGNAL_SNAPSHOT

type EnergyGatewayConfigEntry = ConfigEntry[EnergyGatewayRuntime]

# The capacity tracker's state is saved at most this often (and on unload).
_CAPACITY_SAVE_DELAY = 60
_STORAGE_VERSION = 1
_MISSING = object()
# A polled meter that keeps refusing the key is asked only this often until a read works
# again or a new key reloads the entry (the MEP guide: stop polling on consistent refusals).
_REFUSED_KEY_POLL_INTERVAL = timedelta(minutes=1)


@dataclass(kw_only=True)
class EnergyGatewayRuntime:
    """What a loaded config entry keeps at runtime."""

    coordinator: MeterCoordinator | FleetCoordinator
    add_sensors: Callable[[AddConfigEntryEntitiesCallback], None] | None = None
    """Set for a Modbus bus: creates its meters' entities (see `fleet_sensor`)."""


class MeterCoordinator(DataUpdateCoordinator[MeterData]):
    """What every meter's coordinator shares, whatever delivers its data."""

    config_entry: EnergyGatewayConfigEntry
    session: PushSession | PolledSession

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyGatewayConfigEntry,
        update_interval: timedelta | None,
    ) -> None:
        """Read the options; the subclass creates the session."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=update_interval,
        )
        self.unavailable_after = float(
            entry.options.get(CONF_UNAVAILABLE_AFTER, DEFAULT_UNAVAILABLE_AFTER)
        )
        self._store: Store[dict[str, Any]] = Store(
            hass, _STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.capacity"
        )
        self._last_message: float | None = None
        self._stale = False
        self._wrong_key_streak = 0
        self._reauth_started = False
        self._stale_unsub: CALLBACK_TYPE | None = None
        self.last_snapshot_time: datetime | None = None
        # `DataUpdateCoordinator.data` is typed as never None; this is the honest view.
        self.latest: MeterData | None = None
        self.changed_keys: set[str] = set()
        self.unsupported_lists = UnsupportedListWatch(hass, entry.entry_id, entry.title)

    @property
    def link_description(self) -> str:
        """The link in one line, e.g. `tcp 192.0.2.7:2001`."""
        return self.session.link_description

    async def _async_setup(self) -> None:
        """Restore the saved capacity history and start watching for silence."""
        self.session.restore_state(await self._store.async_load())
        self._stale_unsub = async_track_time_interval(
            self.hass,
            self._check_stale,
            timedelta(seconds=max(1.0, self.unavailable_after / 4)),
            cancel_on_shutdown=True,
        )

    async def async_shutdown(self) -> None:
        """Stop the session and save the capacity history."""
        await super().async_shutdown()
        if self._stale_unsub is not None:
            self._stale_unsub()
            self._stale_unsub = None
        await self.session.stop()
        await self._store.async_save(self.session.saved_state())

    @callback
    def _message_arrived(self) -> None:
        """A good message: the meter is alive and its key works."""
        self._last_message = self.hass.loop.time()
        self.last_snapshot_time = dt_util.utcnow()
        self.unsupported_lists.message_decoded()
        # The first good message after setup also clears a repair raised before a reload
        # (reauthentication stores the new key and reloads: a new coordinator, no streak).
        if self._wrong_key_streak or self.latest is None:
            self._wrong_key_streak = 0
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)

    @callback
    def _show(self, data: MeterData) -> None:
        """Take new data to show: note what changed, register devices, save state later."""
        previous = self.latest.values if self.latest is not None else {}
        self.latest = data
        # Most registers repeat every message; entities skip work for keys not listed here.
        self.changed_keys = {
            key for key, value in data.values.items() if previous.get(key, _MISSING) != value
        } | (previous.keys() - data.values.keys())
        # Devices follow the set of values, which rarely changes: not every message.
        if data.values.keys() != previous.keys():
            register_devices(dr.async_get(self.hass), self.config_entry, data)
        self._store.async_delay_save(self.session.saved_state, _CAPACITY_SAVE_DELAY)
        # The upstream portal push (if set up) stores every snapshot shown.
        async_dispatcher_send(self.hass, SIGNAL_SNAPSHOT, self.config_entry.entry_id, data.snapshot)
        if self._stale:
            self._stale = False
            LOGGER.info("%s: messages from %s are arriving again", self.name, self.link_description)

    @callback
    def _on_decode_error(self, error: DecodeError) -> None:
        """Track failed messages: an unsupported list is told once (`unsupported_lists`), a
        key that stopped working needs the user."""
        if self.unsupported_lists.note(error):
            self.async_update_listeners()  # the counter sensor
            return
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
            self.session.stats.last_error or "the meter is silent",
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


class PushMeterCoordinator(MeterCoordinator):
    """Receives a pushing meter's messages from its session; never polls."""

    session: PushSession

    def __init__(self, hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> None:
        """Prepare the session; nothing is opened until `_async_setup`."""
        super().__init__(hass, entry, update_interval=None)
        options = entry.options
        reconnect = options.get(CONF_RECONNECT_WHEN_SILENT, DEFAULT_RECONNECT_WHEN_SILENT)
        self.session = PushSession(
            family_of(entry.data),
            link_settings(entry.data),
            keys_of(entry.data),
            time_zone=dt_util.get_default_time_zone(),
            publish_interval=float(options.get(CONF_PUBLISH_INTERVAL, DEFAULT_PUBLISH_INTERVAL)),
            idle_timeout=2 * self.unavailable_after if reconnect else None,
            on_message=self._on_message,
            on_error=self._on_decode_error,
            on_link_state=self._on_link_state,
            make_decoder=extras_of(entry.data).decoder_factory(options),
        )
        self._first_snapshot: asyncio.Future[None] = hass.loop.create_future()

    async def _async_setup(self) -> None:
        """Restore state, then start reading the meter."""
        await super()._async_setup()
        self.config_entry.async_create_background_task(
            self.hass, self.session.run(), f"{DOMAIN} session {self.link_description}"
        )

    async def _async_update_data(self) -> MeterData:
        """Wait for the first message; afterwards the session pushes data itself."""
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
                    "error": self.session.stats.last_error or "-",
                },
            ) from None
        return self._first_data()

    def _first_data(self) -> MeterData:
        # A method, so the type checker does not carry the None seen before the wait.
        assert self.latest is not None  # set by the first snapshot
        return self.latest

    @callback
    def _on_message(self, data: MeterData | None) -> None:
        """A good message from the session (runs in the event loop)."""
        self._message_arrived()
        if data is None:
            return  # held back by the publish window
        self._show(data)
        self.async_set_updated_data(data)
        if not self._first_snapshot.done():
            self._first_snapshot.set_result(None)

    @callback
    def _on_link_state(self, connected: bool, reason: str | None) -> None:
        """The session reports outages once each; entities follow the message timer."""
        if not connected:
            LOGGER.debug("%s: link %s down: %s", self.name, self.link_description, reason)


class PolledMeterCoordinator(MeterCoordinator):
    """Asks a polled meter for its values on the update interval."""

    session: PolledSession

    def __init__(self, hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> None:
        """Prepare the session; it opens on the first poll."""
        interval = float(entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL))
        self._poll_interval = timedelta(seconds=interval)
        super().__init__(hass, entry, update_interval=self._poll_interval)
        self.session = create_polled_session(entry.data, time_zone=dt_util.get_default_time_zone())

    async def _async_update_data(self) -> MeterData:
        """Poll the meter once."""
        try:
            data = await self.session.poll()
        except LinkError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="no_data",
                translation_placeholders={"link": self.link_description, "error": str(err)},
            ) from err
        except DecodeError as err:
            self._on_decode_error(err)
            if self._wrong_key_streak >= WRONG_KEY_THRESHOLD:
                self.update_interval = max(self._poll_interval, _REFUSED_KEY_POLL_INTERVAL)
            # At setup one refusal is enough (a polled source reports a wrong key only once
            # the meter has refused it repeatedly); like a push meter, ask for a new key.
            if self._wrong_key_streak and self.latest is None:
                raise ConfigEntryAuthFailed(
                    translation_domain=DOMAIN, translation_key="wrong_key"
                ) from err
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="no_data",
                translation_placeholders={"link": self.link_description, "error": str(err)},
            ) from err
        self._message_arrived()
        self.update_interval = self._poll_interval
        self._show(data)
        return data

    @property
    def available(self) -> bool:
        """True while polls succeed."""
        return super().available and self.last_update_success


def create_coordinator(hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> MeterCoordinator:
    """The coordinator that fits the entry's family."""
    if family_of(entry.data).delivery == "poll":
        return PolledMeterCoordinator(hass, entry)
    return PushMeterCoordinator(hass, entry)
