"""Config and options flow of a Modbus bus: the bus, a scan, the meters the user confirms.

Adding: `modbus` (menu) -> `modbus_serial` or `modbus_network` -> `modbus_scan` (an address
range; the scan itself runs as the progress step `modbus_scanning`) -> `modbus_meters` (one
choice per unit that answered: the map it was identified as, another map, or "skip"; a unit
that matches no map must be given one or skipped).
Later, from the options: re-scan (new units, or correct a model), remove meters (their
devices go with them), and the poll interval; `reconfigure` changes how the bus is reached.
Options rather than config subentries: a subentry flow adds one subentry per run, while one
scan finds many meters that the user confirms on a single form; the options flow does that
alike on Home Assistant 2025.4 and 2026.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from ..const import (
    CONF_CONNECTION,
    CONF_POLL_INTERVAL,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
    LOGGER,
)
from ..link_errors import link_error_key
from ..meterlib.core.errors import LinkError
from ..meterlib.links.connections import list_serial_ports
from ..meterlib.modbus.choices import (
    BAUD_RATES,
    DEFAULT_BAUD_RATE,
    DEFAULT_DELAY,
    DEFAULT_SCAN_FIRST,
    DEFAULT_SCAN_LAST,
    DEFAULT_STOP_BITS,
    DEFAULT_TCP_PORT,
    DEFAULT_TIMEOUT,
    STOP_BITS,
)
from ..meterlib.modbus.client import ModbusBus
from ..meterlib.modbus.scanner import FIRST_UNIT, LAST_UNIT, FoundMeter, scan_units
from ..meterlib.modbus.schema import MapCatalogue
from ..port_field import PORT_SELECTOR, port_error, serial_port_selector
from ..schema import vol
from .coordinator import DEFAULT_FLEET_POLL_INTERVAL, FleetCoordinator, meter_device_identifier
from .settings import (
    CONF_BAUDRATE,
    CONF_DELAY,
    CONF_FRAMING,
    CONF_METERS,
    CONF_PARITY,
    CONF_STOPBITS,
    CONF_TIMEOUT,
    MODBUS,
    ConfiguredMeter,
    async_load_catalogue,
    bus_settings,
    bus_unique_id,
    configured_meters,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

CONF_FIRST: Final = "first_address"
CONF_LAST: Final = "last_address"
CONF_REMOVE: Final = "remove"
SKIP: Final = "skip"
"""The choice for a unit the user does not want to add."""
UNIT_FIELD: Final = "unit_{}"

# Selector values must be lower-case translation keys; the line wants N, E or O.
_PARITY_CHOICES: Final = {"none": "N", "even": "E", "odd": "O"}
_ADDRESS = NumberSelector(
    NumberSelectorConfig(min=FIRST_UNIT, max=LAST_UNIT, step=1, mode=NumberSelectorMode.BOX)
)


def _seconds(low: float, high: float, step: float) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=low, max=high, step=step, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
        )
    )


def _dropdown(options: Sequence[str], translation_key: str | None = None) -> SelectSelector:
    config = SelectSelectorConfig(options=list(options), mode=SelectSelectorMode.DROPDOWN)
    if translation_key is not None:
        config["translation_key"] = translation_key
    return SelectSelector(config)


def _scan_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_FIRST, default=DEFAULT_SCAN_FIRST): _ADDRESS,
            vol.Required(CONF_LAST, default=DEFAULT_SCAN_LAST): _ADDRESS,
        }
    )


def _scan_range(user_input: Mapping[str, Any]) -> range | None:
    """The addresses to scan, None when the range is upside down."""
    first, last = int(user_input[CONF_FIRST]), int(user_input[CONF_LAST])
    return range(first, last + 1) if first <= last else None


def found_lines(found: Sequence[FoundMeter], catalogue: MapCatalogue) -> str:
    """What a scan found, one Markdown bullet per unit (placeholders carry no translation,
    so the rows are plain facts: address, model, serial)."""
    lines = []
    for meter in found:
        meter_map = catalogue.maps.get(meter.model) if meter.model else None
        model = (
            f"{meter_map.manufacturer} {meter.model_name or meter_map.name}"
            if meter_map is not None
            else "?"
        )
        lines.append(f"- {meter.address}: {model}, {meter.serial or '-'}")
    return "\n".join(lines)


def meters_schema(
    found: Sequence[FoundMeter],
    catalogue: MapCatalogue,
    current: Mapping[int, str] | None = None,
) -> vol.Schema:
    """One choice per unit: its map (preselected: the configured or identified one), another
    map, or skip. A unit that matches no map has no preselection: the user picks."""
    options = [SelectOptionDict(value=SKIP, label="-")] + [
        SelectOptionDict(value=meter_map.id, label=f"{meter_map.manufacturer}: {meter_map.name}")
        for meter_map in sorted(catalogue.maps.values(), key=lambda m: (m.manufacturer, m.id))
    ]
    selector = SelectSelector(
        SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
    )
    fields: dict[Any, Any] = {}
    for meter in found:
        preset = (current or {}).get(meter.address) or meter.model
        key = UNIT_FIELD.format(meter.address)
        fields[vol.Required(key, default=preset) if preset else vol.Required(key)] = selector
    return vol.Schema(fields)


def chosen_meters(
    found: Sequence[FoundMeter], user_input: Mapping[str, Any]
) -> list[ConfiguredMeter]:
    """The meters the user kept, with what the scan read from them when the map agrees."""
    chosen = []
    for meter in found:
        model = user_input.get(UNIT_FIELD.format(meter.address), SKIP)
        if model == SKIP:
            continue
        same = model == meter.model
        chosen.append(
            ConfiguredMeter(
                meter.address,
                model,
                meter.serial if same else None,
                meter.model_name if same else None,
            )
        )
    return chosen


ScanResult = tuple[list[FoundMeter], MapCatalogue]
"""What a scan found, and the maps it identified them with."""


async def scan_bus(
    hass: HomeAssistant, data: Mapping[str, Any], addresses: Sequence[int]
) -> ScanResult:
    """Open the bus described by `data`, scan `addresses`, close it; raises LinkError."""
    catalogue = await async_load_catalogue(hass)
    bus = ModbusBus(bus_settings(data), catalogue)
    try:
        await bus.connect()
        found = await scan_units(bus, addresses)
    finally:
        await bus.close()
    return found, catalogue


async def _with_catalogue(
    scan: Coroutine[Any, Any, list[FoundMeter]], catalogue: MapCatalogue
) -> ScanResult:
    return await scan, catalogue


def _scan_placeholders(target: str, user_input: Mapping[str, Any]) -> dict[str, str]:
    return {
        "target": target,
        "first": str(int(user_input[CONF_FIRST])),
        "last": str(int(user_input[CONF_LAST])),
    }


def scan_outcome(scan: asyncio.Task[ScanResult], target: str) -> ScanResult | str:
    """A finished scan's meters and maps, or the error key of why there are none."""
    try:
        found, catalogue = scan.result()
    except LinkError as err:
        return link_error_key(err, "modbus_cannot_connect")
    except Exception:
        LOGGER.exception("Unexpected error while scanning %s", target)
        return "unknown"
    return (found, catalogue) if found else "modbus_no_units"


def serial_schema(ports: Sequence[tuple[str, str]]) -> vol.Schema:
    """An RS485 adapter's port and line settings."""
    return vol.Schema(
        {
            vol.Required(CONF_SERIAL_PORT): serial_port_selector(ports),
            vol.Required(CONF_BAUDRATE, default=str(DEFAULT_BAUD_RATE)): _dropdown(
                [str(rate) for rate in BAUD_RATES]
            ),
            vol.Required(CONF_PARITY, default="none"): _dropdown(
                list(_PARITY_CHOICES), CONF_PARITY
            ),
            vol.Required(CONF_STOPBITS, default=str(DEFAULT_STOP_BITS)): _dropdown(
                [str(bits) for bits in STOP_BITS]
            ),
            vol.Required(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): _seconds(0.05, 10, 0.05),
            vol.Required(CONF_DELAY, default=DEFAULT_DELAY): _seconds(0, 1, 0.005),
        }
    )


def network_schema() -> vol.Schema:
    """A Modbus TCP device or gateway: address and framing."""
    return vol.Schema(
        {
            vol.Required(CONF_HOST): TextSelector(),
            vol.Required(CONF_PORT, default=DEFAULT_TCP_PORT): PORT_SELECTOR,
            vol.Required(CONF_FRAMING, default="tcp"): _dropdown(["tcp", "rtu"], CONF_FRAMING),
            vol.Required(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): _seconds(0.05, 10, 0.05),
        }
    )


def bus_data(connection: str, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Entry data of a bus from the serial or the network form."""
    if connection == CONNECTION_SERIAL:
        return {
            CONF_SOURCE: MODBUS,
            CONF_CONNECTION: CONNECTION_SERIAL,
            CONF_SERIAL_PORT: user_input[CONF_SERIAL_PORT],
            CONF_BAUDRATE: int(user_input[CONF_BAUDRATE]),
            CONF_PARITY: _PARITY_CHOICES[user_input[CONF_PARITY]],
            CONF_STOPBITS: int(user_input[CONF_STOPBITS]),
            CONF_TIMEOUT: float(user_input[CONF_TIMEOUT]),
            CONF_DELAY: float(user_input[CONF_DELAY]),
        }
    return {
        CONF_SOURCE: MODBUS,
        CONF_CONNECTION: CONNECTION_NETWORK,
        CONF_HOST: user_input[CONF_HOST].strip(),
        CONF_PORT: int(user_input[CONF_PORT]),
        CONF_FRAMING: user_input[CONF_FRAMING],
        CONF_TIMEOUT: float(user_input[CONF_TIMEOUT]),
    }


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """What a stored bus shows in its form (the reverse of `bus_data`)."""
    values = {key: data[key] for key in data if key not in (CONF_SOURCE, CONF_METERS)}
    for key in (CONF_BAUDRATE, CONF_STOPBITS):
        if key in values:
            values[key] = str(values[key])
    if CONF_PARITY in values:
        values[CONF_PARITY] = next(k for k, v in _PARITY_CHOICES.items() if v == data[CONF_PARITY])
    return values


class ModbusFlowSteps(ConfigFlow):
    """The config flow's Modbus steps (mixed into the integration's flow)."""

    _bus_data: dict[str, Any]
    _found: list[FoundMeter]
    _catalogue: MapCatalogue
    _scan: asyncio.Task[ScanResult]
    _scan_input: dict[str, Any]

    async def async_step_modbus_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An RS485 adapter: the port and the line settings of the meters on it."""
        if user_input is not None:
            self._bus_data = bus_data(CONNECTION_SERIAL, user_input)
            return await self.async_step_modbus_scan()
        ports = await self.hass.async_add_executor_job(list_serial_ports)
        return self.async_show_form(step_id="modbus_serial", data_schema=serial_schema(ports))

    async def async_step_modbus_network(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A Modbus TCP meter or gateway, or an RTU-over-TCP gateway."""
        errors: dict[str, str] = {}
        if user_input is not None and (bad_port := port_error(user_input[CONF_PORT])):
            errors[CONF_PORT] = bad_port
        elif user_input is not None:
            self._bus_data = bus_data(CONNECTION_NETWORK, user_input)
            return await self.async_step_modbus_scan()
        return self.async_show_form(
            step_id="modbus_network",
            data_schema=self.add_suggested_values_to_schema(network_schema(), user_input or {}),
            errors=errors,
        )

    async def async_step_modbus_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change how the bus is reached (a new port, address or line setting). The meters
        and their history stay; at least one of them must answer on the new settings."""
        entry = self._get_reconfigure_entry()
        connection = entry.data[CONF_CONNECTION]
        errors: dict[str, str] = {}
        if user_input is not None and (bad_port := port_error(user_input.get(CONF_PORT, 1))):
            errors[CONF_PORT] = bad_port
        elif user_input is not None:
            data = {**entry.data, **bus_data(connection, user_input)}
            addresses = [meter.address for meter in configured_meters(entry.data)]
            try:
                found, _ = await scan_bus(self.hass, data, addresses)
            except LinkError as err:
                errors["base"] = link_error_key(err, "modbus_cannot_connect")
            else:
                if found:
                    return self.async_update_reload_and_abort(entry, data=data)
                errors["base"] = "modbus_no_units"
        if connection == CONNECTION_SERIAL:
            ports = await self.hass.async_add_executor_job(list_serial_ports)
            schema = serial_schema(ports)
        else:
            schema = network_schema()
        return self.async_show_form(
            step_id="modbus_reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or form_values(entry.data)
            ),
            errors=errors,
        )

    async def async_step_modbus_scan(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The address range to scan."""
        errors: dict[str, str] = {}
        if user_input is not None:
            await self.async_set_unique_id(bus_unique_id(bus_settings(self._bus_data)))
            self._abort_if_unique_id_configured()
            addresses = _scan_range(user_input)
            if addresses is None:
                errors["base"] = "modbus_bad_range"
            else:
                self._scan_input = user_input
                self._scan = self.hass.async_create_task(
                    scan_bus(self.hass, self._bus_data, addresses), "energy_gateway modbus scan"
                )
                return await self.async_step_modbus_scanning()
        return self._scan_form(errors, user_input)

    async def async_step_modbus_scanning(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The scan runs: a long range takes up to a minute, and the dialog says so."""
        if not self._scan.done():
            return self.async_show_progress(
                step_id="modbus_scanning",
                progress_action="modbus_scanning",
                progress_task=self._scan,
                description_placeholders=_scan_placeholders(
                    bus_settings(self._bus_data).target, self._scan_input
                ),
            )
        return self.async_show_progress_done(next_step_id="modbus_scanned")

    async def async_step_modbus_scanned(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What the scan found, or why it found nothing."""
        outcome = scan_outcome(self._scan, bus_settings(self._bus_data).target)
        if isinstance(outcome, str):
            return self._scan_form({"base": outcome}, self._scan_input)
        self._found, self._catalogue = outcome
        return await self.async_step_modbus_meters()

    def _scan_form(
        self, errors: dict[str, str], user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id="modbus_scan",
            data_schema=self.add_suggested_values_to_schema(_scan_schema(), user_input),
            errors=errors,
            description_placeholders={"target": bus_settings(self._bus_data).target},
        )

    async def async_step_modbus_meters(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what answered; the user confirms or corrects each unit's map."""
        errors: dict[str, str] = {}
        if user_input is not None:
            meters = chosen_meters(self._found, user_input)
            if meters:
                return self.async_create_entry(
                    title=f"Modbus {bus_settings(self._bus_data).target}",
                    data={**self._bus_data, CONF_METERS: [m.as_dict() for m in meters]},
                )
            errors["base"] = "modbus_none_chosen"
        return self.async_show_form(
            step_id="modbus_meters",
            data_schema=meters_schema(self._found, self._catalogue),
            errors=errors,
            description_placeholders={"found": found_lines(self._found, self._catalogue)},
        )


class ModbusOptionsFlow(OptionsFlow):
    """A bus's meters after setup: re-scan (add or correct), remove, poll interval."""

    _found: list[FoundMeter]
    _scan: asyncio.Task[ScanResult]
    _scan_input: dict[str, Any]

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """What to change."""
        return await self.async_step_modbus_menu()

    async def async_step_modbus_menu(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The menu (a step id of its own: `init` is the single-meter options form)."""
        return self.async_show_menu(
            step_id="modbus_menu",
            menu_options=["modbus_rescan", "modbus_remove", "modbus_interval"],
        )

    @property
    def _coordinator(self) -> FleetCoordinator:
        coordinator = self.config_entry.runtime_data.coordinator
        assert isinstance(coordinator, FleetCoordinator)
        return coordinator

    async def async_step_modbus_rescan(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Scan again on the running bus (the poll goes on between the scan's requests)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            addresses = _scan_range(user_input)
            if addresses is None:
                errors["base"] = "modbus_bad_range"
            else:
                self._scan_input = user_input
                scan = self._coordinator.async_scan(addresses)
                self._scan = self.hass.async_create_task(
                    _with_catalogue(scan, self._coordinator.catalogue),
                    "energy_gateway modbus rescan",
                )
                return await self.async_step_modbus_rescanning()
        return self._rescan_form(errors, user_input)

    async def async_step_modbus_rescanning(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The scan runs between the poll's requests."""
        if not self._scan.done():
            return self.async_show_progress(
                step_id="modbus_rescanning",
                progress_action="modbus_scanning",
                progress_task=self._scan,
                description_placeholders=_scan_placeholders(
                    self._coordinator.settings.target, self._scan_input
                ),
            )
        return self.async_show_progress_done(next_step_id="modbus_rescanned")

    async def async_step_modbus_rescanned(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What the scan found, or why it found nothing."""
        outcome = scan_outcome(self._scan, self._coordinator.settings.target)
        if isinstance(outcome, str):
            return self._rescan_form({"base": outcome}, self._scan_input)
        self._found = outcome[0]
        return await self.async_step_modbus_rescan_meters()

    def _rescan_form(
        self, errors: dict[str, str], user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id="modbus_rescan",
            data_schema=self.add_suggested_values_to_schema(_scan_schema(), user_input),
            errors=errors,
        )

    async def async_step_modbus_rescan_meters(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm or correct every unit found; meters the scan missed are kept."""
        catalogue = self._coordinator.catalogue
        current = {m.address: m.model for m in configured_meters(self.config_entry.data)}
        if user_input is not None:
            kept = {
                meter.address: meter
                for meter in configured_meters(self.config_entry.data)
                if meter.address not in {found.address for found in self._found}
            }
            kept |= {meter.address: meter for meter in chosen_meters(self._found, user_input)}
            return self._store_meters(sorted(kept.values(), key=lambda m: m.address))
        return self.async_show_form(
            step_id="modbus_rescan_meters",
            data_schema=meters_schema(self._found, catalogue, current),
            description_placeholders={"found": found_lines(self._found, catalogue)},
        )

    async def async_step_modbus_remove(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Remove meters from the bus; their devices and entities go with them."""
        meters = configured_meters(self.config_entry.data)
        if user_input is not None:
            removed = {int(address) for address in user_input.get(CONF_REMOVE, [])}
            if removed:
                entry = self.config_entry
                registry = dr.async_get(self.hass)
                gone = {meter_device_identifier(entry, address) for address in removed}
                for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
                    if device.identifiers & gone:
                        registry.async_update_device(
                            device.id, remove_config_entry_id=entry.entry_id
                        )
            return self._store_meters([m for m in meters if m.address not in removed])
        options = [
            SelectOptionDict(
                value=str(meter.address),
                label=f"{meter.address}: {meter.model_name or meter.model} {meter.serial or ''}",
            )
            for meter in meters
        ]
        schema = vol.Schema(
            {
                vol.Optional(CONF_REMOVE, default=[]): SelectSelector(
                    SelectSelectorConfig(
                        options=options, multiple=True, mode=SelectSelectorMode.LIST
                    )
                )
            }
        )
        return self.async_show_form(step_id="modbus_remove", data_schema=schema)

    async def async_step_modbus_interval(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Seconds between two poll cycles of the bus."""
        if user_input is not None:
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
            return self.async_create_entry(data={**self.config_entry.options, **user_input})
        interval = self.config_entry.options.get(CONF_POLL_INTERVAL, DEFAULT_FLEET_POLL_INTERVAL)
        schema = vol.Schema(
            {vol.Required(CONF_POLL_INTERVAL, default=interval): _seconds(1, 3600, 1)}
        )
        return self.async_show_form(step_id="modbus_interval", data_schema=schema)

    def _store_meters(self, meters: Sequence[ConfiguredMeter]) -> ConfigFlowResult:
        """Keep the new meter list and reload the bus with it."""
        entry = self.config_entry
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_METERS: [meter.as_dict() for meter in meters]}
        )
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_create_entry(data=dict(entry.options))
