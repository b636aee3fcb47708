"""The fleet poller against a real pymodbus server: coalesced reads, word orders, dead,
slow and refusing meters."""

from __future__ import annotations

import asyncio

from pymodbus.constants import ExcCodes
import pytest

from custom_components.energy_gateway.meterlib.core.errors import LinkError
from custom_components.energy_gateway.meterlib.modbus.client import ModbusBus, ModbusBusSettings
from custom_components.energy_gateway.meterlib.modbus.errors import SilentBusError
from custom_components.energy_gateway.meterlib.modbus.poller import FleetPoller, MeterAssignment
from simulators.modbus_fleet import ModbusFleet

from .conftest import Transport, serving

MIXED = {
    1: "meatrol",
    3: "eastron_sdm630",
    4: "carlogavazzi_em24",  # int32 little word order (CDAB), scale 0.1
    6: "abb_b23_b24",  # holes forbidden, uint64 energies
    7: "schneider_iem3000",  # int64 Wh energies, power in kW
    9: "chint_dtsu666",  # floats carrying scaled integers
}


def _assign(placement: dict[int, str]) -> list[MeterAssignment]:
    return [MeterAssignment(address, model) for address, model in placement.items()]


@pytest.mark.parametrize("transport", ["tcp", "rtu", "serial"])
async def test_cycle_reads_every_meter_in_coalesced_blocks(transport: Transport) -> None:
    fleet = ModbusFleet.of_models(MIXED)
    async with serving(fleet, transport) as bus:
        poller = FleetPoller(bus, _assign(MIXED))
        snapshots = await poller.poll_cycle()
        first_cycle_requests = bus.ledger.requests
        await poller.poll_cycle()
        second_cycle_requests = bus.ledger.requests - first_cycle_requests
    assert sorted(snapshots) == sorted(MIXED)
    meatrol = snapshots[1]
    assert (meatrol.format, meatrol.variant, meatrol.header) == ("modbus", "meatrol", "Meatrol")
    assert meatrol.meter_id == "10000001"
    assert snapshots[4].meter_id is None  # the EM24 map has no serial register
    assert len(meatrol.readings) == 15
    assert poller.meters[1].blocks[0].count == 36  # 1000-1035 over the holes
    # Serial numbers are read once, at the first contact: later cycles are the plan alone.
    assert second_cycle_requests == sum(len(state.blocks) for state in poller.meters.values())


async def test_values_decode_to_the_simulated_truth_in_every_word_order() -> None:
    fleet = ModbusFleet.of_models(MIXED)
    async with serving(fleet) as bus:
        snapshots = await FleetPoller(bus, _assign(MIXED)).poll_cycle()
    for address, snapshot in snapshots.items():
        truth = fleet.meters[address].load
        volts = snapshot.value("1-0:32.7.0")
        assert isinstance(volts, float)
        assert 225.0 < volts < 235.0, snapshot.variant
        energy = snapshot.readings["1-0:1.8.0"]
        assert energy.unit == "kWh"
        assert energy.value == pytest.approx(sum(truth.import_wh) / 1000, rel=1e-3)
        power = snapshot.readings["1-0:1.7.0"]
        total = sum(truth.watts(truth.last))
        watts = power.value * 1000 if power.unit == "kW" else power.value
        assert watts == pytest.approx(total, rel=0.05), snapshot.variant
    assert snapshots[4].value("1-0:13.7.0") == 0.95


@pytest.mark.parametrize("transport", ["tcp", "rtu", "serial"])
async def test_dead_meter_is_backed_off_and_comes_back(transport: Transport) -> None:
    placement = {1: "meatrol", 2: "eastron_sdm630", 5: "meatrol"}
    fleet = ModbusFleet.of_models(placement)
    async with serving(fleet, transport) as bus:
        poller = FleetPoller(bus, _assign(placement))
        assert sorted(await poller.poll_cycle()) == [1, 2, 5]
        fleet.meters[2].silence()
        silent_before = bus.ledger.silent
        assert sorted(await poller.poll_cycle()) == [1, 5]  # cycle 2: one timeout
        assert bus.ledger.silent == silent_before + 1
        state = poller.meters[2]
        assert state.alive is False
        assert state.dead_since is not None
        assert state.next_retry_cycle == 3
        assert sorted(await poller.poll_cycle()) == [1, 5]  # cycle 3: re-probed
        assert bus.ledger.silent == silent_before + 2
        assert state.next_retry_cycle == 5
        assert sorted(await poller.poll_cycle()) == [1, 5]  # cycle 4: skipped
        assert bus.ledger.silent == silent_before + 2
        diagnostics = poller.diagnostics()
        assert diagnostics["meters"]["2"]["alive"] is False  # type: ignore[index]
        assert diagnostics["meters"]["2"]["retry_in_cycles"] == 1  # type: ignore[index]
        fleet.meters[2].wake()
        assert sorted(await poller.poll_cycle()) == [1, 2, 5]  # cycle 5: back
        assert state.alive is True
        assert state.dead_since is None


async def test_meter_never_heard_gets_the_full_timeout_once() -> None:
    placement = {1: "meatrol"}
    fleet = ModbusFleet.of_models(placement)
    fleet.meters[1].delay = 0.1  # slower than min_timeout, faster than timeout
    async with serving(fleet, min_timeout=0.05, timeout=0.4) as bus:  # never heard: 0.4 s
        poller = FleetPoller(bus, _assign(placement))
        snapshots = await poller.poll_cycle()
        assert bus.ledger.silent == 0
        assert bus.timeout_for(1, 36) >= 0.4  # adaptive: 4 x the measured turnaround
    assert sorted(snapshots) == [1]


async def test_refused_register_is_split_out_and_disabled() -> None:
    placement = {1: "meatrol", 2: "meatrol"}
    fleet = ModbusFleet.of_models(placement)
    fleet.meters[1].refuse = {1030}  # power L2
    async with serving(fleet) as bus:
        poller = FleetPoller(bus, _assign(placement))
        first = await poller.poll_cycle()
        requests = bus.ledger.requests
        second = await poller.poll_cycle()
        second_requests = bus.ledger.requests - requests
    assert "1-0:41.7.0" not in first[1].readings
    assert len(first[1].readings) == 14
    assert len(first[2].readings) == 15
    assert poller.meters[1].disabled == {"power_l2"}
    assert poller.diagnostics()["meters"]["1"]["disabled_registers"] == ["power_l2"]  # type: ignore[index]
    # The plan is rebuilt around the refused register; the twin keeps its two blocks.
    assert [(b.address, b.count) for b in poller.meters[1].blocks] == [
        (1000, 30),
        (1032, 4),
        (2500, 16),
    ]
    assert "power_l2" not in [s.name for b in poller.meters[1].blocks for s in b.registers]
    assert len(poller.meters[2].blocks) == 2
    assert second_requests == 3 + 2
    assert len(second[1].readings) == 14


async def test_strict_meter_teaches_the_model_to_avoid_holes() -> None:
    placement = {1: "meatrol", 2: "meatrol"}
    fleet = ModbusFleet.of_models(placement)
    for meter in fleet.meters.values():
        meter.strict = True  # exception 02 for reads spanning unmapped registers
    async with serving(fleet) as bus:
        poller = FleetPoller(bus, _assign(placement))
        first = await poller.poll_cycle()
        requests = bus.ledger.requests
        second = await poller.poll_cycle()
        second_requests = bus.ledger.requests - requests
    assert len(first[1].readings) == len(first[2].readings) == 15
    assert poller.meters[1].disabled == set()
    assert all(not block.has_holes for s in poller.meters.values() for block in s.blocks)
    assert second_requests == 2 * 4  # 1000-1007, 1010-1015, 1028-1035, 2500-2515
    assert len(second[2].readings) == 15


async def test_busy_block_is_skipped_for_one_cycle() -> None:
    placement = {1: "meatrol"}
    fleet = ModbusFleet.of_models(placement)
    fleet.meters[1].busy = {2500}
    async with serving(fleet) as bus:
        poller = FleetPoller(bus, _assign(placement))
        first = await poller.poll_cycle()
        fleet.meters[1].busy = set()
        second = await poller.poll_cycle()
    assert "1-0:21.8.0" not in first[1].readings
    assert "1-0:32.7.0" in first[1].readings
    assert "1-0:21.8.0" in second[1].readings
    assert poller.meters[1].skipped_blocks == 1
    assert poller.meters[1].disabled == set()


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (ExcCodes.ILLEGAL_VALUE, "disabled"),
        (ExcCodes.ILLEGAL_FUNCTION, "disabled"),
        (ExcCodes.DEVICE_FAILURE, "skipped"),
        (ExcCodes.GATEWAY_NO_RESPONSE, "silent"),
    ],
)
async def test_exception_codes(code: ExcCodes, outcome: str) -> None:
    placement = {1: "meatrol", 2: "meatrol"}
    fleet = ModbusFleet.of_models(placement)
    fleet.meters[1].errors = {2504: code}  # energy import L2
    async with serving(fleet) as bus:
        poller = FleetPoller(bus, _assign(placement))
        snapshots = await poller.poll_cycle()
    assert 2 in snapshots
    state = poller.meters[1]
    if outcome == "silent":  # a gateway reporting the unit behind it as mute
        assert 1 not in snapshots
        assert state.alive is False
        return
    readings = snapshots[1].readings
    assert "1-0:41.8.0" not in readings
    assert "1-0:32.7.0" in readings
    if outcome == "disabled":
        assert state.disabled == {"energy_import_l2"}
        assert "1-0:61.8.0" in readings  # the rest of the block, read in pieces
    else:
        assert state.disabled == set()
        assert state.skipped_blocks == 1


async def test_invalid_values_are_dropped_and_counted() -> None:
    placement = {1: "abb_b23_b24"}
    fleet = ModbusFleet.of_models(placement)
    async with serving(fleet) as bus:
        poller = FleetPoller(bus, _assign(placement))
        meter = fleet.meters[1]
        real_read = meter.read

        def all_ones_frequency(fc: int, address: int, count: int) -> object:
            words = real_read(fc, address, count)
            if address == 23340 and isinstance(words, list):
                return [0xFFFF] * count  # ABB's "no value" marker
            return words

        meter.read = all_ones_frequency  # type: ignore[method-assign,assignment]
        snapshots = await poller.poll_cycle()
    assert "1-0:14.7.0" not in snapshots[1].readings
    assert "1-0:32.7.0" in snapshots[1].readings
    assert poller.meters[1].invalid_values == 1


async def test_silent_bus_raises() -> None:
    placement = {1: "meatrol", 2: "meatrol"}
    fleet = ModbusFleet.of_models(placement)
    for meter in fleet.meters.values():
        meter.silence()
    async with serving(fleet, timeout=0.1, min_timeout=0.1) as bus:
        poller = FleetPoller(bus, _assign(placement))
        with pytest.raises(SilentBusError, match="no meter"):
            await poller.poll_cycle()
        with pytest.raises(SilentBusError):  # cycle 2: both re-probed
            await poller.poll_cycle()
        silent = bus.ledger.silent
        with pytest.raises(SilentBusError):  # cycle 3: both backed off, nothing sent
            await poller.poll_cycle()
        assert bus.ledger.silent == silent == 4


async def test_lost_connection_raises_a_link_error() -> None:
    placement = {1: "meatrol"}
    fleet = ModbusFleet.of_models(placement)
    async with serving(fleet) as bus:
        poller = FleetPoller(bus, _assign(placement))
        assert sorted(await poller.poll_cycle()) == [1]
        await fleet.stop()
        with pytest.raises(LinkError):
            await poller.poll_cycle()


async def test_a_cancelled_cycle_stops_at_once() -> None:
    """Cancelling the poll while it waits for a silent meter stops it; the meters after it
    are not asked (whatever pymodbus makes of the cancellation)."""
    placement = {1: "meatrol", 2: "meatrol", 3: "meatrol"}
    fleet = ModbusFleet.of_models(placement)
    fleet.meters[1].silence()
    async with serving(fleet, timeout=2.0, min_timeout=2.0) as bus:
        cycle = asyncio.create_task(FleetPoller(bus, _assign(placement)).poll_cycle())
        await asyncio.sleep(0.2)  # waiting for meter 1's answer
        cycle.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cycle
        assert fleet.meters[2].requests == fleet.meters[3].requests == 0


def test_assignments_are_checked() -> None:
    bus = ModbusBus(ModbusBusSettings(host="127.0.0.1"))
    with pytest.raises(ValueError, match="no register map"):
        FleetPoller(bus, [MeterAssignment(1, "nonexistent")])
    with pytest.raises(ValueError, match="same address"):
        FleetPoller(bus, [MeterAssignment(1, "meatrol"), MeterAssignment(1, "meatrol")])
    with pytest.raises(ValueError, match=r"1\.\.247"):
        FleetPoller(bus, [MeterAssignment(0, "meatrol")])
