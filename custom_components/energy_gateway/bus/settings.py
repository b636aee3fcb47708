"""A Modbus bus as a config entry stores it: the entry data, the bus settings and the maps.

One config entry is one bus (an RS485 line, a Modbus TCP meter or an RTU-over-TCP gateway)
with the meters the user confirmed, kept under `meters` as `{address, model, serial}`.
User register maps live in `<config>/energy_gateway/modbus_maps/`; a file that breaks the
schema raises one repair issue naming the file and the field, and is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ..const import CONF_CONNECTION, CONF_SERIAL_PORT, CONNECTION_SERIAL, DOMAIN
from ..meterlib.modbus.choices import (
    DEFAULT_BAUD_RATE,
    DEFAULT_DELAY,
    DEFAULT_PARITY,
    DEFAULT_STOP_BITS,
    DEFAULT_TIMEOUT,
)
from ..meterlib.modbus.client import ModbusBusSettings
from ..meterlib.modbus.poller import MeterAssignment
from ..meterlib.modbus.schema import MapCatalogue, load_maps

MODBUS: Final = "modbus"
"""The family id of Modbus buses."""
CONF_METERS: Final = "meters"
CONF_BAUDRATE: Final = "baudrate"
CONF_PARITY: Final = "parity"
CONF_STOPBITS: Final = "stopbits"
CONF_TIMEOUT: Final = "timeout"
CONF_DELAY: Final = "delay"
CONF_FRAMING: Final = "framing"
USER_MAPS_DIR: Final = "energy_gateway/modbus_maps"
ISSUE_MAP_ERROR: Final = "modbus_map_error"


@dataclass(frozen=True, slots=True)
class ConfiguredMeter:
    """A meter the user confirmed on a bus."""

    address: int
    model: str
    serial: str | None = None
    model_name: str | None = None
    """What the meter's model-code register said (`SDM630`), when its family has one."""

    def as_dict(self) -> dict[str, Any]:
        """Entry-data form."""
        return {
            "address": self.address,
            "model": self.model,
            "serial": self.serial,
            "model_name": self.model_name,
        }


def configured_meters(data: Mapping[str, Any]) -> list[ConfiguredMeter]:
    """The meters stored in entry data, by address."""
    meters = [
        ConfiguredMeter(
            int(item["address"]), str(item["model"]), item.get("serial"), item.get("model_name")
        )
        for item in data.get(CONF_METERS, ())
    ]
    return sorted(meters, key=lambda meter: meter.address)


def assignments(meters: list[ConfiguredMeter], maps: MapCatalogue) -> list[MeterAssignment]:
    """What the poller reads: meters whose map is loaded (a map file that broke since the
    meter was added leaves that meter out, not the bus)."""
    return [MeterAssignment(m.address, m.model) for m in meters if m.model in maps.maps]


def bus_settings(data: Mapping[str, Any]) -> ModbusBusSettings:
    """The bus described by entry data (or a flow's collected data)."""
    line: dict[str, Any] = {
        "baudrate": int(data.get(CONF_BAUDRATE, DEFAULT_BAUD_RATE)),
        "parity": data.get(CONF_PARITY, DEFAULT_PARITY),
        "stopbits": int(data.get(CONF_STOPBITS, DEFAULT_STOP_BITS)),
        "timeout": float(data.get(CONF_TIMEOUT, DEFAULT_TIMEOUT)),
        "delay": float(data.get(CONF_DELAY, DEFAULT_DELAY)),
    }
    # A configured maximum below the library's default floor would be refused.
    line["min_timeout"] = min(0.1, line["timeout"])
    if data[CONF_CONNECTION] == CONNECTION_SERIAL:
        return ModbusBusSettings(serial_port=data[CONF_SERIAL_PORT], **line)
    return ModbusBusSettings(
        host=data[CONF_HOST], port=int(data[CONF_PORT]), framing=data[CONF_FRAMING], **line
    )


def bus_unique_id(settings: ModbusBusSettings) -> str:
    """One entry per bus: the serial port or the host and port."""
    return f"{MODBUS}-{settings.target}"


def user_maps_dir(hass: HomeAssistant) -> Path:
    """Where a user puts register maps for meters we do not ship."""
    return Path(hass.config.path(USER_MAPS_DIR))


async def async_load_catalogue(hass: HomeAssistant) -> MapCatalogue:
    """The built-in and user maps; every broken user file becomes a repair issue."""
    catalogue = await hass.async_add_executor_job(load_maps, [user_maps_dir(hass)])
    report_map_errors(hass, catalogue)
    return catalogue


def report_map_errors(hass: HomeAssistant, catalogue: MapCatalogue) -> None:
    """One repair issue per broken map file; issues of files now fixed are removed."""
    broken = {Path(error.file).name: error for error in catalogue.errors}
    registry = ir.async_get(hass)
    prefix = f"{ISSUE_MAP_ERROR}_"
    for domain, issue_id in list(registry.issues):
        stale = issue_id.startswith(prefix) and issue_id.removeprefix(prefix) not in broken
        if domain == DOMAIN and stale:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    for name, error in broken.items():
        ir.async_create_issue(
            hass,
            DOMAIN,
            f"{prefix}{name}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_MAP_ERROR,
            translation_placeholders={
                "file": error.file,
                "field": error.field,
                "message": error.message,
            },
        )
