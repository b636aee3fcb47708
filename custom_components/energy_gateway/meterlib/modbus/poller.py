"""Polling a fleet: one cycle reads every meter that is due, in coalesced blocks.

Dead meters: the first unanswered read ends that meter's cycle (one short adaptive timeout),
then the meter is skipped for 1, 2, 4 … `max_backoff_cycles` cycles and re-probed with the
bus's full timeout (a slow meter declared dead too early gets a fair chance to come back).

Exception replies are handled per meter and per block: a refused block (illegal function,
address or value) is split (at its holes, else in halves) and the pieces retried once in the
same cycle; registers still refused alone are disabled for that meter and listed in
`diagnostics()`, and the meter's plan is rebuilt without them (and without holes, once a
hole was refused). Busy, acknowledge and device-failure replies skip the block this cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
import logging
from typing import TYPE_CHECKING, Final

from ..core.errors import DecodeError
from ..core.model import Reading, Snapshot
from .client import Outcome
from .decode import decode_value
from .errors import SilentBusError
from .planner import (
    RTU_REQUEST_OVERHEAD,
    TCP_REQUEST_OVERHEAD,
    ReadBlock,
    block_of,
    plan_reads,
    split_block,
)
from .scanner import check_addresses, read_serial

if TYPE_CHECKING:
    from .client import ModbusBus
    from .schema import MeterMap, RegisterSpec

_LOGGER = logging.getLogger(__name__)

FORMAT: Final = "modbus"
# Exception codes (Modbus application protocol §7).
ILLEGAL_FUNCTION: Final = 1
ILLEGAL_ADDRESS: Final = 2
ILLEGAL_VALUE: Final = 3
_REFUSED: Final = frozenset({ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE})
# 0x0A/0x0B: a gateway saying the unit behind it did not answer: the unit is silent.
_GATEWAY_SILENT: Final = frozenset({0x0A, 0x0B})


@dataclass(frozen=True, slots=True)
class MeterAssignment:
    """A meter the poller reads: its unit address and the id of its map."""

    address: int
    model_id: str


@dataclass(slots=True)
class MeterState:
    """What the poller knows about one meter."""

    address: int
    meter_map: MeterMap
    blocks: list[ReadBlock]
    alive: bool | None = None
    """None before the first contact."""
    dead_since: datetime | None = None
    failures: int = 0
    """Consecutive cycles without an answer."""
    next_retry_cycle: int = 0
    serial: str | None = None
    serial_read: bool = False
    disabled: set[str] = field(default_factory=set)
    """Names of registers the meter refused alone."""
    read_holes: bool = True
    skipped_blocks: int = 0
    """Blocks left out of a cycle: busy, acknowledge, device failure, malformed reply."""
    exceptions: dict[str, int] = field(default_factory=dict)
    """Exception replies of this meter by code (`"2"`, `"6"`; `"malformed"` for a reply of
    the wrong length)."""
    invalid_values: int = 0
    last_success: datetime | None = None


class FleetPoller:
    """Reads every assigned meter once per `poll_cycle`, robust against dead meters."""

    def __init__(
        self,
        bus: ModbusBus,
        meters: Sequence[MeterAssignment],
        *,
        max_backoff_cycles: int = 32,
    ) -> None:
        """Raise ValueError for an address outside 1..247, a duplicate address or a model
        id the bus's maps do not know."""
        check_addresses([meter.address for meter in meters])
        if len({meter.address for meter in meters}) != len(meters):
            raise ValueError("two meters with the same address")
        unknown = sorted({m.model_id for m in meters if m.model_id not in bus.maps.maps})
        if unknown:
            raise ValueError(f"no register map for {', '.join(unknown)}")
        self.bus = bus
        self.cycle = 0
        self.max_backoff_cycles = max_backoff_cycles
        self._overhead = RTU_REQUEST_OVERHEAD if bus.settings.rtu_framed else TCP_REQUEST_OVERHEAD
        self._strict_models: set[str] = set()
        self.meters: dict[int, MeterState] = {}
        for meter in sorted(meters, key=lambda meter: meter.address):
            meter_map = bus.maps.maps[meter.model_id]
            state = MeterState(meter.address, meter_map, [], read_holes=meter_map.read_holes)
            state.blocks = self._plan(state)
            self.meters[meter.address] = state

    async def poll_cycle(self) -> dict[int, Snapshot]:
        """Read every meter that is due; a meter without data this cycle has no key.

        Raises `SilentBusError` while no meter of the fleet answers (dead meters are still
        re-probed on their schedule), `ModbusLinkError` when the link itself broke.
        """
        self.cycle += 1
        snapshots: dict[int, Snapshot] = {}
        for state in self.meters.values():
            if state.alive is False and self.cycle < state.next_retry_cycle:
                continue
            snapshot = await self._poll_meter(state)
            if snapshot is not None:
                snapshots[state.address] = snapshot
        if self.meters and not any(state.alive for state in self.meters.values()):
            raise SilentBusError(f"no meter on {self.bus.settings.target} answers")
        return snapshots

    async def _poll_meter(self, state: MeterState) -> Snapshot | None:
        readings: dict[str, Reading] = {}
        replan = False
        for index, block in enumerate(state.blocks):
            wait = self._first_wait(state, block) if index == 0 else None
            result = await self._read_block(state, block, readings, wait=wait)
            if result is None:
                self._mark_dead(state)
                return None
            replan |= result
        self._mark_alive(state)
        if not state.serial_read:
            state.serial_read = True
            state.serial = await read_serial(self.bus, state.address, state.meter_map)
        if replan:
            state.blocks = self._plan(state)
        return Snapshot(
            format=FORMAT,
            meter_id=state.serial,
            timestamp=None,
            readings=readings,
            variant=state.meter_map.id,
            header=state.meter_map.manufacturer,
        )

    async def _read_block(
        self,
        state: MeterState,
        block: ReadBlock,
        readings: dict[str, Reading],
        *,
        wait: float | None = None,
        retry: bool = True,
    ) -> bool | None:
        """Read one block into `readings`, waiting `wait` (default: the unit's adaptive
        timeout). None: the meter is silent; True: the plan must be rebuilt (a register was
        disabled or a hole refused); False: nothing to change."""
        bus = self.bus
        if wait is None:
            wait = bus.timeout_for(state.address, block.count)
        reply = await bus.read(state.address, block.fc, block.address, block.count, wait=wait)
        if reply.outcome is Outcome.SILENT or reply.exception_code in _GATEWAY_SILENT:
            return None
        if reply.outcome is Outcome.DATA:
            self._decode(state, block, reply.registers, readings)
            return False
        code = "malformed" if reply.exception_code is None else str(reply.exception_code)
        state.exceptions[code] = state.exceptions.get(code, 0) + 1
        if reply.exception_code not in _REFUSED:
            state.skipped_blocks += 1  # busy, device failure, malformed: try next cycle
            return False
        if len(block.registers) == 1:
            spec = block.registers[0]
            state.disabled.add(spec.name)
            _LOGGER.warning(
                "Modbus unit %s (%s) refuses register %s (%s): disabled",
                state.address,
                state.meter_map.id,
                spec.name,
                spec.address,
            )
            return True
        disabled_before = len(state.disabled)
        pieces = split_block(block) if retry else [block_of([s]) for s in block.registers]
        for piece in pieces:
            if await self._read_block(state, piece, readings, retry=False) is None:
                return None
        if block.has_holes and len(state.disabled) == disabled_before:
            # Every register reads fine alone: the meter rejects reads across unmapped
            # registers. Remember it for the model (docs/modbus.md §3).
            self._strict_models.add(state.meter_map.id)
        return True

    def _first_wait(self, state: MeterState, block: ReadBlock) -> float:
        """Patience for a meter's first request of the cycle: its adaptive timeout while
        it answers, twice that when re-probing a meter heard before, the bus's maximum for
        one never heard (it may just be slow)."""
        bus = self.bus
        adaptive = bus.timeout_for(state.address, block.count)
        longest = bus.timeout_for(state.address, block.count, ceiling=True)
        if state.alive:
            return adaptive
        if not bus.knows(state.address):
            return longest
        if state.alive is None:  # found by a scan on this bus
            return adaptive
        return min(2 * adaptive, longest)

    def _decode(
        self,
        state: MeterState,
        block: ReadBlock,
        registers: Sequence[int],
        readings: dict[str, Reading],
    ) -> None:
        invalid_all_ones = state.meter_map.invalid_all_ones
        for spec, words in block.values(registers):
            try:
                value = decode_value(words, spec, invalid_all_ones=invalid_all_ones)
            except DecodeError:
                state.invalid_values += 1
                continue
            readings[spec.obis] = Reading(spec.obis, value, spec.unit)

    def _plan(self, state: MeterState) -> list[ReadBlock]:
        meter_map = state.meter_map
        if meter_map.id in self._strict_models:
            state.read_holes = False
        wanted: list[RegisterSpec] = []
        refused: list[RegisterSpec] = []
        for spec in meter_map.registers:
            (refused if spec.name in state.disabled else wanted).append(spec)
        return plan_reads(
            wanted,
            max_count=meter_map.max_registers_per_read,
            read_holes=state.read_holes,
            request_overhead=self._overhead,
            avoid=refused,
        )

    def _mark_dead(self, state: MeterState) -> None:
        state.failures += 1
        if state.alive is not False:
            state.dead_since = datetime.now(UTC)
            _LOGGER.warning(
                "Modbus unit %s (%s) does not answer", state.address, state.meter_map.id
            )
        state.alive = False
        backoff = min(2 ** (state.failures - 1), self.max_backoff_cycles)
        state.next_retry_cycle = self.cycle + backoff

    def _mark_alive(self, state: MeterState) -> None:
        if state.alive is False:
            _LOGGER.info("Modbus unit %s (%s) answers again", state.address, state.meter_map.id)
        state.alive = True
        state.dead_since = None
        state.failures = 0
        state.last_success = datetime.now(UTC)
        if state.meter_map.id in self._strict_models and state.read_holes:
            state.blocks = self._plan(state)

    def diagnostics(self) -> dict[str, object]:
        """Per-meter state and bus counters, JSON-ready (no secrets: Modbus has none)."""
        ledger = self.bus.ledger
        return {
            "target": self.bus.settings.target,
            "cycle": self.cycle,
            "bus": {
                "requests": ledger.requests,
                "answered": ledger.answered,
                "exceptions": ledger.exceptions,
                "timeouts": ledger.silent,
                "rtu_bytes": ledger.bytes,
            },
            "meters": {
                str(state.address): _meter_diagnostics(state, self.bus, self.cycle)
                for state in self.meters.values()
            },
        }


def _meter_diagnostics(state: MeterState, bus: ModbusBus, cycle: int) -> dict[str, object]:
    return {
        "model": state.meter_map.id,
        "serial": state.serial,
        "alive": state.alive,
        "dead_since": state.dead_since.isoformat() if state.dead_since else None,
        "next_retry_cycle": state.next_retry_cycle if state.alive is False else None,
        "retry_in_cycles": max(0, state.next_retry_cycle - cycle) if state.alive is False else 0,
        "disabled_registers": sorted(state.disabled),
        "read_holes": state.read_holes,
        "blocks": [[block.fc, block.address, block.count] for block in state.blocks],
        "timeout_s": round(bus.timeout_for(state.address, 1), 4),
        "skipped_blocks": state.skipped_blocks,
        "exceptions": dict(sorted(state.exceptions.items())),
        "invalid_values": state.invalid_values,
        "last_success": state.last_success.isoformat() if state.last_success else None,
    }
