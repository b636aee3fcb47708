"""Discovery against a real pymodbus server: gaps, twins, unknown units, all transports."""

from __future__ import annotations

import pytest

from custom_components.energy_gateway.meterlib.modbus.scanner import FoundMeter, scan_units
from custom_components.energy_gateway.meterlib.modbus.schema import load_maps
from simulators.modbus_fleet import ModbusFleet

from .conftest import Transport, serving

PLACEMENT = {
    1: "meatrol",
    2: "meatrol",  # two meters of the same model
    4: "eastron_sdm630",
    5: "carlogavazzi_em24",
    7: "abb_b23_b24",
    8: "unknown",  # answers, matches no map
    10: "schneider_iem3000",
    11: "chint_dtsu666",
    13: "carlogavazzi_em340",
    14: "eastron_sdm120",
    16: "janitza_b_series",
}


def _summary(found: list[FoundMeter]) -> dict[int, tuple[str | None, str | None]]:
    return {meter.address: (meter.model, meter.serial) for meter in found}


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
async def test_scan_finds_and_identifies_every_unit(transport: Transport) -> None:
    fleet = ModbusFleet.of_models(PLACEMENT)
    async with serving(fleet, transport) as bus:
        found = await scan_units(bus, range(1, 18))
    assert _summary(found) == {
        1: ("meatrol", "10000001"),
        2: ("meatrol", "10000002"),
        4: ("eastron_sdm630", "10000004"),
        5: ("carlogavazzi_em24", None),
        7: ("abb_b23_b24", "10000007"),
        8: (None, None),
        10: ("schneider_iem3000", "10000010"),
        11: ("chint_dtsu666", None),
        13: ("carlogavazzi_em340", None),
        14: ("eastron_sdm120", "10000014"),
        16: ("janitza_b_series", None),
    }
    by_address = {meter.address: meter for meter in found}
    assert by_address[4].model_name == "SDM630"
    assert by_address[7].model_name == "B21"
    assert by_address[4].manufacturer == "Eastron"
    assert [meter.address for meter in found] == sorted(PLACEMENT)
    # An absent address costs one unanswered request; a gap between meters (3 to 15) a
    # second one, from the second look.
    assert bus.ledger.silent == 5 * 2 + 1


async def test_scan_over_a_pseudo_terminal_serial_line() -> None:
    fleet = ModbusFleet.of_models({1: "eastron_sdm630", 3: "meatrol"})
    async with serving(fleet, "serial") as bus:
        found = await scan_units(bus, [1, 2, 3])
    assert _summary(found) == {1: ("eastron_sdm630", "10000001"), 3: ("meatrol", "10000003")}


async def test_slow_meter_is_found_within_the_probe_timeout() -> None:
    fleet = ModbusFleet.of_models({1: "meatrol", 2: "eastron_sdm630"})
    fleet.meters[2].delay = 0.05
    async with serving(fleet, min_timeout=0.15) as bus:
        found = await scan_units(bus, [1, 2])
    assert _summary(found) == {1: ("meatrol", "10000001"), 2: ("eastron_sdm630", "10000002")}


async def test_a_gap_between_meters_is_asked_again() -> None:
    """A meter busy for a moment during its first probe is found by the second look at the
    gaps between meters that answered; addresses past the last meter are asked once."""
    fleet = ModbusFleet.of_models({1: "meatrol", 2: "eastron_sdm630", 4: "meatrol"})
    fleet.meters[2].unanswered = 1
    async with serving(fleet) as bus:
        found = await scan_units(bus, range(1, 7))
        assert bus.ledger.silent == 1 + 2 + 2  # unit 2 once; 3 twice; 5 and 6 once each
    assert _summary(found) == {
        1: ("meatrol", "10000001"),
        2: ("eastron_sdm630", "10000002"),
        4: ("meatrol", "10000004"),
    }
    assert [meter.address for meter in found] == [1, 2, 4]


async def test_silent_bus_finds_nothing() -> None:
    fleet = ModbusFleet.of_models({5: "meatrol"})
    fleet.meters[5].silence()
    async with serving(fleet) as bus:
        assert await scan_units(bus, range(1, 9)) == []
        assert bus.ledger.silent == 8


async def test_addresses_are_checked() -> None:
    async with serving(ModbusFleet()) as bus:
        with pytest.raises(ValueError, match=r"1\.\.247"):
            await scan_units(bus, [0, 1])
        with pytest.raises(ValueError, match=r"1\.\.247"):
            await scan_units(bus, [248])


async def test_every_builtin_family_is_identified() -> None:
    families = sorted(load_maps().maps)
    placement = dict(enumerate(families, start=1))
    fleet = ModbusFleet.of_models(placement)
    async with serving(fleet) as bus:
        found = await scan_units(bus, sorted(placement))
    identified = {meter.address: meter.model for meter in found}
    # Janitza's UMG 96RM has the B-series layout and no model register: the scan cannot
    # tell them apart and takes the B-series map (SCHEMA.md).
    expected = {
        address: "janitza_b_series" if model == "janitza_umg96rm" else model
        for address, model in placement.items()
    }
    assert identified == expected


@pytest.mark.parametrize("model", ["carlogavazzi_em24", "eastron_sdm630", "abb_b23_b24"])
async def test_a_unit_that_falls_silent_while_identified_is_not_guessed(model: str) -> None:
    """A unit that answers once and then stops (a gateway hiccup) is reported as unknown, for
    the user to pick a map, never named after a plausibility probe's guess."""
    fleet = ModbusFleet.of_models({2: model})
    meter = fleet.meters[2]
    answer = meter.read

    def answer_once(fc: int, address: int, count: int) -> list[int] | object:
        result = answer(fc, address, count)
        meter.silence()
        return result

    meter.read = answer_once  # type: ignore[method-assign,assignment]
    async with serving(fleet) as bus:
        found = await scan_units(bus, [2])
    assert [(meter.address, meter.model) for meter in found] in ([(2, None)], [(2, model)])
