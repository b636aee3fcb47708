"""Discovery: which units answer, and which map each one is, without typing an address.

Per address, the model-code registers of the maps are read first (one read serves every
family sharing it: Eastron's 0xFC02, Carlo Gavazzi's 0x000B, ABB's 0x8960, Schneider's
model text). The first read also tells presence: silence within the short probe timeout
means nobody is there, and the address costs nothing more (a gap between meters that
answered is asked once more at the end, see `scan_units`). A unit that answers (data or an
exception) but shows no known code gets the plausibility probes: the families without a
model register are tried by reading an L1 voltage and accepting 110/230 V ± 10 %
(docs/modbus.md §5). A unit that passes none is reported with `model=None`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ..core.errors import DecodeError
from .client import Outcome, Reply
from .decode import decode_code, decode_serial, decode_value
from .schema import FunctionCode, MapCatalogue, MeterMap, ModelCode

if TYPE_CHECKING:
    from .client import ModbusBus

FIRST_UNIT: Final = 1
LAST_UNIT: Final = 247
PLAUSIBLE_VOLTS: Final = (0.9 * 110.0, 1.1 * 230.0)


@dataclass(frozen=True, slots=True)
class FoundMeter:
    """A unit that answered a scan."""

    address: int
    model: str | None
    """Id of the matching map, None for a unit that answers but matches no map."""
    serial: str | None = None
    model_name: str | None = None
    """What the model-code register said (`SDM630`, `B23`), when the family has one."""
    manufacturer: str | None = None


@dataclass(frozen=True, slots=True)
class _CodeRead:
    """One model-code read and the families that answer it."""

    model: ModelCode
    maps: tuple[MeterMap, ...]


@dataclass(frozen=True, slots=True)
class IdentificationPlan:
    """The reads that identify a unit, in the order they are tried."""

    code_reads: tuple[_CodeRead, ...]
    probes: tuple[MeterMap, ...]

    @classmethod
    def from_maps(cls, maps: MapCatalogue) -> IdentificationPlan:
        """Group the families by their model-code register; order the probes."""
        groups: dict[tuple[int, int, int, str], tuple[ModelCode, list[MeterMap]]] = {}
        for meter_map in maps.maps.values():
            model = meter_map.identification.model
            if model is not None:
                key = (model.fc, model.address, model.count, model.data_type.value)
                groups.setdefault(key, (model, []))[1].append(meter_map)
        code_reads = tuple(_CodeRead(model, tuple(members)) for model, members in groups.values())
        probes = tuple(
            sorted(
                (m for m in maps.maps.values() if m.identification.probe is not None),
                key=lambda m: (m.identification.probe_priority, m.id),
            )
        )
        return cls(code_reads, probes)


def check_addresses(addresses: Sequence[int]) -> None:
    """Raise ValueError unless every address is a unit id 1..247."""
    bad = [address for address in addresses if not FIRST_UNIT <= address <= LAST_UNIT]
    if bad:
        raise ValueError(f"unit addresses must be {FIRST_UNIT}..{LAST_UNIT}, got {bad[:5]}")


async def scan_units(bus: ModbusBus, addresses: Sequence[int]) -> list[FoundMeter]:
    """Identify the units at `addresses`, in that order. Raises `ModbusLinkError` only if
    the link itself fails.

    Installers number the meters of a line from 1 upwards, so an address that was silent
    between two units that answered is more likely a meter busy for a moment (or a gateway
    or host that was) than an empty one: those gaps are asked once more at the end. The
    addresses past the last unit are not, as on a 1-247 scan they are most of the range."""
    check_addresses(addresses)
    plan = IdentificationPlan.from_maps(bus.maps)
    found: dict[int, FoundMeter] = {}
    silent: list[int] = []
    for address in addresses:
        meter = await identify_unit(bus, address, plan)
        if meter is None:
            silent.append(address)
        else:
            found[address] = meter
    if found:
        low, high = min(found), max(found)
        for address in silent:
            if low < address < high and (meter := await identify_unit(bus, address, plan)):
                found[address] = meter
    return [found[address] for address in addresses if address in found]


async def identify_unit(
    bus: ModbusBus, address: int, plan: IdentificationPlan | None = None
) -> FoundMeter | None:
    """Identify one unit; None when it does not answer at all."""
    plan = plan if plan is not None else IdentificationPlan.from_maps(bus.maps)
    heard = False
    for code_read in plan.code_reads:
        model = code_read.model
        if not heard:
            reply = await _read(bus, address, model.fc, model.address, model.count)
            if reply.outcome is Outcome.SILENT:
                return None
        else:
            # Skipping its model register would leave the plausibility probes to guess,
            # and a guess can name a sibling model.
            reply = await _read_patiently(bus, address, model.fc, model.address, model.count)
            if reply.outcome is Outcome.SILENT:
                return FoundMeter(address, None)
        heard = True
        if reply.outcome is not Outcome.DATA:
            continue
        try:
            code = decode_code(reply.registers, model)
        except DecodeError:
            continue
        for meter_map in code_read.maps:
            assert meter_map.identification.model is not None
            name = meter_map.identification.model.match(code)
            if name is not None:
                serial = await read_serial(bus, address, meter_map)
                return FoundMeter(address, meter_map.id, serial, name, meter_map.manufacturer)
    for meter_map in plan.probes:
        probe = meter_map.identification.probe
        assert probe is not None
        reply = await _read(bus, address, probe.fc, probe.address, probe.count)
        if reply.outcome is Outcome.SILENT and not heard:
            return None
        heard = True
        if reply.outcome is Outcome.DATA and _plausible_voltage(reply, meter_map):
            serial = await read_serial(bus, address, meter_map)
            return FoundMeter(address, meter_map.id, serial, None, meter_map.manufacturer)
    return FoundMeter(address, None) if heard else None


async def read_serial(bus: ModbusBus, address: int, meter_map: MeterMap) -> str | None:
    """The unit's serial number, or None when the family has none or it cannot be read."""
    spec = meter_map.identification.serial
    if spec is None:
        return None
    reply = await _read_patiently(bus, address, spec.fc, spec.address, spec.count)
    if reply.outcome is not Outcome.DATA:
        return None
    try:
        return decode_serial(reply.registers, spec)
    except DecodeError:
        return None


def _plausible_voltage(reply: Reply, meter_map: MeterMap) -> bool:
    probe = meter_map.identification.probe
    assert probe is not None
    try:
        volts = decode_value(reply.registers, probe, invalid_all_ones=meter_map.invalid_all_ones)
    except DecodeError:
        return False
    return PLAUSIBLE_VOLTS[0] <= volts <= PLAUSIBLE_VOLTS[1]


async def _read(
    bus: ModbusBus,
    address: int,
    fc: FunctionCode,
    start: int,
    count: int,
    *,
    ceiling: bool = False,
) -> Reply:
    wait = bus.timeout_for(address, count, ceiling=ceiling)
    return await bus.read(address, fc, start, count, wait=wait)


async def _read_patiently(
    bus: ModbusBus, address: int, fc: FunctionCode, start: int, count: int
) -> Reply:
    """A read from a unit that has answered before: silent now means slow (a busy meter,
    gateway or host), not absent, so a silence gets one more try with the full timeout."""
    reply = await _read(bus, address, fc, start, count)
    if reply.outcome is Outcome.SILENT:
        reply = await _read(bus, address, fc, start, count, ceiling=True)
    return reply
