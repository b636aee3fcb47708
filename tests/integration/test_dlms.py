"""DLMS/COSEM push meters (Austrian M-Bus, Nordic and Swiss HDLC) through the whole
integration: detection in the config flow, keys only when needed, entities per family."""

from __future__ import annotations

import json
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_gateway.const import CONF_AUTH_KEY, CONF_KEY, DOMAIN

from ..conftest import FIXTURES
from .conftest import MeterServer, network_entry, setup_entry

DLMS = FIXTURES / "dlms"


def _vectors() -> dict[str, dict[str, str | None]]:
    """Keys per vector id, from the fixtures' copy of dlms_vectors.json."""
    data = json.loads((DLMS / "dlms_vectors.json").read_text(encoding="utf-8"))
    return {vector["id"]: vector for vector in data}


def frame(vector_id: str) -> bytes:
    """The wire bytes of one vector."""
    return bytes.fromhex((DLMS / f"{vector_id}.hex").read_text().strip())


@pytest.fixture(autouse=True)
def short_listening() -> None:
    """Listen for a second instead of 20 (the meters here send immediately)."""
    with (
        patch("custom_components.energy_gateway.probe.FIRST_MESSAGE_TIMEOUT", 1.0),
        patch("custom_components.energy_gateway.probe.AUTO_MODE_TIMEOUT", 0.5),
    ):
        yield


async def _network_flow(hass: HomeAssistant, port: int) -> dict:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "dlms" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dlms"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dlms_network"}
    )
    assert result["step_id"] == "dlms_network"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )


async def test_plain_hdlc_meter_added(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """An unencrypted Aidon HAN port is found and added without any key question."""
    meter_server.greeting = frame("hdlc_norway_han_3phase")
    result = await _network_flow(hass, meter_server.port)
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"]["encrypted"] == "no"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["source"] == "dlms"
    await hass.async_block_till_done()


async def test_encrypted_mbus_meter_asks_for_key(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """An Austrian M-Bus push: the flow says what it sees, refuses a wrong key (no tag to
    check: the plaintext does not parse) and adds the meter with the right one."""
    vector = _vectors()["at_netznoe_kaifa_ma309m_evn_doc_example"]
    meter_server.greeting = frame(vector["id"])
    result = await _network_flow(hass, meter_server.port)
    assert result["step_id"] == "dlms_key"
    placeholders = result["description_placeholders"]
    assert placeholders["framing"] == "M-Bus"
    assert placeholders["security"] == "0x20"
    assert placeholders["manufacturer"] == "Kaifa"
    assert placeholders["system_title"].startswith("4B464D")  # "KFM"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: "00" * 16}
    )
    assert result["errors"] == {"base": "wrong_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: vector["key"]}
    )
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_KEY] == str(vector["key"]).lower()
    await hass.async_block_till_done()


async def test_authenticated_hdlc_meter(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Kamstrup Omnipower with security 0x30: a wrong authentication key is refused."""
    vector = _vectors()["hdlc_kamstrup_omnipower"]
    meter_server.greeting = frame(vector["id"])
    result = await _network_flow(hass, meter_server.port)
    assert result["step_id"] == "dlms_key"
    assert result["description_placeholders"]["security"] == "0x30"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: vector["key"], CONF_AUTH_KEY: "11" * 16}
    )
    assert result["errors"] == {"base": "wrong_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: vector["key"], CONF_AUTH_KEY: vector["auth_key"]}
    )
    assert result["step_id"] == "confirm"


FAMILIES = [
    "at_netznoe_kaifa_ma309m_evn_doc_example",
    "at_netznoe_sagemcom_t210d_fkw9",
    "hdlc_landis_gyr_e450",
    "hdlc_kamstrup_omnipower",
    "hdlc_kaifa_ma304h3e",
    "hdlc_norway_han_3phase",
    "hdlc_iskra550",
]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("vector_id", FAMILIES)
async def test_entities_per_family(
    hass: HomeAssistant,
    meter_server: MeterServer,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    vector_id: str,
) -> None:
    """Every value each meter family pushes becomes an entity through the same catalogue."""
    vector = _vectors()[vector_id]
    meter_server.greeting = frame(vector_id)
    keys = {name: vector[name].lower() for name in ("key", "auth_key") if vector.get(name)}
    entry = network_entry(
        meter_server.port,
        unique_id=f"dlms-{vector_id}",
        title=f"Meter {vector_id}",
        source="dlms",
        **keys,
    )
    await setup_entry(hass, entry)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
