"""Config flow: pick the family, listen to the meter, ask for a key only when it is needed.

The per-family steps (`<family>`, `<family>_serial`, `<family>_network`, `<family>_key`) are
generated from the family registry at the end of this module; they all run the same code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.helpers.service_info.usb import UsbServiceInfo

from .bus.flow import ModbusFlowSteps
from .const import (
    CONF_AUTH_KEY,
    CONF_CONNECTION,
    CONF_KEY,
    CONF_PUBLISH_INTERVAL,
    CONF_RECONNECT_WHEN_SILENT,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONF_UNAVAILABLE_AFTER,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
    DEFAULT_PUBLISH_INTERVAL,
    DEFAULT_RECONNECT_WHEN_SILENT,
    DEFAULT_UNAVAILABLE_AFTER,
    DOMAIN,
    LOGGER,
    SERIAL_MODE_AUTO,
)
from .families import (
    DEFAULT_FAMILY,
    FLOW_TEXTS,
    extras_of,
    extras_of_family,
    family_of,
    link_settings,
)
from .find_meter import FindMeterFlowSteps
from .key_entry import KEY_FIELDS, KeyFieldError, key_schema, stored_keys
from .layout_names import async_found_words
from .meterlib.core.frame import FrameInfo
from .meterlib.core.model import Snapshot
from .meterlib.families import FAMILIES
from .meterlib.links.connections import describe_link, list_serial_ports, stable_port_path
from .options_polled import polled_options_schema
from .port_field import PORT_SELECTOR, port_error, serial_port_selector
from .probe import ProbeOutcome, probe_meter
from .probe_polled import probe_polled_meter
from .schema import vol
from .upstream import is_upstream
from .upstream.config_flow_steps import UpstreamFlowSteps

_SERIAL_WORDING = frozenset(("not_decodable", "crc_failures"))
"""Errors whose advice is about serial settings: a network link has its own words."""


def _mode_selector(source: str, *, auto: bool) -> SelectSelector:
    """Serial settings the family uses, optionally with automatic detection first."""
    modes = [SERIAL_MODE_AUTO] if auto else []
    return SelectSelector(
        SelectSelectorConfig(
            options=[*modes, *FAMILIES[source].serial_presets],
            mode=SelectSelectorMode.DROPDOWN,
            translation_key=CONF_SERIAL_MODE,
        )
    )


def meter_unique_id(snapshot: Snapshot, source: str) -> str:
    """The meter's own id; meters that send none (Swedish P1, plain HAN lists without a
    meter number) fall back to the source and their header."""
    if snapshot.meter_id:
        return snapshot.meter_id
    return f"{source}-{snapshot.header or 'meter'}"


def meter_title(snapshot: Snapshot, source: str) -> str:
    """Entry title: the manufacturer (when known), the kind and the meter id."""
    maker = snapshot.manufacturer
    kind = FLOW_TEXTS[source].meter_noun
    name = f"{maker} {kind}" if maker else kind.capitalize()
    return f"{name} {snapshot.meter_id}" if snapshot.meter_id else name


def _step_id(source: str, step: str) -> str:
    """A shared step's id, or the family's own wording of it."""
    return f"{source}_{step}" if step in FLOW_TEXTS[source].own_steps else step


def _frame_placeholders(frame: FrameInfo | None) -> dict[str, str]:
    """What an encrypted DLMS source showed before its key was known."""
    if frame is None:
        return {"framing": "-", "security": "-", "manufacturer": "-", "system_title": "-"}
    title = frame.system_title
    return {
        "framing": {"mbus": "M-Bus", "hdlc": "HDLC"}.get(frame.framing, frame.framing),
        "security": "-" if frame.security_control is None else f"0x{frame.security_control:02X}",
        "manufacturer": frame.manufacturer or "-",
        "system_title": title.hex().upper() if title else "-",
    }


class EnergyGatewayConfigFlow(
    FindMeterFlowSteps, ModbusFlowSteps, UpstreamFlowSteps, domain=DOMAIN
):
    """Add a meter from the UI."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known about the meter."""
        self._data: dict[str, Any] = {}
        self._snapshot: Snapshot | None = None
        self._frame: FrameInfo | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Options: publish interval and silence handling; a Modbus bus's meters."""
        own_flow = extras_of(config_entry.data).options_flow
        return own_flow() if own_flow is not None else EnergyGatewayOptionsFlow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Meters have options; an upstream portal entry is changed by reconfiguring."""
        return not is_upstream(config_entry.data)

    async def async_step_usb(self, discovery_info: UsbServiceInfo) -> ConfigFlowResult:
        """A USB P1 cable was plugged in: offer to listen to the meter on it."""
        path = await self.hass.async_add_executor_job(stable_port_path, discovery_info.device)
        for entry in self._async_current_entries(include_ignore=False):
            if entry.data.get(CONF_SERIAL_PORT) in (path, discovery_info.device):
                return self.async_abort(reason="already_configured")
        # Until a meter answers, the cable is what this flow is about (and what "ignore" keeps).
        await self.async_set_unique_id(f"usb-{discovery_info.serial_number or path}")
        self._abort_if_unique_id_configured()
        self._data = {
            CONF_SOURCE: DEFAULT_FAMILY,
            CONF_CONNECTION: CONNECTION_SERIAL,
            CONF_SERIAL_PORT: path,
            CONF_SERIAL_MODE: SERIAL_MODE_AUTO,
        }
        self.context["title_placeholders"] = {"name": discovery_info.description or path}
        return await self.async_step_usb_confirm()

    async def async_step_usb_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before listening: trying each serial setting takes up to half a minute."""
        errors: dict[str, str] = {}
        if (
            user_input is not None
            and (result := await self._async_listen_then_continue(errors)) is not None
        ):
            return result
        self._set_confirm_only()
        return self.async_show_form(
            step_id="usb_confirm",
            errors=errors,
            description_placeholders={"port": self._data[CONF_SERIAL_PORT]},
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Find the meter by listening, or pick the kind of meter interface."""
        return self.async_show_menu(step_id="user", menu_options=["find", *FAMILIES, "upstream"])

    def _connection_menu(self, source: str) -> ConfigFlowResult:
        """The family is chosen: through a serial cable or a network bridge?"""
        self._data = {CONF_SOURCE: source}
        return self.async_show_menu(
            step_id=source, menu_options=[f"{source}_serial", f"{source}_network"]
        )

    @property
    def _source(self) -> str:
        return family_of(self._data).id

    async def _async_serial_step(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose a serial port from the system's list, or type one; then listen."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._data.update(user_input, connection=CONNECTION_SERIAL)
            if (result := await self._async_listen_then_continue(errors)) is not None:
                return result
        ports = await self.hass.async_add_executor_job(list_serial_ports)
        schema = vol.Schema(
            {
                vol.Required(CONF_SERIAL_PORT): serial_port_selector(ports),
                vol.Required(CONF_SERIAL_MODE, default=SERIAL_MODE_AUTO): _mode_selector(
                    self._source, auto=True
                ),
            }
        )
        return self.async_show_form(
            step_id=f"{self._source}_serial",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def _async_network_step(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter a bridge's host and port; then listen."""
        errors: dict[str, str] = {}
        if user_input is not None and (error := port_error(user_input[CONF_PORT])) is not None:
            errors[CONF_PORT] = error
        elif user_input is not None:
            self._data.update(
                {CONF_HOST: user_input[CONF_HOST].strip(), CONF_PORT: int(user_input[CONF_PORT])},
                connection=CONNECTION_NETWORK,
            )
            if (result := await self._async_listen_then_continue(errors)) is not None:
                return result
        schema = vol.Schema(
            {vol.Required(CONF_HOST): TextSelector(), vol.Required(CONF_PORT): PORT_SELECTOR}
        )
        return self.async_show_form(
            step_id=f"{self._source}_network",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def _async_listen_then_continue(self, errors: dict[str, str]) -> ConfigFlowResult | None:
        """Listen with the collected settings: confirm, ask for a key, or fill `errors`."""
        error = await self._async_listen()
        if error is None:
            return await self._async_after_listen()
        if (other := await self._async_other_family(error)) is not None:
            return other
        if error == "key_required":
            return await self._async_key_step(None)
        errors["base"] = error
        return None

    async def _async_key_step(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the key (only ever shown after encrypted data was seen)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                self._data.update(stored_keys(family_of(self._data), user_input))
            except KeyFieldError as err:
                errors[err.field] = self._worded("invalid_key")
            else:
                if (error := await self._async_listen()) is None:
                    return await self._async_after_listen()
                errors.update(await self._async_key_refused(error))
        return self.async_show_form(
            step_id=f"{self._source}_key",
            data_schema=vol.Schema(key_schema(family_of(self._data))),
            errors=errors,
            description_placeholders={
                "link": describe_link(link_settings(self._data)),
                **_frame_placeholders(self._frame),
            },
        )

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what was found before the meter is added."""
        assert self._snapshot is not None
        if user_input is not None:
            return self.async_create_entry(
                title=meter_title(self._snapshot, self._source), data=self._data
            )
        placeholders = self._found_placeholders(self._snapshot)
        placeholders |= await async_found_words(self.hass, self._snapshot)
        return self.async_show_form(
            step_id=_step_id(self._source, "confirm"), description_placeholders=placeholders
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the port, host or key of an existing meter."""
        entry = self._get_reconfigure_entry()
        if is_upstream(entry.data):
            return await self.async_step_upstream_reconfigure()
        own_step = extras_of(entry.data).reconfigure_step
        if own_step is not None:
            step: Callable[[dict[str, Any] | None], Awaitable[ConfigFlowResult]] = getattr(
                self, f"async_step_{own_step}"
            )
            return await step(user_input)
        errors: dict[str, str] = {}
        if user_input is not None and (bad_port := port_error(user_input.get(CONF_PORT, 1))):
            errors[CONF_PORT] = bad_port
        elif user_input is not None:
            settings = {k: v for k, v in user_input.items() if k not in KEY_FIELDS}
            self._data = {**entry.data, **settings}
            if CONF_PORT in user_input:
                self._data[CONF_PORT] = int(user_input[CONF_PORT])
            try:
                keys = stored_keys(family_of(entry.data), user_input)
            except KeyFieldError as err:
                errors[err.field] = self._worded("invalid_key")
            else:
                # An empty key field keeps the stored key (secrets are never shown back).
                self._data.update({name: value for name, value in keys.items() if value})
                if (error := await self._async_listen()) is None:
                    return await self._async_update_same_meter(entry)
                errors.update(await self._async_key_refused(error))
        if entry.data[CONF_CONNECTION] == CONNECTION_SERIAL:
            fields: dict[Any, Any] = {
                vol.Required(CONF_SERIAL_PORT): TextSelector(),
                vol.Required(CONF_SERIAL_MODE): _mode_selector(
                    family_of(entry.data).id, auto=False
                ),
            }
        else:
            fields = {
                vol.Required(CONF_HOST): TextSelector(),
                vol.Required(CONF_PORT): PORT_SELECTOR,
            }
        fields |= key_schema(family_of(entry.data), required=False)
        suggested = {k: v for k, v in entry.data.items() if k not in KEY_FIELDS}
        return self.async_show_form(
            step_id=_step_id(family_of(entry.data).id, "reconfigure"),
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), suggested),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The stored key no longer decrypts the meter's telegrams (or, for an upstream
        portal entry, the portal refused the token)."""
        if is_upstream(entry_data):
            return await self.async_step_upstream_reauth()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new key and check it against live telegrams."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            self._data = dict(entry.data)
            try:
                self._data.update(stored_keys(family_of(entry.data), user_input))
            except KeyFieldError as err:
                errors[err.field] = self._worded("invalid_key")
            else:
                if (error := await self._async_listen()) is None:
                    return await self._async_update_same_meter(entry)
                errors.update(await self._async_key_refused(error))
        return self.async_show_form(
            step_id=_step_id(family_of(entry.data).id, "reauth_confirm"),
            data_schema=vol.Schema(key_schema(family_of(entry.data))),
            errors=errors,
            description_placeholders={"title": entry.title},
        )

    async def _async_update_same_meter(self, entry: ConfigEntry) -> ConfigFlowResult:
        """Store the new settings, unless a different meter answered on them."""
        assert self._snapshot is not None
        await self.async_set_unique_id(meter_unique_id(self._snapshot, self._source))
        self._abort_if_unique_id_mismatch(reason="wrong_meter")
        return self.async_update_reload_and_abort(entry, data=self._data)

    async def _async_listen(self) -> str | None:
        """Listen to the meter with the collected data; None on success, else an error key."""
        probe = probe_polled_meter if family_of(self._data).delivery == "poll" else probe_meter
        try:
            outcome = await probe(self._data)
        except Exception:
            # A bug, not bad input: say so in the form, keep the traceback for the log.
            LOGGER.exception("Unexpected error while listening to the meter")
            outcome = ProbeOutcome(error="unknown")
        self._frame = outcome.frame or self._frame
        if outcome.serial_mode is not None:
            # Also when the key is still missing: the key step reads from the found port.
            self._data[CONF_SERIAL_MODE] = outcome.serial_mode
        if outcome.snapshot is None:
            assert outcome.error is not None
            return self._worded(outcome.error)
        self._snapshot = outcome.snapshot
        return None

    async def _async_after_listen(self) -> ConfigFlowResult:
        """A telegram arrived: refuse a meter that is already set up, then confirm."""
        assert self._snapshot is not None
        await self.async_set_unique_id(meter_unique_id(self._snapshot, self._source))
        self._abort_if_unique_id_configured()
        return await self.async_step_confirm()

    async def _async_key_refused(self, error: str) -> dict[str, str]:
        """A listening error, attached to the key field it concerns. When the frames
        decrypt without the authentication key, that key is the wrong one."""
        if not error.endswith("wrong_key"):
            return {"base": error}
        auth_key = self._data.get(CONF_AUTH_KEY)
        if auth_key:
            self._data[CONF_AUTH_KEY] = None
            decrypts_without = await self._async_listen() is None
            self._data[CONF_AUTH_KEY] = auth_key
            if decrypts_without:
                return {CONF_AUTH_KEY: "wrong_auth_key"}
        return {CONF_KEY: error}

    def _worded(self, error: str) -> str:
        """The error key, in the family's own words when it has them; advice about serial
        settings becomes advice about the bridge on a network link."""
        worded = error
        if error in FLOW_TEXTS[self._source].worded_errors:
            worded = f"{self._source}_{error}"
        if error in _SERIAL_WORDING and self._data.get(CONF_CONNECTION) == CONNECTION_NETWORK:
            return f"{worded}_network"
        return worded

    def _found_placeholders(self, snapshot: Snapshot) -> dict[str, str]:
        return {
            "meter_id": snapshot.meter_id or "-",
            "variant": snapshot.variant or "-",
            "header": snapshot.header or "-",
            "encrypted": "yes" if snapshot.encrypted else "no",
            "readings": str(len(snapshot.readings)),
            "link": describe_link(link_settings(self._data)),
        }


class EnergyGatewayOptionsFlow(OptionsFlow):
    """How often states are written and when a silent meter counts as unavailable."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Edit the options; the entry reloads to apply them."""
        if user_input is not None:
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
            return self.async_create_entry(data=user_input)
        options = self.config_entry.options
        if family_of(self.config_entry.data).delivery == "poll":
            return self.async_show_form(step_id="init", data_schema=polled_options_schema(options))
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_PUBLISH_INTERVAL,
                    default=options.get(CONF_PUBLISH_INTERVAL, DEFAULT_PUBLISH_INTERVAL),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        max=3600,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="s",
                    )
                ),
                vol.Required(
                    CONF_UNAVAILABLE_AFTER,
                    default=options.get(CONF_UNAVAILABLE_AFTER, DEFAULT_UNAVAILABLE_AFTER),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=5,
                        max=3600,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="s",
                    )
                ),
                vol.Required(
                    CONF_RECONNECT_WHEN_SILENT,
                    default=options.get(CONF_RECONNECT_WHEN_SILENT, DEFAULT_RECONNECT_WHEN_SILENT),
                ): BooleanSelector(),
                **extras_of(self.config_entry.data).option_fields(options),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)


type _Step = Callable[
    [EnergyGatewayConfigFlow, dict[str, Any] | None], Coroutine[Any, Any, ConfigFlowResult]
]


def _family_menu(family_id: str) -> _Step:
    """The step that opens a family's connection menu."""

    async def menu(
        flow: EnergyGatewayConfigFlow, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return flow._connection_menu(family_id)

    return menu


def _family_link_step(family_id: str, step: _Step) -> _Step:
    """A family's serial or network step, also when reached without its menu (from
    "find my meter" after a silent link): the flow is then about this family."""

    async def link_step(
        flow: EnergyGatewayConfigFlow, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if flow._data.get(CONF_SOURCE) != family_id:
            flow._data = {CONF_SOURCE: family_id}
        return await step(flow, user_input)

    return link_step


# Every family's steps run the same code; only their ids (and so their texts) differ.
for _family_id in FAMILIES:
    setattr(EnergyGatewayConfigFlow, f"async_step_{_family_id}", _family_menu(_family_id))
    for _suffix, _step in (
        ("serial", _family_link_step(_family_id, EnergyGatewayConfigFlow._async_serial_step)),
        ("network", _family_link_step(_family_id, EnergyGatewayConfigFlow._async_network_step)),
        ("key", EnergyGatewayConfigFlow._async_key_step),
    ):
        if extras_of_family(_family_id).own_connection_steps:
            continue  # e.g. a bus of many meters: its own steps (`ModbusFlowSteps`)
        setattr(EnergyGatewayConfigFlow, f"async_step_{_family_id}_{_suffix}", _step)
    for _shared in FLOW_TEXTS[_family_id].own_steps:
        setattr(
            EnergyGatewayConfigFlow,
            f"async_step_{_family_id}_{_shared}",
            getattr(EnergyGatewayConfigFlow, f"async_step_{_shared}"),
        )
