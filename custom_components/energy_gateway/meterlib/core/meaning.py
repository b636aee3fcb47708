"""What OBIS codes mean: the quantity, phase, tariff and behaviour behind each code.

Plain data, no Home Assistant import. How a meaning is shown (device and state classes,
names, precision) is the integration's business (`descriptions.py` of the Home Assistant
layer), built on Home Assistant's own tables so it follows each release. The register maps
of the polled families (Modbus, MEP) name their values by OBIS code and so share this
catalogue.

Lookup is table-driven. Electricity codes (A = 1) are split into a base quantity and a
phase: OBIS numbers L1/L2/L3 quantities as the total's C group plus 20/40/60 (power import
1 → 21/41/61, voltage 12 → 32/52/72), so one table entry per quantity covers all phases,
and the E group of cumulative registers selects the tariff. The B group of electricity
codes is a channel some meters set to 1 (Kamstrup, Aidon) and is ignored. For A = 0, B = 0
is the meter itself and B = 1..n an M-Bus sub-meter. Values the integration computes
itself go through the same function under the `SYNTHETIC` keys. Codes the catalogue does not
know get a generic meaning from their unit, so no reading is ever dropped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Final, Literal

from .model import FLEMISH_VARIANT
from .obis import parse_obis

type Behaviour = Literal[
    "instant", "counter", "balance", "count", "log", "tally", "setting", "identity", "time", "state"
]
"""How a value behaves over time:

- `instant`: a present measurement (power, voltage, an average);
- `counter`: a cumulative register that never goes backwards (energy, gas, water, heat);
- `balance`: cumulative but may fall (net energy, an unknown energy register);
- `count`: the meter's own count of events (power failures, voltage sags);
- `log`: the number of rows of a log the meter sends (power failures, month peaks);
- `tally`: a count the integration keeps about the link (CRC errors, reconnects);
- `setting`: a configured limit (fuse supervision, limiter);
- `identity`: text about the meter (serial, version, message);
- `time`: a point in time; `state`: one of a few named states (`Meaning.states`).
"""

_NON_NUMERIC: Final = frozenset({"identity", "time", "state"})

# Kinds: the physical dimension of a value, spelled like Home Assistant's device classes
# where one exists (the integration maps them; this library does not depend on it).
ENERGY: Final = "energy"
REACTIVE_ENERGY: Final = "reactive_energy"
APPARENT_ENERGY: Final = "apparent_energy"
POWER: Final = "power"
REACTIVE_POWER: Final = "reactive_power"
APPARENT_POWER: Final = "apparent_power"
VOLTAGE: Final = "voltage"
CURRENT: Final = "current"
FREQUENCY: Final = "frequency"
POWER_FACTOR: Final = "power_factor"
GAS: Final = "gas"
WATER: Final = "water"
VOLUME: Final = "volume"
DURATION: Final = "duration"
TEMPERATURE: Final = "temperature"
TIMESTAMP: Final = "timestamp"
ENUM: Final = "enum"

UNIT_KINDS: Final[Mapping[str, str]] = {
    "Wh": ENERGY,
    "kWh": ENERGY,
    "MWh": ENERGY,
    "MJ": ENERGY,
    "GJ": ENERGY,
    "varh": REACTIVE_ENERGY,
    "kvarh": REACTIVE_ENERGY,
    "VAh": APPARENT_ENERGY,
    "kVAh": APPARENT_ENERGY,
    "W": POWER,
    "kW": POWER,
    "MW": POWER,
    "var": REACTIVE_POWER,
    "kvar": REACTIVE_POWER,
    "VA": APPARENT_POWER,
    "kVA": APPARENT_POWER,
    "V": VOLTAGE,
    "mV": VOLTAGE,
    "kV": VOLTAGE,
    "A": CURRENT,
    "mA": CURRENT,
    "Hz": FREQUENCY,
    "kHz": FREQUENCY,
    "m³": VOLUME,
    "L": VOLUME,
    "s": DURATION,
    "min": DURATION,
    "h": DURATION,
    "d": DURATION,
    "°C": TEMPERATURE,
}
"""What a canonical unit measures."""

# Kinds whose unknown registers accumulate (and so may be net values that fall).
_CUMULATIVE_KINDS: Final = frozenset({ENERGY, REACTIVE_ENERGY, APPARENT_ENERGY, VOLUME})

GENERIC: Final = "obis_code"
"""Quantity of codes the catalogue does not know."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Meaning:
    """What one OBIS code (or computed value) stands for."""

    quantity: str
    """What is measured, e.g. `energy_import`, `voltage`; `GENERIC` for an unknown code."""
    kind: str | None
    """Physical dimension (see `UNIT_KINDS`); None for text and unitless numbers."""
    behaviour: Behaviour
    unit: str | None = None
    """The value's canonical unit: the reading's, else the one a computed value is kept in."""
    phase: str | None = None
    """`L1`, `L2` or `L3` for a per-phase value."""
    tariff: int | None = None
    """The tariff register's number (E group), for per-tariff registers."""
    rate: Literal["low", "normal"] | None = None
    """Which rate the tariff number stands for, where the meter's dialect says."""
    quadrant: str | None = None
    """`Q1`..`Q4` for per-quadrant reactive values."""
    code: str | None = None
    """The code itself, for codes the catalogue does not know."""
    states: tuple[str, ...] = ()
    """The named states of a `state` value (see `tariff_name` and `control_state`)."""
    detail: bool = False
    """About the meter or its link rather than the energy (identity, settings, link health)."""
    common: bool = True
    """Wanted by most users; the rest (harmonics, quadrants, identity texts) only on request."""

    @property
    def counter(self) -> bool:
        """A register that must never go backwards: the counter guard watches it."""
        return self.behaviour == "counter"

    @property
    def numeric(self) -> bool:
        """The value is a number (not text, a time or a state)."""
        return self.behaviour not in _NON_NUMERIC

    @property
    def known(self) -> bool:
        """The catalogue knows the code (it is not described from its unit alone)."""
        return self.quantity != GENERIC


@dataclass(frozen=True, slots=True)
class _Spec:
    """Table entry: the catalogue's knowledge about one code or family of codes."""

    quantity: str
    kind: str | None = None
    behaviour: Behaviour = "instant"
    detail: bool = False
    common: bool = True
    phases: bool = False
    """The C group may name L1/L2/L3."""
    tariffs: bool = False
    """The E group may name a tariff."""
    quadrant: str | None = None
    unit: str | None = None
    """Unit used when the caller gives none (only for computed values)."""
    states: tuple[str, ...] = ()


_PHASE_NAMES: Final = ("", "L1", "L2", "L3")
_QUADRANTS: Final = {5: "Q1", 6: "Q2", 7: "Q3", 8: "Q4"}

# Cumulative registers (D = 8): per phase and per tariff.
_ENERGY_SPECS: Final[dict[int, _Spec]] = {
    1: _Spec("energy_import", ENERGY, "counter"),
    2: _Spec("energy_export", ENERGY, "counter"),
    3: _Spec("reactive_energy_import", REACTIVE_ENERGY, "counter"),
    4: _Spec("reactive_energy_export", REACTIVE_ENERGY, "counter"),
    **{
        c: _Spec(
            "reactive_energy_quadrant", REACTIVE_ENERGY, "counter", common=False, quadrant=quadrant
        )
        for c, quadrant in _QUADRANTS.items()
    },
    9: _Spec("apparent_energy_import", APPARENT_ENERGY, "counter", common=False),
    10: _Spec("apparent_energy_export", APPARENT_ENERGY, "counter", common=False),
    # |+A| + |-A| only grows; +A - -A (net) goes both ways, so it is no counter.
    15: _Spec("energy_absolute", ENERGY, "counter", common=False),
    16: _Spec("energy_net", ENERGY, "balance"),
}

# Instantaneous values (D = 7): per phase.
_INSTANT_SPECS: Final[dict[int, _Spec]] = {
    1: _Spec("power_import", POWER),
    2: _Spec("power_export", POWER),
    3: _Spec("reactive_power_import", REACTIVE_POWER),
    4: _Spec("reactive_power_export", REACTIVE_POWER),
    **{
        c: _Spec("reactive_power_quadrant", REACTIVE_POWER, common=False, quadrant=quadrant)
        for c, quadrant in _QUADRANTS.items()
    },
    9: _Spec("apparent_power_import", APPARENT_POWER, common=False),
    10: _Spec("apparent_power_export", APPARENT_POWER, common=False),
    11: _Spec("current", CURRENT),
    12: _Spec("voltage", VOLTAGE),
    13: _Spec("power_factor", POWER_FACTOR),
    14: _Spec("frequency", FREQUENCY),
    15: _Spec("power_absolute", POWER, common=False),
    16: _Spec("net_power", POWER),
}


def _info(quantity: str) -> _Spec:
    """An identity or information text: a detail few look at."""
    return _Spec(quantity, None, "identity", detail=True, common=False)


def _count(quantity: str, behaviour: Behaviour = "count", *, common: bool = True) -> _Spec:
    """A count without unit, about the meter or its link."""
    return _Spec(quantity, None, behaviour, detail=True, common=common)


# Electricity quantities keyed by (base C, D); see the module docstring for the phases.
_ELECTRICITY: Final[Mapping[tuple[int, int], _Spec]] = {
    **{(c, 8): replace(spec, phases=True, tariffs=True) for c, spec in _ENERGY_SPECS.items()},
    **{(c, 7): replace(spec, phases=True) for c, spec in _INSTANT_SPECS.items()},
    # Demand: 1.4.0 is the running average of the current period (the Belgian quarter
    # hour), 1.6.x the period's maximum (Belgium: the month peak, its time sent alongside).
    (1, 4): _Spec("average_demand_import", POWER),
    (2, 4): _Spec("average_demand_export", POWER),
    (1, 6): _Spec("maximum_demand_import", POWER, tariffs=True),
    (2, 6): _Spec("maximum_demand_export", POWER, tariffs=True),
    # 31.4.0: the current the meter's fuse supervision trips at.
    (11, 4): _Spec("current_limit", CURRENT, "setting", detail=True, common=False, phases=True),
    # Counts of voltage-quality events.
    (12, 32): replace(_count("voltage_sags", common=False), phases=True),
    (12, 36): replace(_count("voltage_swells", common=False), phases=True),
}


# COSEM disconnect-control states (class 70), used by the breaker and M-Bus valves.
_CONTROL_STATES: Final = ("disconnected", "connected", "ready_for_reconnection")
_TARIFF_STATES: Final = ("low", "normal")

# Electricity codes (A = 1, any B) that are not quantities, keyed by (C, D, E).
_ELECTRICITY_FIXED: Final[Mapping[tuple[int, int, int], _Spec]] = {
    (91, 7, 0): _Spec("current_neutral", CURRENT),
    (99, 97, 0): _count("power_failure_log", "log", common=False),
    (96, 5, 5): _info("meter_status"),  # EasyMeter Q3D status word
    (0, 0, 0): _info("serial_number"),  # Q3D, Ireland
    (0, 0, 5): _info("meter_number"),  # Kamstrup (Norway)
    (0, 2, 8): _info("protocol_version"),  # 1-3:0.2.8, NL DSMR
    (0, 2, 129): _info("list_version"),  # Nordic HAN list identifier
    (96, 1, 1): _info("meter_type"),  # Kamstrup (Norway)
}

# The meter's own abstract codes (A = 0, B = 0), keyed by (C, D, E).
_ABSTRACT: Final[Mapping[tuple[int, int, int], _Spec]] = {
    (1, 0, 0): _Spec("meter_time", TIMESTAMP, "time", detail=True, common=False),
    (96, 1, 1): _info("equipment_id"),
    (96, 1, 255): _info("equipment_id"),  # Q3D writes 0-0:96.1.255
    (96, 1, 0): _info("meter_number"),
    (42, 0, 0): _info("logical_device_name"),
    (96, 1, 4): _info("protocol_version"),  # Belgian e-MUCS
    (96, 1, 7): _info("meter_type"),
    (96, 5, 0): _info("meter_status"),
    (96, 13, 0): _info("text_message"),
    (96, 13, 1): _info("message_code"),
    (96, 14, 0): _Spec("tariff", ENUM, "state", states=_TARIFF_STATES),
    (96, 3, 10): _Spec("breaker_state", ENUM, "state", detail=True, states=_CONTROL_STATES),
    # The limiter is sent in kW by most meters but in A by DSMR 3; the unit decides.
    (17, 0, 0): _Spec("limiter", POWER, "setting", detail=True, common=False),
    (96, 7, 21): _count("power_failures"),
    (96, 7, 9): _count("long_power_failures"),
    # Belgian peak history; the value is the number of months listed (rows in `entries`).
    (98, 1, 0): _count("peak_history", "log"),
}

# M-Bus sub-meter codes (A = 0, B = channel 1..n), keyed by (C, D, E).
_MBUS: Final[Mapping[tuple[int, int, int], _Spec]] = {
    (24, 1, 0): _Spec("mbus_device_type", None, "identity", detail=True, common=False),
    (96, 1, 0): _info("equipment_id"),
    (96, 1, 1): _info("equipment_id"),
    (24, 4, 0): _Spec("valve_state", ENUM, "state", detail=True, states=_CONTROL_STATES),
}

# The reading of a sub-meter: 24.2.1 (DSMR 4/5), 24.2.3 (Belgian temperature-corrected gas).
# 0-n:24.3.0 (DSMR 2.2/3) is only the header of the gas profile: the parser reports its
# reading as 0-n:24.2.1, so the header is described generically, not as a second reading.
_MBUS_READING_CODES: Final = frozenset({(24, 2, 1), (24, 2, 3)})
_MBUS_READINGS: Final[Mapping[str, _Spec]] = {
    "gas": _Spec("gas_consumption", GAS, "counter"),
    "water": _Spec("water_consumption", WATER, "counter"),
    "warm_water": _Spec("warm_water_consumption", WATER, "counter"),
    "heat": _Spec("heat_energy", ENERGY, "counter"),
    "cooling": _Spec("cooling_energy", ENERGY, "counter"),
    # A meter of another kind: its unit says more than the table can.
    "unknown": _Spec("mbus_reading", VOLUME, "counter"),
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
UNSUPPORTED_LISTS: Final = "unsupported_lists"

CAPACITY: Final = frozenset(
    {
        CAPACITY_CURRENT_QUARTER,
        CAPACITY_PROJECTED_QUARTER,
        CAPACITY_LAST_QUARTER,
        CAPACITY_MONTH_PEAK,
        CAPACITY_MONTH_PEAK_TIME,
        CAPACITY_BILLING_MEAN,
    }
)
"""The capacity-tariff figures (they matter where such a tariff is billed)."""


def _capacity(key: str) -> _Spec:
    return _Spec(key, POWER, unit="kW")


_SYNTHETIC_SPECS: Final[Mapping[str, _Spec]] = {
    # Sums of the tariff registers, for the Energy dashboard; unit follows the registers.
    TOTAL_IMPORT: _Spec(TOTAL_IMPORT, ENERGY, "counter", unit="kWh"),
    TOTAL_EXPORT: _Spec(TOTAL_EXPORT, ENERGY, "counter", unit="kWh"),
    # Import minus export: negative while exporting.
    NET_POWER: _Spec(NET_POWER, POWER, unit="kW"),
    CAPACITY_CURRENT_QUARTER: _capacity(CAPACITY_CURRENT_QUARTER),
    CAPACITY_PROJECTED_QUARTER: _capacity(CAPACITY_PROJECTED_QUARTER),
    CAPACITY_LAST_QUARTER: _capacity(CAPACITY_LAST_QUARTER),
    CAPACITY_MONTH_PEAK: _capacity(CAPACITY_MONTH_PEAK),
    CAPACITY_BILLING_MEAN: _capacity(CAPACITY_BILLING_MEAN),
    CAPACITY_MONTH_PEAK_TIME: _Spec(CAPACITY_MONTH_PEAK_TIME, TIMESTAMP, "time"),
    METER_PEAK_TIME: _Spec(METER_PEAK_TIME, TIMESTAMP, "time"),
    # Changes with every message: a detail few want recorded.
    MESSAGE_AGE: _Spec(MESSAGE_AGE, DURATION, detail=True, common=False, unit="s"),
    # Link health. CRC errors and reconnects are what users look for when a meter
    # misbehaves; the other two are rarer.
    CRC_FAILURES: _count(CRC_FAILURES, "tally"),
    DECODE_FAILURES: _count(DECODE_FAILURES, "tally", common=False),
    COUNTER_REJECTIONS: _count(COUNTER_REJECTIONS, "tally", common=False),
    RECONNECTS: _count(RECONNECTS, "tally"),
    # Messages whose list layout the decoder does not know (DLMS).
    UNSUPPORTED_LISTS: _count(UNSUPPORTED_LISTS, "tally"),
}

SYNTHETIC: Final[frozenset[str]] = frozenset(_SYNTHETIC_SPECS)
"""Keys of the values the integration computes; pass them to `meaning_of` like a code."""

# Dialects that say which tariff register is the low (night) rate. Dutch DSMR: 1 = low,
# 2 = normal. Belgium (Fluvius) and E.ON Hungary swap them. Elsewhere the number stays.
_LOW_TARIFF: Final[Mapping[str, int]] = {
    "dsmr2": 1,
    "dsmr4": 1,
    "dsmr5": 1,
    FLEMISH_VARIANT: 2,
    "eon_hu": 2,
}


def meaning_of(
    obis: str,
    unit: str | None = None,
    mbus_type: int | None = None,
    *,
    text: bool = False,
    variant: str | None = None,
) -> Meaning:
    """Say what a reduced OBIS code means; `unit` and the context refine the answer.

    `obis` may also be one of the `SYNTHETIC` keys. `unit` is the canonical unit of the
    reading (see `units.canonical_unit`). `mbus_type` is the device type the sub-meter on
    the code's channel announced (0-n:24.1.0). `text` says the value is not a number; it
    only matters for codes the catalogue does not know. `variant` is the snapshot's dialect,
    which may say which tariff is the low one.
    """
    return _meaning_of(obis, unit, mbus_type, text, variant)


@lru_cache(maxsize=2048)
def _meaning_of(
    obis: str, unit: str | None, mbus_type: int | None, text: bool, variant: str | None
) -> Meaning:
    synthetic = _SYNTHETIC_SPECS.get(obis)
    if synthetic is not None:
        return _build(synthetic, unit)
    code = parse_obis(obis)
    if code is not None:
        a, b, c, d, e = code
        if a == 1:
            found = _electricity(c, d, e, unit, variant)
        elif a == 0 and b == 0:
            spec = _ABSTRACT.get((c, d, e))
            found = None if spec is None else _build(spec, unit)
        elif a == 0:
            found = _mbus(c, d, e, unit, mbus_type)
        else:
            found = None
        if found is not None:
            return found
    return _generic(obis, unit, text)


def _electricity(c: int, d: int, e: int, unit: str | None, variant: str | None) -> Meaning | None:
    spec = _ELECTRICITY_FIXED.get((c, d, e))
    if spec is not None:
        return _build(spec, unit)
    if not 1 <= c <= 80:
        return None
    phase, base = divmod(c - 1, 20)
    spec = _ELECTRICITY.get((base + 1, d))
    if spec is None or (phase and not spec.phases) or (e and not spec.tariffs):
        return None
    meaning = _build(spec, unit)
    if phase:
        meaning = replace(meaning, phase=_PHASE_NAMES[phase])
    if e:
        meaning = replace(meaning, tariff=e, rate=_rate(variant, e))
    return meaning


def _rate(variant: str | None, tariff: int) -> Literal["low", "normal"] | None:
    low = _LOW_TARIFF.get(variant or "")
    if low is None or tariff not in {1, 2}:
        return None
    return "low" if tariff == low else "normal"


def _mbus(c: int, d: int, e: int, unit: str | None, mbus_type: int | None) -> Meaning | None:
    if (c, d, e) in _MBUS_READING_CODES:
        return _build(_MBUS_READINGS[mbus_kind(mbus_type, unit)], unit)
    spec = _MBUS.get((c, d, e))
    return None if spec is None else _build(spec, unit)


def _build(spec: _Spec, unit: str | None) -> Meaning:
    numeric = spec.behaviour not in _NON_NUMERIC
    return Meaning(
        quantity=spec.quantity,
        kind=spec.kind,
        behaviour=spec.behaviour,
        unit=(unit if unit is not None else spec.unit) if numeric else None,
        quadrant=spec.quadrant,
        states=spec.states,
        detail=spec.detail,
        common=spec.common,
    )


def _generic(obis: str, unit: str | None, text: bool) -> Meaning:
    """The meaning of a code the catalogue does not know, from its unit alone.

    Not common (DLMS meters list angles, harmonics and more that few want), never dropped.
    An unknown register in an energy or volume unit may be a net or per-period value that
    falls, so it is a `balance`, never a guarded counter.
    """
    if text:
        return Meaning(quantity=GENERIC, kind=None, behaviour="identity", code=obis, common=False)
    kind = None if unit is None else UNIT_KINDS.get(unit)
    return Meaning(
        quantity=GENERIC,
        kind=kind,
        behaviour="balance" if kind in _CUMULATIVE_KINDS else "instant",
        unit=unit,
        code=obis,
        common=False,
    )


@dataclass(frozen=True, slots=True)
class QuantityForm:
    """One form a quantity's meaning can take, for callers that name every form."""

    quantity: str
    phase: bool
    tariff: bool
    quadrant: bool
    states: tuple[str, ...]


def quantity_forms() -> Iterator[QuantityForm]:
    """Every (quantity, with phase?, with tariff?) combination `meaning_of` can return."""
    yield QuantityForm(GENERIC, phase=False, tariff=False, quadrant=False, states=())
    specs = [
        *_ELECTRICITY.values(),
        *_ELECTRICITY_FIXED.values(),
        *_ABSTRACT.values(),
        *_MBUS.values(),
        *_MBUS_READINGS.values(),
        *_SYNTHETIC_SPECS.values(),
    ]
    seen: set[tuple[str, bool, bool]] = set()
    for spec in specs:
        for phase in (False, True) if spec.phases else (False,):
            for tariff in (False, True) if spec.tariffs else (False,):
                if (spec.quantity, phase, tariff) in seen:
                    continue
                seen.add((spec.quantity, phase, tariff))
                yield QuantityForm(
                    spec.quantity,
                    phase=phase,
                    tariff=tariff,
                    quadrant=spec.quadrant is not None,
                    states=spec.states,
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


def tariff_name(variant: str | None, value: object) -> str | None:
    """Map the tariff indicator 0-0:96.14.0 to `low` / `normal`; None when it is neither.

    Dutch DSMR: 1 = low (night), 2 = normal. Belgium (Fluvius) and E.ON Hungary swap them.
    """
    number = _small_int(value)
    if number not in {1, 2}:
        return None
    # Without a known dialect the Dutch meaning, the most common one on a P1 port.
    low = _LOW_TARIFF.get(variant or "", 1)
    return "low" if number == low else "normal"


def control_state(value: object) -> str | None:
    """Map a breaker (0-0:96.3.10) or valve (0-n:24.4.0) state to its enum option.

    COSEM disconnect control: 0 disconnected, 1 connected, 2 ready for reconnection.
    """
    number = _small_int(value)
    if number is None or not 0 <= number < len(_CONTROL_STATES):
        return None
    return _CONTROL_STATES[number]
