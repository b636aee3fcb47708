"""Config flow steps of the upstream portal entry: add, confirm, reconfigure, reauthenticate.

A base class of the integration's flow (`config_flow.py` only routes to it). Every form
tests the settings with an authenticated request before anything is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_TOKEN, CONF_URL
from homeassistant.helpers import instance_id
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..const import DOMAIN, LOGGER
from ..schema import vol
from . import is_upstream
from .const import (
    CONF_ALLOW_HTTP,
    CONF_GATEWAY_ID,
    CONF_METERS,
    CONF_PAYLOAD_FORMAT,
    CONF_PUSH_INTERVAL,
    CONF_RETENTION_DAYS,
    DEFAULT_PUSH_INTERVAL,
    DEFAULT_RETENTION_DAYS,
    ENTRY_KIND,
    KIND_UPSTREAM,
    REQUEST_TIMEOUT,
)
from .payload import FORMAT_AMPX, FORMAT_V1, probe_body
from .sender import Answer, Outcome, check_url, post

_ERRORS: Mapping[Outcome, str] = {
    Outcome.BAD_URL: "upstream_invalid_url",
    Outcome.TLS_ERROR: "upstream_tls_error",
    Outcome.AUTH_REJECTED: "upstream_token_rejected",
    Outcome.TIMEOUT: "upstream_timeout",
    Outcome.UNREACHABLE: "upstream_unreachable",
}
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _number(low: int, high: int, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=low, max=high, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement=unit
        )
    )


def _schema(flow: ConfigFlow, *, token_required: bool) -> vol.Schema:
    """The settings form (a stored token is never shown back)."""
    meters = [
        SelectOptionDict(value=entry.entry_id, label=entry.title)
        for entry in flow.hass.config_entries.async_entries(DOMAIN)
        if not is_upstream(entry.data)
    ]
    token = vol.Required(CONF_TOKEN) if token_required else vol.Optional(CONF_TOKEN)
    return vol.Schema(
        {
            vol.Required(CONF_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
            vol.Required(CONF_ALLOW_HTTP, default=False): BooleanSelector(),
            token: _PASSWORD,
            vol.Required(CONF_GATEWAY_ID): TextSelector(),
            vol.Required(CONF_PAYLOAD_FORMAT, default=FORMAT_V1): SelectSelector(
                SelectSelectorConfig(
                    options=[FORMAT_V1, FORMAT_AMPX],
                    mode=SelectSelectorMode.LIST,
                    translation_key=CONF_PAYLOAD_FORMAT,
                )
            ),
            vol.Required(CONF_PUSH_INTERVAL, default=DEFAULT_PUSH_INTERVAL): _number(5, 3600, "s"),
            vol.Optional(CONF_METERS, default=[]): SelectSelector(
                SelectSelectorConfig(
                    options=meters, multiple=True, mode=SelectSelectorMode.DROPDOWN
                )
            ),
            vol.Required(CONF_RETENTION_DAYS, default=DEFAULT_RETENTION_DAYS): _number(1, 90, "d"),
        }
    )


def _settings(user_input: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """Entry data from a form; an empty token field keeps the stored token."""
    data = {**stored, **user_input, ENTRY_KIND: KIND_UPSTREAM}
    data[CONF_URL] = str(user_input[CONF_URL]).strip()
    data[CONF_GATEWAY_ID] = str(user_input[CONF_GATEWAY_ID]).strip()
    data[CONF_TOKEN] = str(user_input.get(CONF_TOKEN) or stored.get(CONF_TOKEN, "")).strip()
    data[CONF_PUSH_INTERVAL] = int(user_input[CONF_PUSH_INTERVAL])
    data[CONF_RETENTION_DAYS] = int(user_input[CONF_RETENTION_DAYS])
    data[CONF_METERS] = list(user_input.get(CONF_METERS) or [])
    return data


async def _test(flow: ConfigFlow, data: Mapping[str, Any]) -> tuple[str | None, Answer]:
    """Send an empty batch with the token; an error key, or None when the portal took it."""
    if check_url(data[CONF_URL], allow_http=bool(data.get(CONF_ALLOW_HTTP))) is None:
        return "upstream_invalid_url", Answer(Outcome.BAD_URL)
    try:
        answer = await post(
            async_get_clientsession(flow.hass),
            data[CONF_URL],
            data[CONF_TOKEN],
            probe_body(data[CONF_GATEWAY_ID], data.get(CONF_PAYLOAD_FORMAT, FORMAT_V1)),
            key=f"test-{data[CONF_GATEWAY_ID]}",
            gzipped=False,
            seconds=REQUEST_TIMEOUT,
        )
    except Exception:  # a bug, not the portal: say so in the form, keep the traceback
        LOGGER.exception("Unexpected error while testing the upstream portal")
        return "unknown", Answer(Outcome.UNREACHABLE)
    if answer.outcome is Outcome.DELIVERED:
        return None, answer
    return _ERRORS.get(answer.outcome, "upstream_refused"), answer


def _placeholders(answer: Answer | None) -> dict[str, str]:
    """The portal's answer, shown in the form."""
    if answer is None or answer.status is None:
        return {"status": "-", "answer": (answer.text if answer else "") or "-"}
    return {"status": str(answer.status), "answer": answer.text or "-"}


class UpstreamFlowSteps(ConfigFlow):
    """The upstream portal entry's steps; `EnergyGatewayConfigFlow` derives from this."""

    upstream_data: dict[str, Any]
    """The tested settings, until the user confirms them."""

    async def async_step_upstream(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the portal's settings, test them, then show the portal's answer."""
        errors: dict[str, str] = {}
        answer: Answer | None = None
        if user_input is not None:
            data = _settings(user_input, {})
            for entry in self.hass.config_entries.async_entries(DOMAIN):
                same = (entry.data.get(CONF_URL), entry.data.get(CONF_GATEWAY_ID))
                if is_upstream(entry.data) and same == (data[CONF_URL], data[CONF_GATEWAY_ID]):
                    return self.async_abort(reason="upstream_already_configured")
            error, answer = await _test(self, data)
            if error is None:
                self.upstream_data = data
                return self.async_show_form(
                    step_id="upstream_confirm", description_placeholders=_placeholders(answer)
                )
            errors["base"] = error
        suggested = user_input or {
            CONF_GATEWAY_ID: f"ha-{(await instance_id.async_get(self.hass))[:12]}",
            CONF_URL: "https://",
        }
        return self.async_show_form(
            step_id="upstream",
            data_schema=self.add_suggested_values_to_schema(
                _schema(self, token_required=True), suggested
            ),
            errors=errors,
            description_placeholders=_placeholders(answer),
        )

    async def async_step_upstream_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The portal accepted the test: add the entry."""
        data = self.upstream_data
        host = check_url(data[CONF_URL], allow_http=True)
        return self.async_create_entry(
            title=f"Upstream {host.host if host else data[CONF_URL]}", data=data
        )

    async def async_step_upstream_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change any setting; an empty token keeps the stored one."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        answer: Answer | None = None
        if user_input is not None:
            data = _settings(user_input, entry.data)
            error, answer = await _test(self, data)
            if error is None:
                return self.async_update_reload_and_abort(
                    entry, data=data, reason="upstream_reconfigured"
                )
            errors["base"] = error
        suggested = {k: v for k, v in entry.data.items() if k != CONF_TOKEN}
        return self.async_show_form(
            step_id="upstream_reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _schema(self, token_required=False), user_input or suggested
            ),
            errors=errors,
            description_placeholders=_placeholders(answer),
        )

    async def async_step_upstream_reauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The portal refused the token: ask for a new one and test it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        answer: Answer | None = None
        if user_input is not None:
            data = {**entry.data, CONF_TOKEN: str(user_input[CONF_TOKEN]).strip()}
            error, answer = await _test(self, data)
            if error is None:
                return self.async_update_reload_and_abort(
                    entry, data=data, reason="upstream_reauth_successful"
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="upstream_reauth",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): _PASSWORD}),
            errors=errors,
            description_placeholders={"title": entry.title, **_placeholders(answer)},
        )
