"""What OBIS codes mean: quantity, phase, tariff, behaviour (no Home Assistant involved)."""

from __future__ import annotations

import pytest

from custom_components.energy_gateway.meterlib.core import meaning as catalogue
from custom_components.energy_gateway.meterlib.core.meaning import (
    GENERIC,
    SYNTHETIC,
    UNIT_KINDS,
    control_state,
    mbus_kind,
    meaning_of,
    quantity_forms,
    tariff_name,
)


@pytest.mark.parametrize(
    ("code", "unit", "quantity", "phase", "tariff"),
    [
        ("1-0:1.8.0", "kWh", "energy_import", None, None),
        ("1-0:1.8.1", "kWh", "energy_import", None, 1),
        ("1-0:2.8.2", "Wh", "energy_export", None, 2),
        ("1-0:62.8.3", "kWh", "energy_export", "L3", 3),
        ("1-0:32.7.0", "V", "voltage", "L1", None),
        ("1-0:71.7.0", "A", "current", "L3", None),
        ("1-0:41.7.0", "W", "power_import", "L2", None),
        ("1-0:13.7.0", None, "power_factor", None, None),
        ("1-0:1.6.1", "kW", "maximum_demand_import", None, 1),
        ("1-0:91.7.0", "A", "current_neutral", None, None),
        # Channel B = 1 (Kamstrup, Aidon) means the same quantity.
        ("1-1:1.7.0", "W", "power_import", None, None),
    ],
)
def test_electricity_quantities(
    code: str, unit: str | None, quantity: str, phase: str | None, tariff: int | None
) -> None:
    meaning = meaning_of(code, unit)
    assert (meaning.quantity, meaning.phase, meaning.tariff, meaning.unit) == (
        quantity,
        phase,
        tariff,
        unit,
    )
    assert meaning.known


def test_behaviours() -> None:
    assert meaning_of("1-0:1.8.1", "kWh").behaviour == "counter"
    assert meaning_of("1-0:1.8.1", "kWh").counter
    # Net energy goes both ways: a balance the counter guard must not hold back.
    net = meaning_of("1-0:16.8.0", "kWh")
    assert (net.behaviour, net.counter) == ("balance", False)
    assert meaning_of("1-0:1.7.0", "kW").behaviour == "instant"
    assert meaning_of("1-0:31.4.0", "A").behaviour == "setting"
    assert meaning_of("0-0:96.7.21").behaviour == "count"
    assert meaning_of("1-0:99.97.0").behaviour == "log"
    assert meaning_of(catalogue.RECONNECTS).behaviour == "tally"
    assert meaning_of("0-0:96.1.1").behaviour == "identity"
    assert meaning_of("0-0:1.0.0").behaviour == "time"
    assert not meaning_of("0-0:1.0.0", "s").numeric
    assert meaning_of("0-0:1.0.0", "s").unit is None
    breaker = meaning_of("0-0:96.3.10")
    assert (breaker.behaviour, breaker.states) == (
        "state",
        ("disconnected", "connected", "ready_for_reconnection"),
    )
    assert meaning_of("0-0:96.14.0").states == ("low", "normal")


def test_kinds_and_details() -> None:
    assert meaning_of("1-0:3.8.0", "kvarh").kind == "reactive_energy"
    assert meaning_of("1-0:9.8.0", "kVAh").kind == "apparent_energy"
    assert meaning_of("1-0:14.7.0", "Hz").kind == "frequency"
    quadrant = meaning_of("1-0:7.8.0", "kvarh")
    assert (quadrant.quadrant, quadrant.common) == ("Q3", False)
    identity = meaning_of("0-0:96.1.0")
    assert (identity.detail, identity.common, identity.kind) == (True, False, None)
    assert not meaning_of("1-0:1.7.0", "kW").detail


def test_tariff_rates_follow_the_dialect() -> None:
    assert meaning_of("1-0:1.8.1", "kWh", variant="dsmr5").rate == "low"
    assert meaning_of("1-0:1.8.2", "kWh", variant="dsmr2").rate == "normal"
    assert meaning_of("1-0:1.8.1", "kWh", variant="fluvius").rate == "normal"
    assert meaning_of("1-0:2.8.2", "kWh", variant="eon_hu").rate == "low"
    assert meaning_of("1-0:1.8.1", "kWh", variant="smarty").rate is None
    assert meaning_of("1-0:1.8.1", "kWh").rate is None
    assert meaning_of("1-0:1.8.3", "kWh", variant="dsmr5").rate is None


@pytest.mark.parametrize(
    ("mbus_type", "unit", "quantity"),
    [
        (3, "m³", "gas_consumption"),
        (7, "m³", "water_consumption"),
        (6, "m³", "warm_water_consumption"),
        (4, "GJ", "heat_energy"),
        (10, "GJ", "cooling_energy"),
        (None, "m³", "gas_consumption"),
        (None, "kWh", "mbus_reading"),
        (2, "kWh", "mbus_reading"),
    ],
)
def test_mbus_readings_are_counters(mbus_type: int | None, unit: str | None, quantity: str) -> None:
    for code in ("0-1:24.2.1", "0-2:24.2.3"):
        meaning = meaning_of(code, unit, mbus_type)
        assert (meaning.quantity, meaning.counter) == (quantity, True)


def test_unknown_codes_mean_what_their_unit_says() -> None:
    power = meaning_of("1-0:81.7.4", "W")
    assert (power.quantity, power.code, power.kind, power.behaviour) == (
        GENERIC,
        "1-0:81.7.4",
        "power",
        "instant",
    )
    assert not power.known
    assert not power.common
    # An unknown energy or volume register may fall: a balance, never guarded.
    for unit in ("Wh", "kvarh", "m³"):
        assert meaning_of("1-0:128.8.0", unit).behaviour == "balance"
    assert meaning_of("1-0:128.7.0", "rpm").kind is None
    text = meaning_of("0-0:96.99.0", text=True)
    assert (text.behaviour, text.unit, text.code) == ("identity", None, "0-0:96.99.0")
    # The DSMR 2.2/3 gas profile header is not a second reading.
    assert not meaning_of("0-1:24.3.0", None, 3).known
    for code in ("1-0:1.7.1", "1-0:41.4.0", "2-0:1.8.0", "1-0:1.8.0*255", "total", ""):
        assert meaning_of(code, "kW").quantity == GENERIC, code


def test_synthetic_values() -> None:
    for key in SYNTHETIC:
        assert meaning_of(key).quantity == key
    assert meaning_of(catalogue.TOTAL_IMPORT).unit == "kWh"
    assert meaning_of(catalogue.TOTAL_IMPORT, "Wh").unit == "Wh"
    assert meaning_of(catalogue.TOTAL_IMPORT).counter
    assert meaning_of(catalogue.NET_POWER).unit == "kW"
    assert catalogue.CAPACITY <= SYNTHETIC
    for key in catalogue.CAPACITY - {catalogue.CAPACITY_MONTH_PEAK_TIME}:
        assert (meaning_of(key).kind, meaning_of(key).unit) == ("power", "kW")


def test_every_unit_kind_is_a_canonical_unit_family() -> None:
    assert UNIT_KINDS["kWh"] == UNIT_KINDS["Wh"] == "energy"
    assert UNIT_KINDS["m³"] == "volume"


def test_quantity_forms_cover_every_answer() -> None:
    forms = {(form.quantity, form.phase, form.tariff) for form in quantity_forms()}
    for code, unit in (("1-0:62.8.3", "kWh"), ("1-0:32.7.0", "V"), ("1-0:1.6.1", "kW")):
        meaning = meaning_of(code, unit)
        assert (meaning.quantity, meaning.phase is not None, meaning.tariff is not None) in forms
    assert (GENERIC, False, False) in forms
    assert len(forms) == len(list(quantity_forms()))


def test_mbus_kind() -> None:
    assert mbus_kind(3) == "gas"
    assert mbus_kind(7) == "water"
    assert mbus_kind(22) == "water"
    assert mbus_kind(6) == "warm_water"
    assert mbus_kind(21) == "warm_water"
    assert mbus_kind(4) == "heat"
    assert mbus_kind(12) == "heat"
    assert mbus_kind(13) == "heat"
    assert mbus_kind(10) == "cooling"
    assert mbus_kind(11) == "cooling"
    assert mbus_kind(2) == "unknown"
    assert mbus_kind(0) == "unknown"
    assert mbus_kind(None) == "unknown"
    assert mbus_kind(None, "m³") == "gas"
    assert mbus_kind(None, "MJ") == "heat"
    assert mbus_kind(None, "kWh") == "unknown"
    # A known type is not second-guessed by the unit.
    assert mbus_kind(7, "GJ") == "water"


def test_results_are_cached() -> None:
    assert meaning_of("1-0:1.8.1", "kWh") is meaning_of("1-0:1.8.1", "kWh")
    assert meaning_of("1-0:1.8.1", "kWh") is not meaning_of("1-0:1.8.1", "Wh")


@pytest.mark.parametrize(
    ("variant", "value", "expected"),
    [
        ("dsmr5", "0001", "low"),
        ("dsmr5", "0002", "normal"),
        (None, 1, "low"),
        ("dsmr4", 2.0, "normal"),
        ("fluvius", "0001", "normal"),
        ("fluvius", 2, "low"),
        ("eon_hu", " 0001 ", "normal"),
        ("eon_hu", "0002", "low"),
        ("dsmr5", "0003", None),
        ("dsmr5", 0, None),
        ("dsmr5", True, None),
        ("dsmr5", 1.5, None),
        ("dsmr5", "²", None),
        ("dsmr5", "", None),
        ("dsmr5", None, None),
        ("fluvius", b"1", None),
    ],
)
def test_tariff_name(variant: str | None, value: object, expected: str | None) -> None:
    assert tariff_name(variant, value) == expected


def test_control_state() -> None:
    assert control_state(0) == "disconnected"
    assert control_state("1") == "connected"
    assert control_state(2.0) == "ready_for_reconnection"
    assert control_state(3) is None
    assert control_state(-1) is None
    assert control_state("on") is None
    assert control_state(None) is None
