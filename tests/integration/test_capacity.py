"""Capacity-tariff sensors computed from the import counter, across quarter and month ends."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Imported before any clock is frozen: modules imported during a freeze keep freezegun's
# clock for good (pyserial stores time.monotonic as a class attribute).
from custom_components.energy_gateway import sensor  # noqa: F401
from custom_components.energy_gateway.const import DOMAIN

from .conftest import MeterServer, network_entry, reencode, setup_entry, telegram, wait_until

BRUSSELS = ZoneInfo("Europe/Brussels")
TARIFF_1 = b"1-0:1.8.1(000004.426*kWh)"
TARIFF_2_KWH = 2.399  # 1-0:1.8.2 in dsmr_v5.txt, unchanged here


def _at(day: int, hour: int, minute: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BRUSSELS)


def _state(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    """The state of one of the entry's sensors, by its key."""
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.unique_id}_{key}")
    assert entity_id is not None, key
    current = hass.states.get(entity_id)
    assert current is not None
    return current.state


@pytest.fixture(autouse=True)
def belgian_home(hass: HomeAssistant) -> None:
    """A home billed by capacity: its capacity sensors are enabled from the start."""
    hass.config.country = "BE"


@pytest.fixture
def wall_clock() -> Generator[FrozenDateTimeFactory]:
    """Time travel for the wall clock only: the event loop keeps real monotonic time, so
    sockets and sleeps work while the meter's readings land at chosen local times."""
    with freeze_time(_at(31, 10, 14), ignore=["asyncio"]) as factory:
        yield factory


async def test_quarters_and_month_rollover(
    hass: HomeAssistant, meter_server: MeterServer, wall_clock: FrozenDateTimeFactory
) -> None:
    """Quarter averages, the month peak and its time, and the month history after the
    1st of the next month, all computed from the import counter at the times it is read."""
    freezer = wall_clock
    await hass.config.async_set_time_zone("Europe/Brussels")
    base = telegram("dsmr_v5.txt")
    tariff_2 = TARIFF_2_KWH

    def at_total(total_kwh: float) -> bytes:
        return reencode(base, TARIFF_1, f"1-0:1.8.1({total_kwh - tariff_2:010.3f}*kWh)".encode())

    freezer.move_to(_at(31, 10, 14))
    meter_server.greeting = at_total(100.000)
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)

    def state(key: str) -> str:
        return _state(hass, entry, key)

    async def reading(when: datetime, total_kwh: float) -> None:
        freezer.move_to(when)
        count = len(published)
        await meter_server.push(at_total(total_kwh))
        await wait_until(lambda: len(published) > count)
        await hass.async_block_till_done()

    published: list[object] = []
    coordinator = entry.runtime_data.coordinator
    entry.async_on_unload(coordinator.async_add_listener(lambda: published.append(1)))

    await reading(_at(31, 10, 15), 100.100)  # the 10:00 quarter was partial: not a peak
    assert state("capacity_last_quarter") == "unknown"
    await reading(_at(31, 10, 22).replace(second=30), 100.600)
    assert float(state("capacity_current_quarter")) == 4.0  # 0.5 kWh in 7.5 min
    await reading(_at(31, 10, 30), 101.100)
    assert float(state("capacity_last_quarter")) == 4.0
    assert float(state("capacity_month_peak")) == 4.0
    assert state("capacity_month_peak_time") == "2026-03-31T08:15:00+00:00"
    await reading(_at(31, 10, 45), 101.350)
    assert float(state("capacity_last_quarter")) == 1.0
    assert float(state("capacity_month_peak")) == 4.0
    # One month known so far: its peak, 4.0 kW.
    assert float(state("capacity_billing_mean")) == 4.0

    # Month end: the last March quarter closes at local midnight, then April starts fresh.
    await reading(_at(31, 23, 45), 110.000)
    await reading(_at(1, 0, 0, month=4), 110.500)  # 2.0 kW quarter, still March
    await reading(_at(1, 0, 15, month=4), 110.600)  # first April quarter: 0.4 kW
    assert float(state("capacity_month_peak")) == 0.4
    assert state("capacity_month_peak_time") == "2026-03-31T22:00:00+00:00"
    # March (4.0) and April (0.4): a Dutch meter, so no Flemish 2.5 kW floor → 2.2 kW.
    assert float(state("capacity_billing_mean")) == 2.2
    mean_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.unique_id}_capacity_billing_mean"
    )
    assert mean_id is not None
    months = hass.states.get(mean_id).attributes["months"]
    assert [(month["month"], month["peak_kw"]) for month in months] == [("2026-03", 4.0)]
    assert datetime.fromisoformat(months[0]["peak_start"]) == _at(31, 10, 15)


async def test_a_belgian_meter_names_its_month_peak_at_once(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """The meter's 1-0:1.6.0 fills the month peak from the first telegram, instead of
    leaving it unknown until a whole quarter has been heard."""
    await hass.config.async_set_time_zone("Europe/Brussels")
    with freeze_time(datetime(2020, 5, 23, 12, 0, 5, tzinfo=BRUSSELS), ignore=["asyncio"]):
        meter_server.greeting = telegram("fluvius_v171.txt")  # 1-0:1.6.0(200509134558S)(02.589*kW)
        entry = network_entry(meter_server.port)
        await setup_entry(hass, entry)
        assert float(_state(hass, entry, "capacity_month_peak")) == 2.589
        assert _state(hass, entry, "capacity_month_peak_time") == "2020-05-09T11:45:00+00:00"
        assert _state(hass, entry, "capacity_last_quarter") == "unknown"
