"""Coordinators: one per meter, holding that meter's library session.

`PushMeterCoordinator` is fed by a pushing meter's session and never polls;
`PolledMeterCoordinator` asks a polled meter on its update interval. What both share (the
capacity state kept across restarts, silence handling, the key-problem repair, the devices)
lives in `MeterCoordinator`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .bus.coordinator import FleetCoordinator
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
    LOGGER,
    WRONG_KEY_THRESHOLD,
)
from .devices import register_devices, register_meter
from .families import create_polled_session, extras_of, family_of, keys_of, link_settings
from .key_repair import async_ask_for_new_key, async_key_works
from .meterlib.core.errors import DecodeError, EncryptionError, LinkError
from .meterlib.derive.deriver import MeterData
from .meterlib.session import PolledSession, PushSession
from .silence import SilenceWatch
from .unsupported_lists import UnsupportedListWatch
from .upstream.const import SIGNAL_SNAPSHOT

type EnergyGatewayConfigEntry = ConfigEntry[EnergyGatewayRuntime]

# The session's state (capacity, counters) is saved at most this often (and on unload).
_STATE_SAVE_DELAY = 60
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
    """Set for a Modbus bus: creates its meters' entities (see `bus.sensor`)."""


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
        self._key_confirmed = False
        self._silence: SilenceWatch | None = None
        self.last_snapshot_time: datetime | None = None
        # `DataUpdateCoordinator.data` is typed as never None; this is the honest view.
        self.latest: MeterData | None = None
        self.changed_keys: set[str] = set()
        self.unsupported_lists = UnsupportedListWatch(hass, entry.entry_id, entry.title)

    @property
    def link_description(self) -> str:
        """The link in one line, e.g. `tcp 192.0.2.7:2001`."""
        return self.session.link_description

    async def async_start(self) -> None:
        """Restore the saved state and start; the meter's first data is not awaited here."""
        await self.async_config_entry_first_refresh()

    async def _async_setup(self) -> None:
        """Restore the saved state (capacity, counters) and start watching for silence."""
        self.session.restore_state(await self._store.async_load())
        self._silence = SilenceWatch(self.hass, self.unavailable_after, self._went_silent)

    async def async_shutdown(self) -> None:
        """Stop the session and save its state."""
        await super().async_shutdown()
        if self._silence is not None:
            self._silence.stop()
        await self.session.stop()
        await self._store.async_save(self.session.saved_state())

    @callback
    def _message_arrived(self) -> None:
        """A good message: the meter is alive and its key works."""
        self._last_message = self.hass.loop.time()
        self.last_snapshot_time = dt_util.utcnow()
        self.unsupported_lists.message_decoded()
        if self._silence is not None:
            self._silence.heard(self.last_snapshot_time)
        self._wrong_key_streak = 0
        if not self._key_confirmed or self._reauth_started:
            # Also the first message after a reload: the key request may be a predecessor's.
            self._key_confirmed = True
            self._reauth_started = False
            async_key_works(self.hass, self.config_entry)

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
        self._save_later()
        # The upstream portal push (if set up) stores every snapshot shown.
        async_dispatcher_send(self.hass, SIGNAL_SNAPSHOT, self.config_entry.entry_id, data.snapshot)
        if self._stale:
            self._stale = False
            LOGGER.info("%s: messages from %s are arriving again", self.name, self.link_description)

    @callback
    def _save_later(self) -> None:
        """Save the session's state soon (also flushed when Home Assistant stops)."""
        self._store.async_delay_save(self.session.saved_state, _STATE_SAVE_DELAY)

    @callback
    def _on_decode_error(self, error: DecodeError) -> None:
        """Track failed messages: an unsupported list is told once (`unsupported_lists`), a
        key that stopped working needs the user."""
        self._save_later()  # the failure counters are kept across restarts
        if self.unsupported_lists.note(error):
            self.async_update_listeners()  # the counter sensor
            return
        if not isinstance(error, EncryptionError):
            return
        self._wrong_key_streak += 1
        if self._wrong_key_streak < WRONG_KEY_THRESHOLD or self._reauth_started:
            return
        self._reauth_started = True
        async_ask_for_new_key(self.hass, self.config_entry)

    @callback
    def _went_silent(self) -> None:
        """Make entities unavailable: the meter has been silent for the allowed time."""
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
        self._said_unreachable = False

    async def async_start(self) -> None:
        """Restore state and start reading; entities stay unavailable until data arrives.

        Setup never waits for the meter: a bridge that is off must not hold up Home
        Assistant's start, and the session connects on its own as soon as it is back.
        """
        await self._async_setup()
        # The meter's device exists before its first message, for the link entities.
        register_meter(dr.async_get(self.hass), self.config_entry)
        self.config_entry.async_create_background_task(
            self.hass, self.session.run(), f"{DOMAIN} session {self.link_description}"
        )

    async def _async_update_data(self) -> MeterData:
        """The latest data (a refresh asked for by a user); the session pushes the rest."""
        if self.latest is not None:
            return self.latest
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="no_data",
            translation_placeholders={
                "link": self.link_description,
                "error": self.session.stats.last_error or "-",
            },
        )

    @callback
    def _on_message(self, data: MeterData | None) -> None:
        """A good message from the session (runs in the event loop)."""
        if self.latest is None and self._said_unreachable:
            LOGGER.info("%s: the meter answers on %s", self.name, self.link_description)
        self._message_arrived()
        if data is None:
            return  # held back by the publish window
        self._show(data)
        self._publish(data)

    @callback
    def _publish(self, data: MeterData) -> None:
        """Hand new data to the entities.

        `async_set_updated_data` would do the same plus a debug line per message (3,600
        an hour for a DSMR 5 meter) and refresh scheduling that a push coordinator has none of.
        """
        self.data = data
        self.last_update_success = True
        self.async_update_listeners()

    @callback
    def _on_link_state(self, connected: bool, reason: str | None) -> None:
        """The session reports outages once each; entities follow the silence watch."""
        if connected:
            return
        self._save_later()  # the reconnect and failure totals are kept across restarts
        if self.latest is None and not self._said_unreachable:
            self._said_unreachable = True
            LOGGER.warning(
                "%s: cannot reach the meter on %s (%s); its entities stay unavailable "
                "until it answers, it is retried every few seconds",
                self.name,
                self.link_description,
                reason,
            )
            return
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
