"""OBIS catalogue: what each code means, for naming and classifying entities.

Plain data, no Home Assistant import: device and state classes are the string values of
Home Assistant's `SensorDeviceClass` / `SensorStateClass` enums, which the integration
converts. Every code gets a description; codes the catalogue does not know are described
generically (named after the code), so no reading is ever dropped.

Lookup is table-driven. Electricity codes (A = 1) are split into a base quantity and a
phase: OBIS numbers L1/L2/L3 quantities as the total's C group plus 20/40/60 (power import
1 → 21/41/61, voltage 12 → 32/52/72), so one table entry per quantity covers all phases,
and the E group of cumulative registers selects the tariff. The B group of electricity
codes is a channel some meters set to 1 (Kamstrup, Aidon) and is ignored. For A = 0, B = 0
is the meter itself and B = 1..n an M-Bus sub-meter. Values the integration computes
itself go through the same function under the `SYNTHETIC` keys.

Besides the OBIS codes, the keys of the translations (`entity.sensor.<key>` in
`translations/en.json`) live here: `TRANSLATION_PLACEHOLDERS` lists every key `describe` can
return with the placeholder names its name uses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from .obis import parse_obis

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True, kw_only=True)
class ObisDescription:
    """How to present one OBIS code."""

    translation_key: str
    """Key under `entity.sensor` in the translations."""
    placeholders: tuple[tuple[str, str], ...] = ()
    """Values for the translation's placeholders, e.g. (("phase", "L1"),)."""
    device_class: str | None = None
    state_class: str | None = None
    precision: int | None = None
    suggested_unit: str | None = None
    """Unit to display in, when it differs from the meter's (Wh shown as kWh)."""
    diagnostic: bool = False
    enabled_by_default: bool = True
    counter: bool = False
    """A cumulative register that must never go backwards (energy, gas, water, heat)."""
    unit: str | None = None
    """Native unit of the entity: the caller's unit, else the one the catalogue fixes for a
    synthetic value (capacity in kW, message age in s); None for unitless values."""
    options: tuple[str, ...] = ()
    """States of an `enum` sensor (see `tariff_name` and `control_state`)."""


# String values of Home Assistant's SensorDeviceClass / SensorStateClass members.
_ENERGY: Final = "energy"
_POWER: Final = "power"
_REACTIVE_POWER: Final = "reactive_power"
_APPARENT_POWER: Final = "apparent_power"
_VOLTAGE: Final = "voltage"
_CURRENT: Final = "current"
_FREQUENCY: Final = "frequency"
_POWER_FACTOR: Final = "power_factor"
_GAS: Final = "gas"
_WATER: Final = "water"
_VOLUME: Final = "volume"
_DURATION: Final = "duration"
_TEMPERATURE: Final = "temperature"
_TIMESTAMP: Final = "timestamp"
_ENUM: Final = "enum"

_MEASUREMENT: Final = "measurement"
_TOTAL: Final = "total"
_TOTAL_INCREASING: Final = "total_increasing"

# Units each device class accepts in Home Assistant 2025.4 (restricted to the spellings
# meters use). A reading whose unit is not listed loses the device class: Home Assistant
# would otherwise log a warning and leave it out of statistics. Energy is held to the units
# the 2025.4 Energy dashboard takes; reactive power knows only `var` and apparent power
# only `VA` there, so kvar/kVA readings stay class-less.
_CLASS_UNITS: Final[Mapping[str, frozenset[str | None]]] = {
    _ENERGY: frozenset({"Wh", "kWh", "MWh", "MJ", "GJ"}),
    _POWER: frozenset({"W", "kW", "MW"}),
    _REACTIVE_POWER: frozenset({"var"}),
    _APPARENT_POWER: frozenset({"VA"}),
    _VOLTAGE: frozenset({"V", "mV", "kV"}),
    _CURRENT: frozenset({"A", "mA"}),
    _FREQUENCY: frozenset({"Hz", "kHz"}),
    # Meters send the power factor as a bare ratio (0.95): 2025.4 accepts that unitless.
    _POWER_FACTOR: frozenset({None, "%"}),
    _GAS: frozenset({"m³"}),
    _WATER: frozenset({"m³", "L"}),
    _VOLUME: frozenset({"m³", "L"}),
    _DURATION: frozenset({"s", "min", "h", "d"}),
    _TEMPERATURE: frozenset({"°C"}),
    _TIMESTAMP: frozenset({None}),
    _ENUM: frozenset({None}),
}

# State classes each device class accepts (2025.4); None is always allowed.
_CLASS_STATES: Final[Mapping[str, frozenset[str]]] = {
    _ENERGY: frozenset({_TOTAL, _TOTAL_INCREASING}),
    _POWER: frozenset({_MEASUREMENT}),
    _REACTIVE_POWER: frozenset({_MEASUREMENT}),
    _APPARENT_POWER: frozenset({_MEASUREMENT}),
    _VOLTAGE: frozenset({_MEASUREMENT}),
    _CURRENT: frozenset({_MEASUREMENT}),
    _FREQUENCY: frozenset({_MEASUREMENT}),
    _POWER_FACTOR: frozenset({_MEASUREMENT}),
    _GAS: frozenset({_TOTAL, _TOTAL_INCREASING}),
    _WATER: frozenset({_TOTAL, _TOTAL_INCREASING}),
    _VOLUME: frozenset({_TOTAL, _TOTAL_INCREASING}),
    _DURATION: frozenset({_MEASUREMENT, _TOTAL, _TOTAL_INCREASING}),
    _TEMPERATURE: frozenset({_MEASUREMENT}),
    _TIMESTAMP: frozenset(),
    _ENUM: frozenset(),
}

# What a unit says about a value of unknown meaning: (device class, state class). Energy
# gets `total`, not `total_increasing`: an unknown energy register may be a net or
# per-period value that goes down, and a drop would start a new meter cycle in the
# statistics. Units not listed: no device class, `measurement`.
_UNIT_CLASSES: Final[Mapping[str, tuple[str | None, str]]] = {
    "W": (_POWER, _MEASUREMENT),
    "kW": (_POWER, _MEASUREMENT),
    "MW": (_POWER, _MEASUREMENT),
    "var": (_REACTIVE_POWER, _MEASUREMENT),
    "VA": (_APPARENT_POWER, _MEASUREMENT),
    "V": (_VOLTAGE, _MEASUREMENT),
    "mV": (_VOLTAGE, _MEASUREMENT),
    "kV": (_VOLTAGE, _MEASUREMENT),
    "A": (_CURRENT, _MEASUREMENT),
    "mA": (_CURRENT, _MEASUREMENT),
    "Hz": (_FREQUENCY, _MEASUREMENT),
    "kHz": (_FREQUENCY, _MEASUREMENT),
    "Wh": (_ENERGY, _TOTAL),
    "kWh": (_ENERGY, _TOTAL),
    "MWh": (_ENERGY, _TOTAL),
    "MJ": (_ENERGY, _TOTAL),
    "GJ": (_ENERGY, _TOTAL),
    "varh": (None, _TOTAL),
    "kvarh": (None, _TOTAL),
    "VAh": (None, _TOTAL),
    "kVAh": (None, _TOTAL),
    "m³": (_VOLUME, _TOTAL),
    "L": (_VOLUME, _TOTAL),
    "s": (_DURATION, _MEASUREMENT),
    "min": (_DURATION, _MEASUREMENT),
    "h": (_DURATION, _MEASUREMENT),
    "°C": (_TEMPERATURE, _MEASUREMENT),
}

# Display precision per displayed unit (after any suggested unit): what meters resolve.
_PRECISION: Final[Mapping[str, int]] = {
    "Wh": 0,
    "kWh": 3,
    "MWh": 3,
    "MJ": 1,
    "GJ": 3,
    "W": 0,
    "kW": 3,
    "MW": 3,
    "var": 0,
    "kvar": 3,
    "VA": 0,
    "kVA": 3,
    "varh": 0,
    "kvarh": 3,
    "VAh": 0,
    "kVAh": 3,
    "V": 1,
    "mV": 0,
    "kV": 3,
    "A": 2,
    "mA": 0,
    "Hz": 2,
    "kHz": 3,
    "m³": 3,
    "L": 0,
    "s": 0,
    "min": 0,
    "h": 1,
    "d": 1,
    "°C": 1,
    "%": 1,
}

# Wh registers (Austrian and Modbus meters) are shown in kWh like everybody else's; Home
# Assistant converts because energy has a unit converter.
_SUGGESTED: Final[Mapping[tuple[str, str], str]] = {(_ENERGY, "Wh"): "kWh"}

GENERIC_KEY: Final = "obis_code"
"""Translation key of codes the catalogue does not know; placeholder `code`."""


@dataclass(frozen=True, slots=True)
class _Spec:
    """Table entry: the catalogue's knowledge about one code or family of codes."""

    key: str
    device_class: str | None = None
    state_class: str | None = None
    counter: bool = False
    diagnostic: bool = False
    enabled: bool = True
    numeric: bool = True
    """False for text, timestamps and enums: no precision, no unit."""
    phases: bool = False
    """The C group may name L1/L2/L3: the key gets `_phase` and placeholder `phase`."""
    tariffs: bool = False
    """The E group may name a tariff: the key gets `_tariff` and placeholder `tariff`."""
    fixed: tuple[tuple[str, str], ...] = ()
    """Placeholders every code of this entry carries (reactive quadrant)."""
    unit: str | None = None
    """Unit used when the caller gives none (only for synthetic values)."""
    precision: int | None = None
    """Precision of unitless numeric values (counts 0, power factor 3)."""
    options: tuple[str, ...] = ()


def _variant_key(base_key: str, suffix: str) -> str:
    """Key of a per-phase or per-tariff variant: `voltage` → `voltage_phase`."""
    return f"{base_key}_{suffix}"


_PHASE_NAMES: Final = ("", "L1", "L2", "L3")
_QUADRANTS: Final = {5: "Q1", 6: "Q2", 7: "Q3", 8: "Q4"}

# Cumulative registers (D = 8): per phase and per tariff.
_ENERGY_SPECS: Final[dict[int, _Spec]] = {
    1: _Spec("energy_import", _ENERGY, _TOTAL_INCREASING, counter=True),
    2: _Spec("energy_export", _ENERGY, _TOTAL_INCREASING, counter=True),
    # No reactive/apparent energy device class exists in 2025.4: keep the state class so
    # statistics still work.
    3: _Spec("reactive_energy_import", None, _TOTAL_INCREASING, counter=True),
    4: _Spec("reactive_energy_export", None, _TOTAL_INCREASING, counter=True),
    **{
        c: _Spec(
            "reactive_energy_quadrant",
            None,
            _TOTAL_INCREASING,
            counter=True,
            enabled=False,
            fixed=(("quadrant", quadrant),),
        )
        for c, quadrant in _QUADRANTS.items()
    },
    9: _Spec("apparent_energy_import", None, _TOTAL_INCREASING, counter=True, enabled=False),
    10: _Spec("apparent_energy_export", None, _TOTAL_INCREASING, counter=True, enabled=False),
    # |+A| + |-A| only grows; +A - -A (net) goes both ways, so it is no counter.
    15: _Spec("energy_absolute", _ENERGY, _TOTAL_INCREASING, counter=True, enabled=False),
    16: _Spec("energy_net", _ENERGY, _TOTAL),
}

# Instantaneous values (D = 7): per phase.
_INSTANT_SPECS: Final[dict[int, _Spec]] = {
    1: _Spec("power_import", _POWER, _MEASUREMENT),
    2: _Spec("power_export", _POWER, _MEASUREMENT),
    3: _Spec("reactive_power_import", _REACTIVE_POWER, _MEASUREMENT),
    4: _Spec("reactive_power_export", _REACTIVE_POWER, _MEASUREMENT),
    **{
        c: _Spec(
            "reactive_power_quadrant",
            _REACTIVE_POWER,
            _MEASUREMENT,
            enabled=False,
            fixed=(("quadrant", quadrant),),
        )
        for c, quadrant in _QUADRANTS.items()
    },
    9: _Spec("apparent_power_import", _APPARENT_POWER, _MEASUREMENT, enabled=False),
    10: _Spec("apparent_power_export", _APPARENT_POWER, _MEASUREMENT, enabled=False),
    11: _Spec("current", _CURRENT, _MEASUREMENT),
    12: _Spec("voltage", _VOLTAGE, _MEASUREMENT),
    13: _Spec("power_factor", _POWER_FACTOR, _MEASUREMENT, precision=3),
    14: _Spec("frequency", _FREQUENCY, _MEASUREMENT),
    15: _Spec("power_absolute", _POWER, _MEASUREMENT, enabled=False),
    16: _Spec("net_power", _POWER, _MEASUREMENT),
}


def _info(key: str) -> _Spec:
    """An identity or information text: diagnostic and hidden."""
    return _Spec(key, diagnostic=True, enabled=False, numeric=False)


def _count(key: str, state_class: str | None, *, enabled: bool = True) -> _Spec:
    """A diagnostic count without unit."""
    return _Spec(key, None, state_class, diagnostic=True, enabled=enabled, precision=0)


# Electricity quantities keyed by (base C, D); see the module docstring for the phases.
_ELECTRICITY: Final[Mapping[tuple[int, int], _Spec]] = {
    **{(c, 8): replace(spec, phases=True, tariffs=True) for c, spec in _ENERGY_SPECS.items()},
    **{(c, 7): replace(spec, phases=True) for c, spec in _INSTANT_SPECS.items()},
    # Demand: 1.4.0 is the running average of the current period (the Belgian quarter
    # hour), 1.6.x the period's maximum (Belgium: the month peak, its time sent alongside).
    (1, 4): _Spec("average_demand_import", _POWER, _MEASUREMENT),
    (2, 4): _Spec("average_demand_export", _POWER, _MEASUREMENT),
    (1, 6): _Spec("maximum_demand_import", _POWER, _MEASUREMENT, tariffs=True),
    (2, 6): _Spec("maximum_demand_export", _POWER, _MEASUREMENT, tariffs=True),
    # 31.4.0: the current the meter's fuse supervision trips at; a setting, no statistics.
    (11, 4): _Spec("current_limit", _CURRENT, diagnostic=True, enabled=False, phases=True),
    # Counts of voltage-quality events.
    (12, 32): replace(_count("voltage_sags", _TOTAL_INCREASING, enabled=False), phases=True),
    (12, 36): replace(_count("voltage_swells", _TOTAL_INCREASING, enabled=False), phases=True),
}


# COSEM disconnect-control states (class 70), used by the breaker and M-Bus valves.
_CONTROL_STATES: Final = ("disconnected", "connected", "ready_for_reconnection")
_TARIFF_STATES: Final = ("low", "normal")

# Electricity codes (A = 1, any B) that are not quantities, keyed by (C, D, E).
_ELECTRICITY_FIXED: Final[Mapping[tuple[int, int, int], _Spec]] = {
    (91, 7, 0): _Spec("current_neutral", _CURRENT, _MEASUREMENT),
    (99, 97, 0): _count("power_failure_log", None, enabled=False),
    (96, 5, 5): _info("meter_status"),  # EasyMeter Q3D status word
    (0, 0, 0): _info("serial_number"),  # Q3D, Ireland
    (0, 0, 5): _info("meter_number"),  # Kamstrup (Norway)
    (0, 2, 8): _info("protocol_version"),  # 1-3:0.2.8, NL DSMR
    (0, 2, 129): _info("list_version"),  # Nordic HAN list identifier
    (96, 1, 1): _info("meter_type"),  # Kamstrup (Norway)
}

# The meter's own abstract codes (A = 0, B = 0), keyed by (C, D, E).
_ABSTRACT: Final[Mapping[tuple[int, int, int], _Spec]] = {
    (1, 0, 0): _Spec("meter_time", _TIMESTAMP, diagnostic=True, enabled=False, numeric=False),
    (96, 1, 1): _info("equipment_id"),
    (96, 1, 255): _info("equipment_id"),  # Q3D writes 0-0:96.1.255
    (96, 1, 0): _info("meter_number"),
    (42, 0, 0): _info("logical_device_name"),
    (96, 1, 4): _info("protocol_version"),  # Belgian e-MUCS
    (96, 1, 7): _info("meter_type"),
    (96, 5, 0): _info("meter_status"),
    (96, 13, 0): _info("text_message"),
    (96, 13, 1): _info("message_code"),
    (96, 14, 0): _Spec("tariff", _ENUM, numeric=False, options=_TARIFF_STATES),
    (96, 3, 10): _Spec(
        "breaker_state", _ENUM, diagnostic=True, numeric=False, options=_CONTROL_STATES
    ),
    # The limiter is sent in kW by most meters but in A by DSMR 3; the unit decides.
    (17, 0, 0): _Spec("limiter", _POWER, diagnostic=True, enabled=False),
    (96, 7, 21): _count("power_failures", _TOTAL_INCREASING),
    (96, 7, 9): _count("long_power_failures", _TOTAL_INCREASING),
    # Belgian peak history; the value is the number of months listed (rows in `entries`).
    (98, 1, 0): _count("peak_history", None),
}

# M-Bus sub-meter codes (A = 0, B = channel 1..n), keyed by (C, D, E).
_MBUS: Final[Mapping[tuple[int, int, int], _Spec]] = {
    (24, 1, 0): _Spec("mbus_device_type", diagnostic=True, enabled=False, numeric=False),
    (96, 1, 0): _info("equipment_id"),
    (96, 1, 1): _info("equipment_id"),
    (24, 4, 0): _Spec(
        "valve_state", _ENUM, diagnostic=True, numeric=False, options=_CONTROL_STATES
    ),
}

# The reading of a sub-meter: 24.2.1 (DSMR 4/5), 24.2.3 (Belgian temperature-corrected gas),
# 24.3.0 (DSMR 2.2/3 gas).
# 0-n:24.3.0 (DSMR 2.2/3) is only the header of the gas profile: the parser reports its
# reading as 0-n:24.2.1, so the header is described generically, not as a second reading.
_MBUS_READING_CODES: Final = frozenset({(24, 2, 1), (24, 2, 3)})
_MBUS_READINGS: Final[Mapping[str, _Spec]] = {
    "gas": _Spec("gas_consumption", _GAS, _TOTAL_INCREASING, counter=True),
    "water": _Spec("water_consumption", _WATER, _TOTAL_INCREASING, counter=True),
    "warm_water": _Spec("warm_water_consumption", _WATER, _TOTAL_INCREASING, counter=True),
    "heat": _Spec("heat_energy", _ENERGY, _TOTAL_INCREASING, counter=True),
    "cooling": _Spec("cooling_energy", _ENERGY, _TOTAL_INCREASING, counter=True),
    # A meter of another kind: the unit decides the device class (see `_fit_class`).
    "unknown": _Spec("mbus_reading", _VOLUME, _TOTAL_INCREASING, counter=True),
}

# EN 13757-3 device types (0-n:24.1.0).
_MBUS_KINDS: Final[Mapping[int, str]] = {
    3: "gas",
    4: "heat",  # heat, volume measured at the outlet
    6: "warm_water",
    7: "water",
    10: "cooling",  # cooling, volume at the outlet
    11: "cooling",  # cooling, volume at the inlet
    12: "heat",  # heat, volume at the inlet
    13: "heat",  # combined heat/cooling meter
    21: "warm_water",  # hot water >= 90 °C
    22: "water",  # cold water
}

# Keys of the values the integration computes itself.
TOTAL_IMPORT: Final = "total_import"
TOTAL_EXPORT: Final = "total_export"
NET_POWER: Final = "net_power"
CAPACITY_CURRENT_QUARTER: Final = "capacity_current_quarter"
CAPACITY_PROJECTED_QUARTER: Final = "capacity_projected_quarter"
CAPACITY_LAST_QUARTER: Final = "capacity_last_quarter"
CAPACITY_MONTH_PEAK: Final = "capacity_month_peak"
CAPACITY_MONTH_PEAK_TIME: Final = "capacity_month_peak_time"
CAPACITY_BILLING_MEAN: Final = "capacity_billing_mean"
METER_PEAK_TIME: Final = "meter_peak_time"
MESSAGE_AGE: Final = "message_age"
CRC_FAILURES: Final = "crc_failures"
DECODE_FAILURES: Final = "decode_failures"
COUNTER_REJECTIONS: Final = "counter_rejections"
RECONNECTS: Final = "reconnects"


def _capacity(key: str) -> _Spec:
    return _Spec(key, _POWER, _MEASUREMENT, unit="kW")


_SYNTHETIC_SPECS: Final[Mapping[str, _Spec]] = {
    # Sums of the tariff registers, for the Energy dashboard; unit follows the registers.
    TOTAL_IMPORT: _Spec(TOTAL_IMPORT, _ENERGY, _TOTAL_INCREASING, counter=True, unit="kWh"),
    TOTAL_EXPORT: _Spec(TOTAL_EXPORT, _ENERGY, _TOTAL_INCREASING, counter=True, unit="kWh"),
    # Import minus export: negative while exporting.
    NET_POWER: _Spec(NET_POWER, _POWER, _MEASUREMENT, unit="kW"),
    CAPACITY_CURRENT_QUARTER: _capacity(CAPACITY_CURRENT_QUARTER),
    CAPACITY_PROJECTED_QUARTER: _capacity(CAPACITY_PROJECTED_QUARTER),
    CAPACITY_LAST_QUARTER: _capacity(CAPACITY_LAST_QUARTER),
    CAPACITY_MONTH_PEAK: _capacity(CAPACITY_MONTH_PEAK),
    CAPACITY_BILLING_MEAN: _capacity(CAPACITY_BILLING_MEAN),
    CAPACITY_MONTH_PEAK_TIME: _Spec(CAPACITY_MONTH_PEAK_TIME, _TIMESTAMP, numeric=False),
    METER_PEAK_TIME: _Spec(METER_PEAK_TIME, _TIMESTAMP, numeric=False),
    # Changes with every message: hidden so it does not fill the recorder unasked.
    MESSAGE_AGE: _Spec(
        MESSAGE_AGE, _DURATION, _MEASUREMENT, diagnostic=True, enabled=False, unit="s"
    ),
    # Link-quality counters, kept in memory: `total_increasing` absorbs the reset to 0
    # after a restart. CRC errors and reconnects are what users look for when a meter
    # misbehaves; the other two are rarer and stay hidden.
    CRC_FAILURES: _count(CRC_FAILURES, _TOTAL_INCREASING),
    DECODE_FAILURES: _count(DECODE_FAILURES, _TOTAL_INCREASING, enabled=False),
    COUNTER_REJECTIONS: _count(COUNTER_REJECTIONS, _TOTAL_INCREASING, enabled=False),
    RECONNECTS: _count(RECONNECTS, _TOTAL_INCREASING),
}

SYNTHETIC: Final[frozenset[str]] = frozenset(_SYNTHETIC_SPECS)
"""Keys of the values the integration computes; pass them to `describe` like a code."""

# What a lookup found: the table entry, the translation key and its placeholders.
type _Found = tuple[_Spec, str, tuple[tuple[str, str], ...]]


def describe(
    obis: str, unit: str | None = None, mbus_type: int | None = None, *, text: bool = False
) -> ObisDescription:
    """Describe a reduced OBIS code; `unit` and the M-Bus device type refine the answer.

    `obis` may also be one of the `SYNTHETIC` keys. `unit` is the canonical unit of the
    reading (see `units.canonical_unit`). `mbus_type` is the device type the sub-meter on
    the code's channel announced (0-n:24.1.0). `text` says the value is not a number; it
    only matters for codes the catalogue does not know.
    """
    return _describe(obis, unit, mbus_type, text)


@lru_cache(maxsize=1024)
def _describe(obis: str, unit: str | None, mbus_type: int | None, text: bool) -> ObisDescription:
    synthetic = _SYNTHETIC_SPECS.get(obis)
    if synthetic is not None:
        return _build(synthetic, synthetic.key, (), unit)
    code = parse_obis(obis)
    if code is not None:
        a, b, c, d, e = code
        if a == 1:
            found = _electricity(c, d, e)
        elif a == 0 and b == 0:
            spec = _ABSTRACT.get((c, d, e))
            found = None if spec is None else (spec, spec.key, ())
        elif a == 0:
            found = _mbus(c, d, e, unit, mbus_type)
        else:
            found = None
        if found is not None:
            return _build(*found, unit)
    return _generic(obis, unit, text)


def _electricity(c: int, d: int, e: int) -> _Found | None:
    spec = _ELECTRICITY_FIXED.get((c, d, e))
    if spec is not None:
        return spec, spec.key, ()
    if not 1 <= c <= 80:
        return None
    phase, base = divmod(c - 1, 20)
    spec = _ELECTRICITY.get((base + 1, d))
    if spec is None or (phase and not spec.phases) or (e and not spec.tariffs):
        return None
    key = spec.key
    placeholders = spec.fixed
    if phase:
        key = _variant_key(key, "phase")
        placeholders += (("phase", _PHASE_NAMES[phase]),)
    if e:
        key = _variant_key(key, "tariff")
        placeholders += (("tariff", str(e)),)
    return spec, key, placeholders


def _mbus(c: int, d: int, e: int, unit: str | None, mbus_type: int | None) -> _Found | None:
    if (c, d, e) in _MBUS_READING_CODES:
        spec = _MBUS_READINGS[mbus_kind(mbus_type, unit)]
    else:
        found = _MBUS.get((c, d, e))
        if found is None:
            return None
        spec = found
    return spec, spec.key, ()


def _fit_class(device_class: str | None, state_class: str | None, unit: str | None) -> str | None:
    """Return the device class a value with this unit may carry.

    The table's class when the unit fits it; else the class the unit implies, when that
    class takes the table's state class (a limiter sent in A is a current, an M-Bus meter
    of unknown kind reading kWh is energy); else none.
    """
    if device_class is None:
        return None
    if unit in _CLASS_UNITS[device_class]:
        return device_class
    if unit is None:
        return None
    implied = _UNIT_CLASSES.get(unit, (None, None))[0]
    if implied is None or (state_class is not None and state_class not in _CLASS_STATES[implied]):
        return None
    return implied


def _build(
    spec: _Spec, key: str, placeholders: tuple[tuple[str, str], ...], unit: str | None
) -> ObisDescription:
    if not spec.numeric:
        return ObisDescription(
            translation_key=key,
            placeholders=placeholders,
            device_class=spec.device_class,
            diagnostic=spec.diagnostic,
            enabled_by_default=spec.enabled,
            options=spec.options,
        )
    native = unit if unit is not None else spec.unit
    device_class = _fit_class(spec.device_class, spec.state_class, native)
    return ObisDescription(
        translation_key=key,
        placeholders=placeholders,
        device_class=device_class,
        state_class=spec.state_class,
        precision=_precision(device_class, native, spec.precision),
        suggested_unit=_suggested(device_class, native),
        diagnostic=spec.diagnostic,
        enabled_by_default=spec.enabled,
        counter=spec.counter,
        unit=native,
    )


def _suggested(device_class: str | None, unit: str | None) -> str | None:
    if device_class is None or unit is None:
        return None
    return _SUGGESTED.get((device_class, unit))


def _precision(device_class: str | None, unit: str | None, unitless: int | None) -> int | None:
    """Precision of the displayed unit; None for a unit the catalogue does not know."""
    if unit is None:
        return unitless
    shown = _suggested(device_class, unit) or unit
    return _PRECISION.get(shown)


def _generic(obis: str, unit: str | None, text: bool) -> ObisDescription:
    """Describe a code the catalogue does not know, from its unit alone.

    Hidden by default (DLMS meters list angles, harmonics and more that few want), never
    dropped. A unit the catalogue does not know, or no unit, gets no precision: the code
    alone does not tell an integer count from a decimal.
    """
    placeholders = (("code", obis),)
    if text:
        return ObisDescription(
            translation_key=GENERIC_KEY, placeholders=placeholders, enabled_by_default=False
        )
    device_class, state_class = (
        (None, _MEASUREMENT) if unit is None else _UNIT_CLASSES.get(unit, (None, _MEASUREMENT))
    )
    return ObisDescription(
        translation_key=GENERIC_KEY,
        placeholders=placeholders,
        device_class=device_class,
        state_class=state_class,
        precision=_precision(device_class, unit, None),
        suggested_unit=_suggested(device_class, unit),
        enabled_by_default=False,
        unit=unit,
    )


def mbus_kind(mbus_type: int | None, unit: str | None = None) -> str:
    """Name the kind of an M-Bus sub-meter: gas, water, heat, warm_water, cooling, unknown.

    Without a device type (DSMR 2.2/3 telegrams may lack the 24.1.0 line) the unit decides:
    m³ means gas, because a P1 port's sub-meter is a gas meter in the vast majority of
    homes, and GJ/MJ mean heat (district-heating meters). A known type that is none of
    these (electricity, heat-cost allocator, ...) stays `unknown`.
    """
    if mbus_type is None:
        if unit == "m³":
            return "gas"
        if unit in {"GJ", "MJ"}:
            return "heat"
        return "unknown"
    return _MBUS_KINDS.get(mbus_type, "unknown")


def _small_int(value: object) -> int | None:
    """Read an indicator value (`0002`, 2, 2.0) as an int; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit():
            return int(digits)
    return None


# Dialects where tariff 1 is the normal (day) rate, the reverse of the Dutch DSMR meaning.
_DAY_FIRST_VARIANTS: Final = frozenset({"fluvius", "eon_hu"})


def tariff_name(variant: str | None, value: object) -> str | None:
    """Map the tariff indicator 0-0:96.14.0 to `low` / `normal`; None when it is neither.

    Dutch DSMR: 1 = low (night), 2 = normal. Belgium (Fluvius) and E.ON Hungary swap them.
    """
    number = _small_int(value)
    if number not in {1, 2}:
        return None
    low = 2 if variant in _DAY_FIRST_VARIANTS else 1
    return "low" if number == low else "normal"


def control_state(value: object) -> str | None:
    """Map a breaker (0-0:96.3.10) or valve (0-n:24.4.0) state to its enum option.

    COSEM disconnect control: 0 disconnected, 1 connected, 2 ready for reconnection.
    """
    number = _small_int(value)
    if number is None or not 0 <= number < len(_CONTROL_STATES):
        return None
    return _CONTROL_STATES[number]


def _translation_placeholders() -> Mapping[str, frozenset[str]]:
    keys: dict[str, frozenset[str]] = {GENERIC_KEY: frozenset({"code"})}
    specs = [
        *_ELECTRICITY.values(),
        *_ELECTRICITY_FIXED.values(),
        *_ABSTRACT.values(),
        *_MBUS.values(),
        *_MBUS_READINGS.values(),
        *_SYNTHETIC_SPECS.values(),
    ]
    for spec in specs:
        fixed = frozenset(name for name, _ in spec.fixed)
        for phase in (False, True) if spec.phases else (False,):
            for tariff in (False, True) if spec.tariffs else (False,):
                key = spec.key
                names = set(fixed)
                if phase:
                    key = _variant_key(key, "phase")
                    names.add("phase")
                if tariff:
                    key = _variant_key(key, "tariff")
                    names.add("tariff")
                keys[key] = frozenset(names)
    return MappingProxyType(keys)


TRANSLATION_PLACEHOLDERS: Final = _translation_placeholders()
"""Every translation key `describe` can return, with the placeholder names it fills."""
