"""Bus-time arithmetic against the tables of docs/modbus.md, and the bus's link errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custom_components.energy_gateway.meterlib.core.errors import LinkError, PortNotFoundError
from custom_components.energy_gateway.meterlib.modbus.client import (
    UNIT_KEYWORD,
    ModbusBus,
    ModbusBusSettings,
)
from custom_components.energy_gateway.meterlib.modbus.errors import BusUnreachableError
from custom_components.energy_gateway.meterlib.modbus.scanner import scan_units
from custom_components.energy_gateway.meterlib.modbus.schema import load_maps
from custom_components.energy_gateway.meterlib.modbus.wire import BusLedger, LineTiming
from simulators.modbus_fleet import ModbusFleet, SimMeter

from .conftest import serving

N8 = LineTiming(9600, "N", 1)
E8 = LineTiming(9600, "E", 1)
FAST = LineTiming(19200, "N", 1)


@pytest.mark.parametrize(
    ("registers", "ms_8n1", "ms_8e1", "ms_19200"),
    [
        (1, 22.9, 25.2, 11.5),
        (2, 25.0, 27.5, 12.5),
        (10, 41.7, 45.8, 20.8),
        (40, 104.2, 114.6, 52.1),
        (125, 281.3, 309.4, 140.6),
    ],
)
def test_read_times_match_the_brief(
    registers: int, ms_8n1: float, ms_8e1: float, ms_19200: float
) -> None:
    assert N8.read_time(registers) * 1000 == pytest.approx(ms_8n1, abs=0.06)
    assert E8.read_time(registers) * 1000 == pytest.approx(ms_8e1, abs=0.06)
    assert FAST.read_time(registers) * 1000 == pytest.approx(ms_19200, abs=0.06)


def test_worked_example_32_meatrol_meters() -> None:
    # One request per value: 12 x 2 + 4 x 4 registers; coalesced: 36 + 16 registers.
    per_value = 12 * N8.read_time(2) + 4 * N8.read_time(4)
    assert 32 * per_value == pytest.approx(13.33, abs=0.01)
    coalesced = N8.read_time(36) + N8.read_time(16)
    assert 32 * coalesced == pytest.approx(4.80, abs=0.01)
    with_turnaround = N8.read_time(36, 0.02) + N8.read_time(16, 0.02)
    assert 32 * with_turnaround == pytest.approx(6.08, abs=0.01)


def test_fast_lines_use_a_fixed_silence() -> None:
    assert LineTiming(115200).t35 == 0.00175
    assert LineTiming(9600, "N", 2).bits_per_char == 11


def test_ledger_wire_time() -> None:
    ledger = BusLedger(answered=2, registers=52, exceptions=1, silent=1, timeout_waited=0.1)
    expected = N8.read_time(36) + N8.read_time(16) + N8.exception_time() + N8.silent_time(0.1)
    assert ledger.wire_time(N8) == pytest.approx(expected)
    assert ledger.bytes == 4 * 8 + 2 * 5 + 104 + 5
    ledger.reset()
    assert ledger.requests == 0


def test_unit_keyword_fits_the_installed_pymodbus() -> None:
    import pymodbus

    major, minor = (int(part) for part in pymodbus.__version__.split(".")[:2])
    expected = "device_id" if (major, minor) >= (3, 10) else "slave"
    assert expected == UNIT_KEYWORD


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="either"):
        ModbusBusSettings()
    with pytest.raises(ValueError, match="either"):
        ModbusBusSettings(serial_port="/dev/ttyUSB0", host="h")
    with pytest.raises(ValueError, match="min_timeout"):
        ModbusBusSettings(host="h", timeout=0.1, min_timeout=0.2)


async def test_unreachable_host_raises_a_link_error(unused_tcp_port: int) -> None:
    bus = ModbusBus(ModbusBusSettings(host="127.0.0.1", port=unused_tcp_port))
    with pytest.raises(BusUnreachableError, match=f"127.0.0.1:{unused_tcp_port}") as caught:
        await bus.connect()
    assert "\n" not in str(caught.value)
    assert not bus.connected


async def test_missing_serial_port_raises() -> None:
    bus = ModbusBus(ModbusBusSettings(serial_port="/dev/ttyDOESNOTEXIST"))
    with pytest.raises(PortNotFoundError):
        await bus.connect()


async def test_read_before_connect_raises() -> None:
    bus = ModbusBus(ModbusBusSettings(host="127.0.0.1"))
    with pytest.raises(LinkError, match="not connected"):
        await bus.read(1, 3, 0, 1, wait=0.1)


async def test_a_user_map_identifies_and_reads_its_meter(tmp_path: Path) -> None:
    user_map = {
        "schema": "energy-gateway/modbus-map/1",
        "id": "acme_am3",
        "manufacturer": "Acme",
        "name": "Acme AM3",
        "identification": {
            "model": {"address": 9000, "fc": 3, "type": "u16", "codes": {"4242": "AM3"}},
            "serial": {"address": 9001, "fc": 3, "type": "u32"},
        },
        "registers": [
            {
                "name": "voltage_l1",
                "obis": "1-0:32.7.0",
                "address": 100,
                "fc": 4,
                "type": "u16",
                "scale": 0.1,
                "unit": "V",
            },
            {
                "name": "energy",
                "obis": "1-0:1.8.0",
                "address": 200,
                "fc": 4,
                "type": "u32",
                "word_order": "little",
                "unit": "Wh",
            },
        ],
    }
    (tmp_path / "acme.json").write_text(json.dumps(user_map))
    (tmp_path / "broken.json").write_text(json.dumps({**user_map, "id": "x", "registers": 5}))
    maps = load_maps([tmp_path])
    assert [Path(error.file).name for error in maps.errors] == ["broken.json"]
    fleet = ModbusFleet(
        [SimMeter(3, maps.maps["acme_am3"], 777), SimMeter(4, maps.maps["meatrol"], 5)]
    )
    async with serving(fleet) as bus:
        bus.maps = maps
        found = await scan_units(bus, [3, 4])
    assert [(m.address, m.model, m.serial, m.model_name) for m in found] == [
        (3, "acme_am3", "777", "AM3"),
        (4, "meatrol", "5", None),
    ]
