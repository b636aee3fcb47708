"""Per-quantity multipliers expand to the codes the meters actually use (channel 0 or 1,
tariffs), and a factor of 1 costs nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.energy_gateway.meterlib.dlms import decode_message
from custom_components.energy_gateway.meterlib.dlms.quantity_multipliers import (
    QUANTITY_CODES,
    Quantity,
    code_multipliers,
)
from simulators.dlms_meter import SimulatedPushListMeter

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_factor_one_adds_nothing() -> None:
    """A meter without corrections gets an empty table (no work per message)."""
    assert code_multipliers(dict.fromkeys(Quantity, 1.0)) == {}


def test_quantities_do_not_overlap() -> None:
    """Each code belongs to one quantity, so one factor never corrects another's values."""
    seen: set[str] = set()
    for codes in QUANTITY_CODES.values():
        assert seen.isdisjoint(codes)
        seen.update(codes)


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        (Quantity.ENERGY, "1-1:1.8.0"),  # Landis+Gyr push-object list: channel 1
        (Quantity.ENERGY, "1-0:2.8.3"),  # a tariff register
        (Quantity.ENERGY, "1-0:3.8.0"),  # reactive energy
        (Quantity.POWER, "1-0:21.7.0"),  # active power L1
        (Quantity.VOLTAGE, "1-0:52.7.0"),
        (Quantity.CURRENT, "1-0:91.7.0"),  # neutral
    ],
)
def test_codes_of_each_quantity(quantity: Quantity, code: str) -> None:
    """The registers users mean by a quantity are in its list."""
    assert code in QUANTITY_CODES[quantity]


def test_push_list_meter_corrected_per_quantity() -> None:
    """On a Landis+Gyr push-object-list frame, energy and current are corrected, the rest
    stays as sent."""
    meter = SimulatedPushListMeter(meter_number="71234567")
    frame = meter.frames(NOW)
    table = code_multipliers({Quantity.ENERGY: 10.0, Quantity.CURRENT: 0.1})
    readings = decode_message(frame, multipliers=table).readings
    for code, sent in meter.reported.items():
        value = readings[code].value
        if code.endswith((":1.8.0", ":2.8.0")):
            assert value == pytest.approx(float(sent) * 10)
        elif code in ("1-0:31.7.0", "1-0:51.7.0", "1-0:71.7.0"):
            assert value == pytest.approx(float(sent) * 0.1)
        else:
            assert value == sent
