"""The upstream portal entry's config flow, reconfigure, diagnostics and a real meter's
snapshots reaching the portal; against the aiohttp test portal on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
import socket
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_gateway.bus.settings import (
    CONF_FRAMING,
    CONF_METERS as BUS_METERS,
    CONF_TIMEOUT,
)
from custom_components.energy_gateway.const import (
    CONF_CONNECTION,
    CONF_POLL_INTERVAL,
    CONF_SOURCE,
    CONNECTION_NETWORK,
    DOMAIN,
)
from custom_components.energy_gateway.meterlib.families import FAMILIES
from custom_components.energy_gateway.upstream.const import (
    CONF_ALLOW_HTTP,
    CONF_GATEWAY_ID,
    CONF_METERS,
    CONF_PAYLOAD_FORMAT,
    CONF_PUSH_INTERVAL,
    CONF_RETENTION_DAYS,
    ENTRY_KIND,
    KIND_UPSTREAM,
)
from simulators.modbus_fleet import ModbusFleet
from simulators.upstream_portal import TOKEN, Portal

from ..fake_polled_family import FAKE_FAMILY, FAMILY_ID, FakeMeter
from .upstream_helpers import upstream_entry


def _form(portal: Portal, **changes: Any) -> dict[str, Any]:
    return {
        CONF_URL: portal.url,
        CONF_ALLOW_HTTP: True,
        CONF_TOKEN: TOKEN,
        CONF_GATEWAY_ID: "site-1",
        CONF_PAYLOAD_FORMAT: "v1",
        CONF_PUSH_INTERVAL: 30,
        CONF_METERS: [],
        CONF_RETENTION_DAYS: 7,
    } | changes


async def _open_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "upstream" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "upstream"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "upstream"
    return result["flow_id"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_add_the_portal(hass: HomeAssistant, portal: Portal) -> None:
    """Test, show the portal's answer, confirm: the entry is added and set up."""
    flow_id = await _open_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, _form(portal))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "upstream_confirm"
    assert result["description_placeholders"] == {
        "status": "200",
        "answer": '{"stored": "test-site-1"}',
    }
    assert portal.keys_seen == {"test-site-1": 1}
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Upstream 127.0.0.1"
    assert result["data"] == _form(portal) | {ENTRY_KIND: KIND_UPSTREAM}
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    # An upstream entry has no meter options.
    assert not hass.config_entries.async_get_entry(entry.entry_id).supports_options
    again = await _open_form(hass)
    result = await hass.config_entries.flow.async_configure(again, _form(portal))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "upstream_already_configured"


async def test_default_gateway_id_comes_from_the_instance(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "upstream"}
    )
    schema = result["data_schema"].schema
    suggested = {str(key): key.description["suggested_value"] for key in schema if key.description}
    assert suggested[CONF_GATEWAY_ID].startswith("ha-")
    assert len(suggested[CONF_GATEWAY_ID]) == 15


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({CONF_ALLOW_HTTP: False}, "upstream_invalid_url"),
        ({CONF_URL: "not a url"}, "upstream_invalid_url"),
        ({CONF_TOKEN: "wrong"}, "upstream_token_rejected"),
    ],
)
async def test_errors(
    hass: HomeAssistant, portal: Portal, changes: dict[str, Any], error: str
) -> None:
    flow_id = await _open_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, _form(portal, **changes))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


async def test_unreachable_tls_timeout_and_refusal(hass: HomeAssistant, portal: Portal) -> None:
    """Nothing listening, TLS to a plain-HTTP server, a slow answer, a 422: each its own
    error, the portal's answer shown with the refusal."""
    flow_id = await _open_form(hass)
    closed = f"http://127.0.0.1:{_free_port()}/ingest"
    result = await hass.config_entries.flow.async_configure(flow_id, _form(portal, url=closed))
    assert result["errors"] == {"base": "upstream_unreachable"}
    tls = portal.url.replace("http://", "https://")
    result = await hass.config_entries.flow.async_configure(flow_id, _form(portal, url=tls))
    assert result["errors"] == {"base": "upstream_tls_error"}
    portal.behaviour.delay = 1.0
    with patch("custom_components.energy_gateway.upstream.config_flow_steps.REQUEST_TIMEOUT", 0.3):
        result = await hass.config_entries.flow.async_configure(flow_id, _form(portal))
    assert result["errors"] == {"base": "upstream_timeout"}
    portal.behaviour.delay = 0.0
    portal.behaviour.statuses = [422]
    result = await hass.config_entries.flow.async_configure(flow_id, _form(portal))
    assert result["errors"] == {"base": "upstream_refused"}
    assert result["description_placeholders"] == {
        "status": "422",
        "answer": '{"error": "not now"}',
    }


async def test_reconfigure_keeps_the_token_when_left_empty(
    hass: HomeAssistant, portal: Portal
) -> None:
    entry = upstream_entry(portal)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "upstream_reconfigure"
    changed = _form(portal, push_interval=60, payload_format="ampx")
    del changed[CONF_TOKEN]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], changed)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "upstream_reconfigured"
    assert entry.data[CONF_PUSH_INTERVAL] == 60
    assert entry.data[CONF_PAYLOAD_FORMAT] == "ampx"
    assert entry.data[CONF_TOKEN] == TOKEN


async def test_diagnostics_never_show_the_token(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, portal: Portal
) -> None:
    entry = upstream_entry(portal)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert TOKEN not in str(result)
    assert result["entry"]["data"][CONF_TOKEN] == "**REDACTED**"
    assert result["status"]["backlog"] == 0
    assert result["status"]["halted"] is None


@pytest.fixture
def fake_family_registered() -> Iterator[None]:
    with patch.dict(FAMILIES, {FAMILY_ID: FAKE_FAMILY}):
        yield


@pytest.mark.usefixtures("fake_family_registered")
async def test_a_real_meter_reaches_the_portal(
    hass: HomeAssistant, portal: Portal, fake_meter: FakeMeter
) -> None:
    """A polled meter over TCP: each snapshot its coordinator shows is delivered once."""
    meter = MockConfigEntry(
        domain=DOMAIN,
        title="Fake meter FAKE0001",
        unique_id="FAKE0001",
        data={
            CONF_SOURCE: FAMILY_ID,
            CONF_CONNECTION: CONNECTION_NETWORK,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: fake_meter.port,
        },
        options={CONF_POLL_INTERVAL: 5},
    )
    upstream = upstream_entry(portal)
    upstream.add_to_hass(hass)
    meter.add_to_hass(hass)
    assert await hass.config_entries.async_setup(upstream.entry_id)
    await hass.async_block_till_done()
    assert meter.runtime_data.coordinator.latest is not None
    await upstream.runtime_data.async_refresh()
    (body,) = portal.batches.values()
    (sent,) = body["meters"]
    assert (sent["meter_id"], sent["source"]) == ("FAKE0001", FAMILY_ID)
    assert len(sent["snapshots"]) == 1
    assert sent["snapshots"][0]["readings"]


async def test_every_meter_of_a_modbus_bus_reaches_the_portal(
    hass: HomeAssistant, portal: Portal
) -> None:
    """A bus is one entry with many meters: each is sent under its own id (the entry's id
    and its address) with the serial it reports, never merged into one meter."""
    fleet = ModbusFleet.of_models({1: "eastron_sdm630", 5: "abb_b23_b24"})
    port = await fleet.start_tcp(framing="tcp")
    try:
        bus = MockConfigEntry(
            domain=DOMAIN,
            title=f"Modbus 127.0.0.1:{port}",
            unique_id="modbus-bus",
            data={
                CONF_SOURCE: "modbus",
                CONF_CONNECTION: CONNECTION_NETWORK,
                CONF_HOST: "127.0.0.1",
                CONF_PORT: port,
                CONF_FRAMING: "tcp",
                CONF_TIMEOUT: 0.5,
                BUS_METERS: [
                    {"address": 1, "model": "eastron_sdm630", "serial": "10000001"},
                    {"address": 5, "model": "abb_b23_b24", "serial": "10000005"},
                ],
            },
        )
        upstream = upstream_entry(portal)
        upstream.add_to_hass(hass)
        bus.add_to_hass(hass)
        assert await hass.config_entries.async_setup(upstream.entry_id)
        await hass.async_block_till_done()
        assert bus.state is ConfigEntryState.LOADED
        await upstream.runtime_data.async_refresh()
        sent = {
            meter["meter_id"]: meter for body in portal.batches.values() for meter in body["meters"]
        }
        assert set(sent) == {"modbus-bus-1", "modbus-bus-5"}
        for meter in sent.values():
            assert meter["source"] == "modbus"
            assert meter["snapshots"][0]["readings"]
        assert sent["modbus-bus-1"]["serial"] != sent["modbus-bus-5"]["serial"]
    finally:
        await hass.config_entries.async_unload(upstream.entry_id)
        await fleet.stop()
