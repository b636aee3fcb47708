"""Presentation of meanings: names, classes and units, checked against Home Assistant's rules.

The tables are Home Assistant's own, so some answers differ by release (reactive energy and
kvar have classes from 2025.5 on); those tests ask the installed release what it accepts.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.components.sensor.const import (
    DEVICE_CLASS_STATE_CLASSES,
    DEVICE_CLASS_UNITS,
    UNIT_CONVERTERS,
    SensorDeviceClass,
)
import pytest

from custom_components.energy_gateway.descriptions import (
    TRANSLATION_PLACEHOLDERS,
    Presentation,
    capacity_tariff_applies,
    present,
)
from custom_components.energy_gateway.meterlib.core import meaning as catalogue
from custom_components.energy_gateway.meterlib.core.meaning import GENERIC, SYNTHETIC, meaning_of
from custom_components.energy_gateway.upstream.sensor import DESCRIPTIONS as UPSTREAM_DESCRIPTIONS

INTEGRATION = Path(__file__).parents[2] / "custom_components" / "energy_gateway"
EN = json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))
ICONS = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))
SENSOR_NAMES: dict[str, Any] = EN["entity"]["sensor"]
SENSOR_ICONS: dict[str, Any] = ICONS["entity"]["sensor"]

PLACEHOLDER = re.compile(r"\{(\w+)\}")

UNITS = (
    None,
    "Wh",
    "kWh",
    "MWh",
    "GJ",
    "MJ",
    "W",
    "kW",
    "var",
    "kvar",
    "VA",
    "kVA",
    "varh",
    "kvarh",
    "V",
    "A",
    "Hz",
    "m³",
    "L",
    "s",
    "°C",
    "%",
    "rpm",
)

# Codes from real telegrams and frames of every dialect the project targets.
REAL_CODES = (
    "1-3:0.2.8",
    "0-0:96.1.4",
    "0-0:1.0.0",
    "0-0:96.1.1",
    "0-0:96.1.0",
    "0-0:42.0.0",
    "0-0:96.1.255",
    "1-0:0.0.0",
    "1-1:0.2.129",
    "1-1:0.0.5",
    "1-1:96.1.1",
    "0-0:96.1.7",
    "0-0:96.14.0",
    "0-0:96.13.0",
    "0-0:96.13.1",
    "0-0:96.3.10",
    "0-0:17.0.0",
    "1-0:31.4.0",
    "1-0:51.4.0",
    "1-0:71.4.0",
    "0-0:96.7.21",
    "0-0:96.7.9",
    "1-0:99.97.0",
    "1-0:96.5.5",
    "0-0:96.5.0",
    "1-0:1.4.0",
    "1-0:1.6.0",
    "0-0:98.1.0",
    "1-0:15.8.0",
    "1-0:91.7.0",
    "1-0:11.7.0",
    "1-0:13.7.0",
    "1-0:14.7.0",
    *(f"1-0:{c}.8.{e}" for c in range(1, 11) for e in range(5)),
    *(f"1-0:{c}.7.0" for c in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16)),
    *(f"1-0:{c}.7.0" for base in (20, 40, 60) for c in range(base + 1, base + 15)),
    *(f"1-0:{c}.{d}.0" for c in (32, 52, 72) for d in (32, 36)),
    *(f"0-{n}:{code}" for n in range(1, 5) for code in ("24.1.0", "96.1.0", "96.1.1", "24.4.0")),
    *(f"0-{n}:{code}" for n in range(1, 5) for code in ("24.2.1", "24.2.3", "24.3.0")),
)


def describe(
    code: str,
    unit: str | None = None,
    mbus_type: int | None = None,
    *,
    text: bool = False,
    variant: str | None = None,
) -> Presentation:
    """How Home Assistant shows a code (capacity tariff billed)."""
    return present(meaning_of(code, unit, mbus_type, text=text, variant=variant))


def all_descriptions() -> list[Presentation]:
    """Describe a wide sweep of codes, units and M-Bus types, known and unknown."""
    found: list[Presentation] = []
    electricity = (
        f"1-{b}:{c}.{d}.{e}"
        for b in (0, 1)
        for c in range(101)
        for d in (0, 2, 4, 6, 7, 8, 32, 36, 97)
        for e in (0, 2)
    )
    abstract = (f"0-0:{c}.{d}.{e}" for c in (1, 17, 42, 96, 98) for d in range(16) for e in (0, 1))
    for code, unit in itertools.product(itertools.chain(electricity, abstract, REAL_CODES), UNITS):
        found.append(describe(code, unit))
    mbus = (f"0-{n}:24.{d}.{e}" for n in (1, 2) for d in range(1, 5) for e in range(4))
    for code, unit, mbus_type in itertools.product(mbus, UNITS, (None, *range(25))):
        found.append(describe(code, unit, mbus_type))
    # Computed values come in the unit family the integration computes them in.
    families = {"kWh": ("Wh", "kWh", "MWh"), "kW": ("W", "kW", "MW"), "s": ("s",)}
    for key in sorted(SYNTHETIC):
        default = meaning_of(key).unit
        found.append(describe(key))
        found.extend(describe(key, unit) for unit in families.get(default or "", ()))
    found.extend(describe("9-9:9.9.9", unit, text=text) for unit in UNITS for text in (False, True))
    found.append(describe("not an OBIS code"))
    found.extend(
        describe(f"1-0:{c}.8.{e}", "kWh", variant=variant)
        for c in (1, 2, 3, 4, 5, 9, 10, 15, 16)
        for e in (1, 2)
        for variant in ("dsmr5", "fluvius")
    )
    found.extend(
        describe(f"1-0:{c}.6.{e}", "kW", variant="fluvius") for c in (1, 2) for e in (1, 2)
    )
    return found


DESCRIPTIONS = all_descriptions()


def test_every_key_has_a_name_with_exactly_its_placeholders() -> None:
    # The upstream entry's sensors are the only names outside the meter catalogue.
    upstream = {description.translation_key for description in UPSTREAM_DESCRIPTIONS}
    assert set(TRANSLATION_PLACEHOLDERS) | upstream == set(SENSOR_NAMES)
    assert not set(TRANSLATION_PLACEHOLDERS) & upstream
    for key, names in TRANSLATION_PLACEHOLDERS.items():
        assert set(PLACEHOLDER.findall(SENSOR_NAMES[key]["name"])) == names, key


def test_every_description_fits_its_translation() -> None:
    keys = set()
    for info in DESCRIPTIONS:
        keys.add(info.translation_key)
        name = SENSOR_NAMES[info.translation_key]["name"]
        assert {n for n, _ in info.placeholders} == set(PLACEHOLDER.findall(name)), info
        assert len(info.placeholders) == len(set(PLACEHOLDER.findall(name)))
        assert all(value for _, value in info.placeholders)
        # Enum states are translated exactly.
        assert set(SENSOR_NAMES[info.translation_key].get("state", {})) == set(info.options)
    # The sweep reaches every key the catalogue declares.
    assert keys == set(TRANSLATION_PLACEHOLDERS)


def test_translation_file_is_sorted_and_plain() -> None:
    text = (INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8")
    assert text == json.dumps(EN, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    for entry in SENSOR_NAMES.values():
        assert set(entry) <= {"name", "state"}
        assert entry["name"][0].isupper() or entry["name"][0].isdigit()
        assert entry["name"] == entry["name"].strip()


def test_icons_refer_to_translated_keys_and_states() -> None:
    text = (INTEGRATION / "icons.json").read_text(encoding="utf-8")
    assert text == json.dumps(ICONS, indent=2, sort_keys=True) + "\n"
    assert set(ICONS) == {"entity"}
    assert set(ICONS["entity"]) == {"sensor"}
    assert SENSOR_ICONS
    for key, icon in SENSOR_ICONS.items():
        assert key in SENSOR_NAMES, key
        assert set(icon) <= {"default", "state"}
        assert icon["default"].startswith("mdi:")
        states = icon.get("state", {})
        assert set(states) <= set(SENSOR_NAMES[key].get("state", {})), key
        assert all(value.startswith("mdi:") for value in states.values())
    # All variants of one quantity share its icon.
    assert SENSOR_ICONS["voltage_sags"] == SENSOR_ICONS["voltage_sags_phase"]


def _check_against_home_assistant(info: Presentation) -> None:
    state_class = info.state_class
    if info.device_class is None:
        assert info.suggested_unit is None
        assert not info.options
        return
    device_class = info.device_class
    if device_class in (SensorDeviceClass.ENUM, SensorDeviceClass.TIMESTAMP):
        assert info.unit is None
        assert state_class is None
        assert info.precision is None
        assert bool(info.options) == (device_class is SensorDeviceClass.ENUM)
        return
    assert info.unit in DEVICE_CLASS_UNITS[device_class], info
    assert state_class is None or state_class in DEVICE_CLASS_STATE_CLASSES[device_class], info
    if info.suggested_unit is not None:
        assert info.suggested_unit in DEVICE_CLASS_UNITS[device_class]
        assert info.suggested_unit in UNIT_CONVERTERS[device_class].VALID_UNITS
        assert info.unit in UNIT_CONVERTERS[device_class].VALID_UNITS


def test_every_description_is_valid_in_home_assistant() -> None:
    for info in DESCRIPTIONS:
        _check_against_home_assistant(info)
        if info.unit is None and info.state_class is None:
            # Text, times, enums, unitless settings: nothing numeric to format; counts
            # (events, log rows, link tallies) are whole numbers.
            assert info.precision in (None, 0), info
        # Details (identity, settings, counts, link health) make no long-term statistics.
        if info.diagnostic:
            assert info.state_class is None, info
        # Energy and power measurements belong on the dashboard, not among diagnostics.
        if info.diagnostic and info.device_class in ("energy", "power"):
            assert info.state_class is None, info


def test_capacity_figures_are_enabled_where_the_tariff_is_billed() -> None:
    assert capacity_tariff_applies("BE", None)
    assert capacity_tariff_applies(None, "fluvius")
    assert capacity_tariff_applies("NL", "fluvius")
    assert not capacity_tariff_applies("NL", "dsmr5")
    assert not capacity_tariff_applies(None, None)
    for key in catalogue.CAPACITY:
        assert present(meaning_of(key), capacity_tariff=True).enabled_by_default, key
        assert not present(meaning_of(key), capacity_tariff=False).enabled_by_default, key
    # Other computed values do not depend on it.
    assert present(meaning_of(catalogue.TOTAL_IMPORT), capacity_tariff=False).enabled_by_default


def test_tariff_registers_are_named_by_their_rate_where_the_dialect_says() -> None:
    dutch_low = describe("1-0:1.8.1", "kWh", variant="dsmr5")
    assert (dutch_low.translation_key, dutch_low.placeholders) == ("energy_import_tariff_low", ())
    assert describe("1-0:2.8.2", "kWh", variant="dsmr4").translation_key == (
        "energy_export_tariff_normal"
    )
    # Belgium swaps them.
    assert describe("1-0:1.8.1", "kWh", variant="fluvius").translation_key == (
        "energy_import_tariff_normal"
    )
    assert describe("1-0:1.6.2", "kW", variant="fluvius").translation_key == (
        "maximum_demand_import_tariff_low"
    )
    # Unknown dialects, tariffs beyond two and per-phase registers keep the number.
    for code, variant in (("1-0:1.8.1", None), ("1-0:1.8.3", "dsmr5"), ("1-0:21.8.1", "dsmr5")):
        assert ("tariff", code[-1]) in describe(code, "kWh", variant=variant).placeholders
    assert SENSOR_NAMES["energy_import_tariff_low"]["name"] == "Energy import low tariff"


def test_classes_follow_the_release() -> None:
    """Reactive energy and kvar have classes where the installed release knows them."""
    reactive_energy = getattr(SensorDeviceClass, "REACTIVE_ENERGY", None)
    reactive = describe("1-0:3.8.0", "kvarh")
    assert reactive.device_class == reactive_energy
    assert reactive.state_class == "total_increasing"
    kvar = describe("1-0:3.7.0", "kvar").device_class
    knows_kvar = "kvar" in DEVICE_CLASS_UNITS[SensorDeviceClass.REACTIVE_POWER]
    assert kvar == (SensorDeviceClass.REACTIVE_POWER if knows_kvar else None)


@pytest.mark.parametrize(
    ("code", "unit", "key", "placeholders"),
    [
        ("1-0:1.8.0", "kWh", "energy_import", ()),
        ("1-0:1.8.1", "kWh", "energy_import_tariff", (("tariff", "1"),)),
        ("1-0:2.8.2", "kWh", "energy_export_tariff", (("tariff", "2"),)),
        ("1-0:21.8.0", "kWh", "energy_import_phase", (("phase", "L1"),)),
        ("1-0:62.8.3", "kWh", "energy_export_phase_tariff", (("phase", "L3"), ("tariff", "3"))),
        ("1-0:32.7.0", "V", "voltage_phase", (("phase", "L1"),)),
        ("1-0:52.7.0", "V", "voltage_phase", (("phase", "L2"),)),
        ("1-0:72.7.0", "V", "voltage_phase", (("phase", "L3"),)),
        ("1-0:31.7.0", "A", "current_phase", (("phase", "L1"),)),
        ("1-0:51.7.0", "A", "current_phase", (("phase", "L2"),)),
        ("1-0:71.7.0", "A", "current_phase", (("phase", "L3"),)),
        ("1-0:21.7.0", "kW", "power_import_phase", (("phase", "L1"),)),
        ("1-0:41.7.0", "W", "power_import_phase", (("phase", "L2"),)),
        ("1-0:61.7.0", "kW", "power_import_phase", (("phase", "L3"),)),
        ("1-0:22.7.0", "kW", "power_export_phase", (("phase", "L1"),)),
        ("1-0:42.7.0", "kW", "power_export_phase", (("phase", "L2"),)),
        ("1-0:62.7.0", "kW", "power_export_phase", (("phase", "L3"),)),
        ("1-0:23.7.0", "var", "reactive_power_import_phase", (("phase", "L1"),)),
        ("1-0:44.7.0", "var", "reactive_power_export_phase", (("phase", "L2"),)),
        ("1-0:33.7.0", None, "power_factor_phase", (("phase", "L1"),)),
        ("1-0:73.7.0", None, "power_factor_phase", (("phase", "L3"),)),
        ("1-0:5.8.0", "kvarh", "reactive_energy_quadrant", (("quadrant", "Q1"),)),
        ("1-0:8.7.0", "kvar", "reactive_power_quadrant", (("quadrant", "Q4"),)),
        ("1-0:32.32.0", None, "voltage_sags_phase", (("phase", "L1"),)),
        ("1-0:72.36.0", None, "voltage_swells_phase", (("phase", "L3"),)),
        ("1-0:31.4.0", "A", "current_limit_phase", (("phase", "L1"),)),
        ("1-0:1.6.1", "kW", "maximum_demand_import_tariff", (("tariff", "1"),)),
        ("1-0:91.7.0", "A", "current_neutral", ()),
        ("1-0:11.7.0", "A", "current", ()),
        ("1-0:16.7.0", "kW", "net_power", ()),
        # Channel B = 1 (Kamstrup, Aidon) means the same quantity.
        ("1-1:1.7.0", "W", "power_import", ()),
        ("1-1:32.7.0", "V", "voltage_phase", (("phase", "L1"),)),
    ],
)
def test_phase_and_tariff_placeholders(
    code: str, unit: str | None, key: str, placeholders: tuple[tuple[str, str], ...]
) -> None:
    info = describe(code, unit)
    assert info.translation_key == key
    assert info.placeholders == placeholders


def test_energy_registers() -> None:
    tariff = describe("1-0:1.8.1", "kWh")
    assert tariff.device_class == "energy"
    assert tariff.state_class == "total_increasing"
    assert tariff.precision == 3
    assert tariff.suggested_unit is None
    assert tariff.unit == "kWh"
    assert not tariff.diagnostic
    assert tariff.enabled_by_default
    # Austrian Wh registers are shown in kWh; the precision is that of kWh.
    austrian = describe("1-0:1.8.0", "Wh")
    assert (austrian.suggested_unit, austrian.precision, austrian.unit) == ("kWh", 3, "Wh")
    heat = describe("1-0:2.8.0", "MWh")
    assert (heat.device_class, heat.precision) == ("energy", 3)
    # Net energy goes both ways: state class total.
    net = describe("1-0:16.8.0", "kWh")
    assert (net.device_class, net.state_class) == ("energy", "total")


def test_reactive_and_apparent_values() -> None:
    reactive = describe("1-0:3.8.0", "kvarh")
    assert reactive.state_class == "total_increasing"
    assert reactive.precision == 3
    assert describe("1-0:4.8.1", "varh").precision == 0
    assert describe("1-0:3.7.0", "var").device_class == "reactive_power"
    kvar = describe("1-0:3.7.0", "kvar")
    assert (kvar.state_class, kvar.precision) == ("measurement", 3)
    assert describe("1-0:9.7.0", "VA").device_class == "apparent_power"
    apparent = describe("1-0:9.8.0", "kVAh")
    # No release has an apparent energy class.
    assert (apparent.device_class, apparent.state_class, apparent.enabled_by_default) == (
        None,
        "total_increasing",
        False,
    )


def test_instantaneous_values() -> None:
    expectations = {
        ("1-0:1.7.0", "kW"): ("power", 3),
        ("1-0:1.7.0", "W"): ("power", 0),
        ("1-0:32.7.0", "V"): ("voltage", 1),
        ("1-0:31.7.0", "A"): ("current", 2),
        ("1-0:14.7.0", "Hz"): ("frequency", 2),
        ("1-0:13.7.0", None): ("power_factor", 3),
        ("1-0:13.7.0", "%"): ("power_factor", 1),
    }
    for (code, unit), (device_class, precision) in expectations.items():
        info = describe(code, unit)
        assert (info.device_class, info.precision) == (device_class, precision), code
        assert info.state_class == "measurement"
        assert not info.diagnostic


def test_known_code_without_its_unit_loses_only_the_device_class() -> None:
    # Luxembourg sends `1-0:3.7.0(00.000)` without a unit.
    bare = describe("1-0:3.7.0")
    assert bare.translation_key == "reactive_power_import"
    assert (bare.device_class, bare.state_class, bare.unit, bare.precision) == (
        None,
        "measurement",
        None,
        None,
    )
    # A unit that contradicts the code: the unit wins where the state class allows it.
    assert describe("0-0:17.0.0", "kW").device_class == "power"
    amps = describe("0-0:17.0.0", "A")
    assert (amps.device_class, amps.precision, amps.translation_key) == ("current", 2, "limiter")
    assert describe("1-0:1.8.0", "kW").device_class is None
    assert describe("1-0:1.8.0", "furlong").device_class is None
    assert describe("1-0:1.8.0", "furlong").precision is None


def test_capacity_and_demand() -> None:
    quarter = describe("1-0:1.4.0", "kW")
    assert quarter.translation_key == "average_demand_import"
    assert (quarter.device_class, quarter.state_class, quarter.precision) == (
        "power",
        "measurement",
        3,
    )
    peak = describe("1-0:1.6.0", "kW")
    assert peak.translation_key == "maximum_demand_import"
    assert (peak.device_class, peak.state_class) == ("power", "measurement")
    history = describe("0-0:98.1.0")
    assert (history.translation_key, history.diagnostic, history.state_class) == (
        "peak_history",
        True,
        None,
    )
    assert history.precision == 0


def test_identity_and_information() -> None:
    for code, key in {
        "1-3:0.2.8": "protocol_version",
        "0-0:96.1.4": "protocol_version",
        "0-0:96.1.1": "equipment_id",
        "0-0:96.1.0": "meter_number",
        "0-0:42.0.0": "logical_device_name",
        "1-0:0.0.0": "serial_number",
        "0-0:96.13.0": "text_message",
        "0-0:96.13.1": "message_code",
    }.items():
        info = describe(code)
        assert info.translation_key == key
        assert info.diagnostic
        assert not info.enabled_by_default
        assert (info.state_class, info.precision, info.device_class) == (None, None, None)
    clock = describe("0-0:1.0.0")
    assert (clock.translation_key, clock.device_class, clock.diagnostic) == (
        "meter_time",
        "timestamp",
        True,
    )
    tariff = describe("0-0:96.14.0")
    assert (tariff.device_class, tariff.options, tariff.diagnostic) == (
        "enum",
        ("low", "normal"),
        False,
    )
    breaker = describe("0-0:96.3.10")
    assert (breaker.device_class, breaker.diagnostic, breaker.enabled_by_default) == (
        "enum",
        True,
        True,
    )
    assert breaker.options == ("disconnected", "connected", "ready_for_reconnection")
    # Event counts are details: no long-term statistics (defect 7 of the first-day issue).
    failures = describe("0-0:96.7.21")
    assert (failures.state_class, failures.precision, failures.diagnostic) == (
        None,
        0,
        True,
    )
    assert describe("0-0:96.7.9").translation_key == "long_power_failures"
    log = describe("1-0:99.97.0")
    assert (log.translation_key, log.state_class, log.diagnostic) == (
        "power_failure_log",
        None,
        True,
    )
    sags = describe("1-0:52.32.0")
    assert (sags.state_class, sags.diagnostic, sags.enabled_by_default, sags.precision) == (
        None,
        True,
        False,
        0,
    )


@pytest.mark.parametrize(
    ("mbus_type", "unit", "key", "device_class"),
    [
        (3, "m³", "gas_consumption", "gas"),
        (7, "m³", "water_consumption", "water"),
        (22, "m³", "water_consumption", "water"),
        (7, "L", "water_consumption", "water"),
        (6, "m³", "warm_water_consumption", "water"),
        (4, "GJ", "heat_energy", "energy"),
        (4, "MJ", "heat_energy", "energy"),
        (12, "kWh", "heat_energy", "energy"),
        (13, "GJ", "heat_energy", "energy"),
        (10, "GJ", "cooling_energy", "energy"),
        # The unit overrides a kind it contradicts.
        (4, "m³", "heat_energy", "volume"),
        (3, "kWh", "gas_consumption", "energy"),
        (3, None, "gas_consumption", None),
        (3, "ft", "gas_consumption", None),
        # No type line: m³ is gas, GJ is heat, anything else a plain reading.
        (None, "m³", "gas_consumption", "gas"),
        (None, "GJ", "heat_energy", "energy"),
        (None, "kWh", "mbus_reading", "energy"),
        (None, None, "mbus_reading", None),
        # A known type of another kind: the unit alone decides.
        (2, "kWh", "mbus_reading", "energy"),
        (9, "m³", "mbus_reading", "volume"),
    ],
)
def test_mbus_readings(
    mbus_type: int | None, unit: str | None, key: str, device_class: str | None
) -> None:
    for code in ("0-1:24.2.1", "0-2:24.2.3"):
        info = describe(code, unit, mbus_type)
        assert info.translation_key == key
        assert info.device_class == device_class
        assert info.state_class == "total_increasing"
        assert not info.diagnostic
        assert info.placeholders == ()


def test_dsmr2_gas_profile_header_is_not_a_second_reading() -> None:
    """The DSMR 2.2/3 gas line's header (its value is a time) stays a generic code; the
    reading itself is reported as 0-n:24.2.1."""
    info = describe("0-1:24.3.0", None, 3)
    assert info.translation_key == "obis_code"
    assert info.placeholders == (("code", "0-1:24.3.0"),)


def test_mbus_reading_precision() -> None:
    assert describe("0-1:24.2.1", "m³", 3).precision == 3
    assert describe("0-1:24.2.1", "GJ", 4).precision == 3
    assert describe("0-1:24.2.1", "L", 7).precision == 0
    assert describe("0-1:24.2.1", None, 3).precision is None


def test_mbus_information() -> None:
    kind = describe("0-1:24.1.0")
    assert (kind.translation_key, kind.diagnostic, kind.enabled_by_default) == (
        "mbus_device_type",
        True,
        False,
    )
    assert kind.state_class is None
    for code in ("0-2:96.1.0", "0-4:96.1.1"):
        assert describe(code).translation_key == "equipment_id"
    valve = describe("0-1:24.4.0")
    assert (valve.translation_key, valve.device_class) == ("valve_state", "enum")
    assert valve.options == ("disconnected", "connected", "ready_for_reconnection")
    # The M-Bus type only matters for readings.
    assert describe("0-1:24.1.0", None, 3) == kind


def test_unknown_codes_are_described_from_their_unit() -> None:
    power = describe("1-0:81.7.4", "W")
    assert power.translation_key == GENERIC
    assert power.placeholders == (("code", "1-0:81.7.4"),)
    assert (power.device_class, power.state_class, power.precision) == ("power", "measurement", 0)
    assert not power.enabled_by_default
    for unit, device_class in {"V": "voltage", "A": "current", "Hz": "frequency"}.items():
        info = describe("1-0:128.7.0", unit)
        assert (info.device_class, info.state_class) == (device_class, "measurement")
    # An unknown energy register may fall: `total`.
    energy = describe("1-0:128.8.0", "Wh")
    assert (energy.device_class, energy.state_class) == ("energy", "total")
    assert (energy.suggested_unit, energy.precision) == ("kWh", 3)
    volume = describe("7-0:3.0.0", "m³")
    assert (volume.device_class, volume.state_class) == ("volume", "total")
    odd = describe("1-0:128.7.0", "rpm")
    assert (odd.device_class, odd.state_class, odd.precision, odd.unit) == (
        None,
        "measurement",
        None,
        "rpm",
    )
    bare = describe("0-0:96.99.0")
    assert (bare.device_class, bare.state_class, bare.precision) == (None, "measurement", None)
    text = describe("0-0:96.99.0", text=True)
    assert (text.device_class, text.state_class, text.precision) == (None, None, None)
    assert text.placeholders == (("code", "0-0:96.99.0"),)


@pytest.mark.parametrize(
    "code",
    [
        "1-0:1.7.1",  # instantaneous values have no tariffs
        "1-0:41.4.0",  # the average demand has no phases
        "1-0:0.7.0",  # C = 0 is no quantity
        "1-0:200.7.0",
        "1-0:81.7.0",
        "0-5:1.0.0",  # not an M-Bus code
        "2-0:1.8.0",  # A = 2 is not electricity
        "1-0:1.8.0*255",  # not reduced
        "total",
        "",
    ],
)
def test_codes_outside_the_tables_are_generic(code: str) -> None:
    info = describe(code, "kW")
    assert info.translation_key == GENERIC
    assert info.placeholders == (("code", code),)


def test_synthetic_keys() -> None:
    assert {
        catalogue.TOTAL_IMPORT,
        catalogue.TOTAL_EXPORT,
        catalogue.NET_POWER,
        catalogue.CAPACITY_CURRENT_QUARTER,
        catalogue.CAPACITY_PROJECTED_QUARTER,
        catalogue.CAPACITY_LAST_QUARTER,
        catalogue.CAPACITY_MONTH_PEAK,
        catalogue.CAPACITY_MONTH_PEAK_TIME,
        catalogue.CAPACITY_BILLING_MEAN,
        catalogue.METER_PEAK_TIME,
        catalogue.MESSAGE_AGE,
        catalogue.CRC_FAILURES,
        catalogue.DECODE_FAILURES,
        catalogue.COUNTER_REJECTIONS,
        catalogue.RECONNECTS,
        catalogue.UNSUPPORTED_LISTS,
    } == SYNTHETIC
    for key in SYNTHETIC:
        assert describe(key).translation_key == key
    total = describe(catalogue.TOTAL_IMPORT)
    assert (total.device_class, total.state_class, total.unit) == (
        "energy",
        "total_increasing",
        "kWh",
    )
    assert describe(catalogue.TOTAL_EXPORT, "Wh").suggested_unit == "kWh"
    net = describe(catalogue.NET_POWER, "W")
    assert (net.device_class, net.state_class, net.precision, net.unit) == (
        "power",
        "measurement",
        0,
        "W",
    )
    assert describe(catalogue.NET_POWER).unit == "kW"
    for key in (
        catalogue.CAPACITY_CURRENT_QUARTER,
        catalogue.CAPACITY_PROJECTED_QUARTER,
        catalogue.CAPACITY_LAST_QUARTER,
        catalogue.CAPACITY_MONTH_PEAK,
        catalogue.CAPACITY_BILLING_MEAN,
    ):
        info = describe(key)
        assert (info.device_class, info.state_class, info.unit, info.precision) == (
            "power",
            "measurement",
            "kW",
            3,
        )
        assert not info.diagnostic
    for key in (catalogue.CAPACITY_MONTH_PEAK_TIME, catalogue.METER_PEAK_TIME):
        assert describe(key).device_class == "timestamp"
    age = describe(catalogue.MESSAGE_AGE)
    assert (age.device_class, age.unit, age.precision, age.diagnostic, age.enabled_by_default) == (
        "duration",
        "s",
        0,
        True,
        False,
    )
    assert age.state_class is None
    for key in (
        catalogue.CRC_FAILURES,
        catalogue.DECODE_FAILURES,
        catalogue.COUNTER_REJECTIONS,
        catalogue.RECONNECTS,
    ):
        info = describe(key)
        # Link tallies restart with the integration: no statistics to break.
        assert (info.state_class, info.precision, info.diagnostic, info.unit) == (
            None,
            0,
            True,
            None,
        )
    assert describe(catalogue.CRC_FAILURES).enabled_by_default
    assert not describe(catalogue.DECODE_FAILURES).enabled_by_default
