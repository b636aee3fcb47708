"""How a meaning is shown in Home Assistant: names, device and state classes, precision.

The meter library says what a code means (`meterlib.core.meaning`); this module decides how
Home Assistant presents it, on Home Assistant's own tables (`DEVICE_CLASS_UNITS`,
`DEVICE_CLASS_STATE_CLASSES`), so every release gets what it accepts: a release that knows
reactive energy or kvar gives those readings their class, an older one leaves them
class-less rather than logging warnings and dropping them from statistics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.components.sensor.const import DEVICE_CLASS_STATE_CLASSES, DEVICE_CLASS_UNITS

from .meterlib.core.meaning import CAPACITY, GENERIC, UNIT_KINDS, Meaning, quantity_forms
from .meterlib.core.model import FLEMISH_VARIANT

CAPACITY_TARIFF_COUNTRIES: Final = frozenset({"BE"})
"""Countries that bill a capacity tariff (Belgium: Flanders since 2023)."""
CAPACITY_TARIFF_VARIANTS: Final = frozenset({FLEMISH_VARIANT})
"""Meter dialects of those countries (a Belgian meter anywhere)."""

_STATE_CLASSES: Final[Mapping[str, SensorStateClass]] = {
    "instant": SensorStateClass.MEASUREMENT,
    "counter": SensorStateClass.TOTAL_INCREASING,
    "balance": SensorStateClass.TOTAL,
}
"""Behaviours that make long-term statistics. Counts, logs, settings and texts do not: a
power-failure count or a reconnect tally in the statistics only clutters them."""

_UNITLESS_PRECISION: Final[Mapping[str, int]] = {"count": 0, "log": 0, "tally": 0}
_POWER_FACTOR_PRECISION: Final = 3

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
_SUGGESTED: Final[Mapping[tuple[SensorDeviceClass, str], str]] = {
    (SensorDeviceClass.ENERGY, "Wh"): "kWh",
}

_UNITLESS_CLASSES: Final = frozenset({SensorDeviceClass.TIMESTAMP, SensorDeviceClass.ENUM})


@dataclass(frozen=True, slots=True, kw_only=True)
class Presentation:
    """How Home Assistant shows one value."""

    translation_key: str
    placeholders: tuple[tuple[str, str], ...] = ()
    device_class: SensorDeviceClass | None = None
    state_class: SensorStateClass | None = None
    unit: str | None = None
    suggested_unit: str | None = None
    precision: int | None = None
    options: tuple[str, ...] = ()
    diagnostic: bool = False
    enabled_by_default: bool = True


def capacity_tariff_applies(country: str | None, variant: str | None) -> bool:
    """Whether capacity figures concern this user: a Belgian meter or a Belgian home."""
    return country in CAPACITY_TARIFF_COUNTRIES or variant in CAPACITY_TARIFF_VARIANTS


def present(meaning: Meaning, *, capacity_tariff: bool = True) -> Presentation:
    """Decide how Home Assistant shows a value of this meaning.

    `capacity_tariff` says whether the capacity figures concern the user; elsewhere they
    are created disabled (they still work when enabled).
    """
    key, placeholders = _name(meaning)
    enabled = meaning.common and (capacity_tariff or meaning.quantity not in CAPACITY)
    if not meaning.numeric:
        device_class = _device_class(meaning.kind)
        return Presentation(
            translation_key=key,
            placeholders=placeholders,
            device_class=device_class if device_class in _UNITLESS_CLASSES else None,
            options=meaning.states,
            diagnostic=meaning.detail,
            enabled_by_default=enabled,
        )
    state_class = None if meaning.detail else _STATE_CLASSES.get(meaning.behaviour)
    device_class = _fit_class(meaning.kind, state_class, meaning.unit)
    suggested = None if device_class is None else _SUGGESTED.get((device_class, meaning.unit or ""))
    return Presentation(
        translation_key=key,
        placeholders=placeholders,
        device_class=device_class,
        state_class=state_class,
        unit=meaning.unit,
        suggested_unit=suggested,
        precision=_precision(meaning, suggested),
        diagnostic=meaning.detail,
        enabled_by_default=enabled,
    )


def _device_class(kind: str | None) -> SensorDeviceClass | None:
    """Home Assistant's class for a kind, if this release has one."""
    if kind is None:
        return None
    try:
        return SensorDeviceClass(kind)
    except ValueError:
        return None


def _accepts(
    device_class: SensorDeviceClass, state_class: SensorStateClass | None, unit: str | None
) -> bool:
    states = DEVICE_CLASS_STATE_CLASSES.get(device_class, set(SensorStateClass))
    return unit in DEVICE_CLASS_UNITS.get(device_class, set()) and (
        state_class is None or state_class in states
    )


def _fit_class(
    kind: str | None, state_class: SensorStateClass | None, unit: str | None
) -> SensorDeviceClass | None:
    """The class the value may carry on this release.

    The kind's class when this release accepts the unit and state class with it; else the
    class the unit implies, when that fits (a limiter sent in A is a current, an M-Bus
    meter of unknown kind reading kWh is energy); else none: a class Home Assistant would
    reject costs the value its statistics.
    """
    device_class = _device_class(kind)
    if device_class is None or device_class in _UNITLESS_CLASSES:
        return None
    if _accepts(device_class, state_class, unit):
        return device_class
    implied = _device_class(UNIT_KINDS.get(unit or ""))
    if implied is None or implied in _UNITLESS_CLASSES:
        return None
    return implied if _accepts(implied, state_class, unit) else None


def _precision(meaning: Meaning, suggested: str | None) -> int | None:
    """Digits for the displayed unit; None for a unit this table does not know."""
    shown = suggested or meaning.unit
    if shown is not None:
        return _PRECISION.get(shown)
    if meaning.kind == "power_factor":
        return _POWER_FACTOR_PRECISION
    return _UNITLESS_PRECISION.get(meaning.behaviour)


def _name(meaning: Meaning) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The translation key and its placeholders: `energy_import_tariff_low`, `voltage_phase`."""
    key = meaning.quantity
    placeholders: list[tuple[str, str]] = []
    if meaning.quadrant is not None:
        placeholders.append(("quadrant", meaning.quadrant))
    if meaning.phase is not None:
        key += "_phase"
        placeholders.append(("phase", meaning.phase))
    if meaning.tariff is not None:
        key += "_tariff"
        # Naming the rate beats a number users must look up; a phase's tariff keeps it.
        if meaning.rate is not None and meaning.phase is None:
            key += f"_{meaning.rate}"
        else:
            placeholders.append(("tariff", str(meaning.tariff)))
    if meaning.code is not None:
        placeholders.append(("code", meaning.code))
    return key, tuple(placeholders)


def _translation_placeholders() -> Mapping[str, frozenset[str]]:
    keys: dict[str, frozenset[str]] = {}
    for form in quantity_forms():
        names = {"quadrant"} if form.quadrant else set()
        if form.quantity == GENERIC:
            names.add("code")
        key = form.quantity
        if form.phase:
            key += "_phase"
            names.add("phase")
        if form.tariff:
            key += "_tariff"
            if not form.phase:
                for rate in ("low", "normal"):
                    keys[f"{key}_{rate}"] = frozenset(names)
            names.add("tariff")
        keys[key] = frozenset(names)
    return MappingProxyType(keys)


TRANSLATION_PLACEHOLDERS: Final = _translation_placeholders()
"""Every translation key `present` can return, with the placeholder names it fills."""
