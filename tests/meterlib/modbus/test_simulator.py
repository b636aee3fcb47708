"""The fleet simulator itself: consistent physics, temporary silence, the demo layout."""

from __future__ import annotations

import time

from pymodbus.constants import ExcCodes

from custom_components.energy_gateway.meterlib.modbus.decode import decode_value
from custom_components.energy_gateway.meterlib.modbus.schema import load_maps
from simulators.modbus_fleet import ModbusFleet, SimMeter


def test_energy_integrates_power_per_phase() -> None:
    meter = SimMeter(1, load_maps().maps["meatrol"], 1)
    start = time.monotonic()
    before = list(meter.load.import_wh)
    later = start + 3600.0
    quantities = meter.load.quantities(later)
    gained = [after - was for after, was in zip(meter.load.import_wh, before, strict=True)]
    # One hour of a load swinging ±20 % around its base: close to the base in Wh.
    for phase, base in enumerate(meter.load.base_watts):
        assert abs(gained[phase] - base) < 0.25 * base
    assert quantities["1-0:1.8.0"] == sum(meter.load.import_wh)
    total = quantities["1-0:21.7.0"] + quantities["1-0:41.7.0"] + quantities["1-0:61.7.0"]
    assert abs(quantities["1-0:1.7.0"] - total) < 1e-6


def test_registers_follow_the_map() -> None:
    maps = load_maps().maps
    meter = SimMeter(2, maps["carlogavazzi_em24"], 2)
    voltage = maps["carlogavazzi_em24"].registers[0]
    words = meter.read(4, voltage.address, 2)
    assert isinstance(words, list)
    assert 225 < decode_value(words, voltage) < 235
    assert meter.read(4, 11, 1) == [1648]  # the first EM24 identification code
    assert meter.read(3, 60000, 2) == ExcCodes.ILLEGAL_ADDRESS  # unmapped


def test_silence_is_temporary() -> None:
    meter = SimMeter(3, load_maps().maps["meatrol"], 3)
    meter.silence(0.0)
    assert not meter.silent
    meter.silence()
    assert meter.silent
    meter.wake()
    assert not meter.silent


def test_demo_fleet_has_gaps_and_mixed_models() -> None:
    fleet = ModbusFleet.demo(32)
    addresses = sorted(fleet.meters)
    assert len(addresses) == 32
    assert 4 not in addresses
    assert addresses[-1] == 42
    models = {m.meter_map.id for m in fleet.meters.values() if m.meter_map is not None}
    assert len(models) == 8
