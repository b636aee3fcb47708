"""Config-flow steps that find the family: "where is the meter", then listen and recognise.

`find` asks for the link only (a serial port or a network bridge); the library's
`recognise` module tells which push family is on it, and the flow continues in that family's
own steps (key or confirm) with the link already known. A silent link cannot be a push
meter: the polled families, which speak only when asked, are offered instead, with the
connection filled in. The same recognition answers a wrong family choice ("this looks like
X") with a way there (`looks_like`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.selector import (
    TextSelector,
)

from .const import (
    CONF_CONNECTION,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
    FIRST_MESSAGE_TIMEOUT,
    LOGGER,
    SERIAL_MODE_AUTO,
)
from .families import family_of, link_settings
from .link_errors import link_error_key
from .meterlib.core.errors import LinkError
from .meterlib.families import FAMILIES
from .meterlib.links.connections import (
    TcpSettings,
    create_link,
    describe_link,
    list_serial_ports,
    serial_settings_for,
)
from .meterlib.links.recognise import Recognition, recognise_link, recognise_serial
from .port_field import PORT_SELECTOR, port_error, serial_port_selector
from .probe import AUTO_MODE_TIMEOUT
from .schema import vol

if TYPE_CHECKING:
    from .meterlib.core.family import Family

LISTEN_TIMEOUT = FIRST_MESSAGE_TIMEOUT
"""Seconds to listen on a bridge: as long as a family's own first listen."""
LISTEN_TIMEOUT_PER_SETTING = AUTO_MODE_TIMEOUT
"""Seconds per serial setting: as long as automatic detection gives each."""

_NOT_HEARD = frozenset(
    ("port_not_found", "permission_denied", "cannot_connect", "unknown", "unsupported_list")
)
"""Listening errors that say nothing about what is on the link."""


def _describe(link: Mapping[str, Any]) -> str:
    """The link as the forms name it (a serial port without a setting: none was heard)."""
    if link[CONF_CONNECTION] == CONNECTION_SERIAL:
        return f"serial {link[CONF_SERIAL_PORT]}"
    return describe_link(TcpSettings(host=link[CONF_HOST], port=int(link[CONF_PORT])))


def _push_families() -> list[Family]:
    return [family for family in FAMILIES.values() if family.delivery == "push"]


def polled_family_steps(connection: str) -> list[str]:
    """The steps of every polled family for a link of this kind (`mep_serial`, ...)."""
    return [
        f"{family.id}_{connection}" for family in FAMILIES.values() if family.delivery == "poll"
    ]


async def async_recognise(data: Mapping[str, Any]) -> Recognition:
    """Listen on the link in `data` and tell which push family it carries.

    A serial port with a known setting is heard with that setting only; otherwise every
    push family's settings are tried. Raises LinkError (and its port errors).
    """
    families = _push_families()
    if data[CONF_CONNECTION] == CONNECTION_NETWORK:
        settings = TcpSettings(host=data[CONF_HOST], port=int(data[CONF_PORT]))
        return await recognise_link(create_link(settings), families, LISTEN_TIMEOUT)
    path = data[CONF_SERIAL_PORT]
    preset = data.get(CONF_SERIAL_MODE, SERIAL_MODE_AUTO)
    if preset == SERIAL_MODE_AUTO:
        return await recognise_serial(path, families, LISTEN_TIMEOUT_PER_SETTING)
    found = await recognise_link(
        create_link(serial_settings_for(path, preset)), families, LISTEN_TIMEOUT_PER_SETTING
    )
    return Recognition(found.family, found.format_name, preset, found.bytes_received)


class FindMeterFlowSteps(ConfigFlow):
    """The config flow's "find my meter" steps (mixed into the integration's flow)."""

    _data: dict[str, Any]
    _prefill: Mapping[str, Any] = {}
    """Connection fields a polled family's form starts with, after a silent link."""
    _recognised: Recognition | None = None
    _chosen_name: str = ""
    """The family the user picked, when the link turned out to carry another."""

    async def _async_listen_then_continue(self, errors: dict[str, str]) -> ConfigFlowResult | None:
        raise NotImplementedError  # the integration's flow listens

    async def async_step_find(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Where is the meter: on a serial port or behind a network bridge?"""
        return self.async_show_menu(step_id="find", menu_options=["find_serial", "find_network"])

    async def async_step_find_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the port; Home Assistant listens with each family's serial settings."""
        errors: dict[str, str] = {}
        if user_input is not None:
            link = {
                CONF_CONNECTION: CONNECTION_SERIAL,
                CONF_SERIAL_PORT: user_input[CONF_SERIAL_PORT],
            }
            if (result := await self._async_find(link, errors)) is not None:
                return result
        ports = await self.hass.async_add_executor_job(list_serial_ports)
        schema = vol.Schema({vol.Required(CONF_SERIAL_PORT): serial_port_selector(ports)})
        return self.async_show_form(
            step_id="find_serial",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def async_step_find_network(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter the bridge's host and port; Home Assistant listens to it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if (error := port_error(user_input.get(CONF_PORT))) is not None:
                errors[CONF_PORT] = error
            else:
                link = {
                    CONF_CONNECTION: CONNECTION_NETWORK,
                    CONF_HOST: str(user_input[CONF_HOST]).strip(),
                    CONF_PORT: int(user_input[CONF_PORT]),
                }
                if (result := await self._async_find(link, errors)) is not None:
                    return result
        schema = vol.Schema(
            {vol.Required(CONF_HOST): TextSelector(), vol.Required(CONF_PORT): PORT_SELECTOR}
        )
        return self.async_show_form(
            step_id="find_network",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def _async_find(
        self, link: dict[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Recognise the family on `link` and continue in its steps, or fill `errors`."""
        if (found := await self._async_recognise(link, errors)) is None:
            return None
        if found.family is None:
            if found.bytes_received == 0:
                self._prefill = link
                return self._silent_menu(link[CONF_CONNECTION])
            errors["base"] = "find_unknown_format"
            return None
        self._data = {CONF_SOURCE: found.family.id, **link}
        if found.serial_preset is not None:
            self._data[CONF_SERIAL_MODE] = found.serial_preset
        self._recognised = found
        return await self._async_listen_then_continue(errors)

    async def _async_recognise(
        self, link: Mapping[str, Any], errors: dict[str, str]
    ) -> Recognition | None:
        """Listen on `link`; None (with `errors` filled) when it cannot be opened."""
        try:
            return await async_recognise(link)
        except LinkError as err:
            errors["base"] = link_error_key(err)
        except Exception:
            # A bug, not bad input: say so in the form, keep the traceback for the log.
            LOGGER.exception("Unexpected error while listening for a meter")
            errors["base"] = "unknown"
        return None

    def _silent_menu(self, connection: str) -> ConfigFlowResult:
        """Nothing was heard: offer the families that answer only when asked."""
        return self.async_show_menu(
            step_id=f"find_silent_{connection}",
            menu_options=[*polled_family_steps(connection), "find"],
            description_placeholders={"link": _describe(self._prefill)},
        )

    async def async_step_find_silent_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A silent serial port: MEP and Modbus meters speak only when asked."""
        return self._silent_menu(CONNECTION_SERIAL)

    async def async_step_find_silent_network(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A silent bridge: a Modbus TCP gateway or an MEP bridge speaks only when asked."""
        return self._silent_menu(CONNECTION_NETWORK)

    def async_show_form(self, **kwargs: Any) -> ConfigFlowResult:
        """Start a polled family's connection form with the link that stayed silent."""
        schema = kwargs.get("data_schema")
        if self._prefill and schema is not None and not kwargs.get("errors"):
            kwargs["data_schema"] = self.add_suggested_values_to_schema(schema, self._prefill)
        return super().async_show_form(**kwargs)

    async def _async_other_family(self, error: str) -> ConfigFlowResult | None:
        """After the chosen family failed to read the link: does it carry another family?"""
        chosen = family_of(self._data)
        if chosen.delivery != "push" or error in _NOT_HEARD or error.endswith("no_data"):
            return None
        if self._recognised is not None and self._recognised.family is chosen:
            return None  # recognised just now: hearing it again would say the same
        found = await self._async_recognise(self._data, {})
        if found is None or found.family is None or found.family is chosen:
            return None
        self._recognised = found
        self._chosen_name = chosen.name
        return await self.async_step_looks_like()

    async def async_step_looks_like(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Answer a wrong family choice with "this looks like X", and continue as X."""
        found = self._recognised
        assert found is not None
        assert found.family is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            self._data[CONF_SOURCE] = found.family.id
            if found.serial_preset is not None:
                self._data[CONF_SERIAL_MODE] = found.serial_preset
            if (result := await self._async_listen_then_continue(errors)) is not None:
                return result
        return self.async_show_form(
            step_id="looks_like",
            errors=errors,
            description_placeholders={
                "link": describe_link(link_settings(self._data)),
                "found": found.family.format_title(found.format_name),
                "chosen": self._chosen_name,
            },
        )
