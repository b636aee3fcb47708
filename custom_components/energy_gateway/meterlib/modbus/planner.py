"""Read planning: each meter's registers in the fewest, cheapest requests its map allows.

Per function code the sorted registers are cut into blocks by dynamic programming: a block
costs one request overhead plus the registers it spans, so a hole is over-read exactly when
that is cheaper than another request (docs/modbus.md §3). Blocks never exceed the model's
maximum, and a map that forbids holes only gets blocks of adjacent registers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from .schema import MAX_READ_REGISTERS, FunctionCode, RegisterSpec

RTU_REQUEST_OVERHEAD: Final = 20
"""One RTU request costs about as much bus time as 20 registers: 13 bytes and 2 t3.5 are
10, and a typical meter's turnaround (20 ms at 9600 Bd) another 10."""
TCP_REQUEST_OVERHEAD: Final = 31
"""Modbus TCP: MBAP and TCP/IP headers, about 31 registers (Victron's rule)."""


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One FC03/FC04 request and the map entries its reply carries."""

    fc: FunctionCode
    address: int
    count: int
    registers: tuple[RegisterSpec, ...]

    @property
    def end(self) -> int:
        """First address after the block."""
        return self.address + self.count

    @property
    def has_holes(self) -> bool:
        """True when the block spans registers none of its entries covers."""
        return sum(spec.count for spec in self.registers) != self.count

    def values(self, registers: Sequence[int]) -> Iterable[tuple[RegisterSpec, Sequence[int]]]:
        """Each entry with its slice of the block's reply."""
        for spec in self.registers:
            start = spec.address - self.address
            yield spec, registers[start : start + spec.count]


def block_of(registers: Sequence[RegisterSpec]) -> ReadBlock:
    """The single block covering `registers` (sorted, one function code)."""
    first, last = registers[0], max(registers, key=lambda spec: spec.end)
    return ReadBlock(first.fc, first.address, last.end - first.address, tuple(registers))


def plan_reads(
    registers: Iterable[RegisterSpec],
    *,
    max_count: int = MAX_READ_REGISTERS,
    read_holes: bool = True,
    request_overhead: int = RTU_REQUEST_OVERHEAD,
    avoid: Iterable[RegisterSpec] = (),
) -> list[ReadBlock]:
    """Cut the registers into the cheapest list of blocks, each at most `max_count`
    registers, spanning holes only when `read_holes` and never the registers of `avoid`
    (ones the meter refused); sorted by function code and address."""
    max_count = max(1, min(max_count, MAX_READ_REGISTERS))
    by_fc: dict[FunctionCode, list[RegisterSpec]] = {}
    for spec in sorted(set(registers), key=lambda spec: (spec.fc, spec.address, spec.count)):
        by_fc.setdefault(spec.fc, []).append(spec)
    blocks: list[ReadBlock] = []
    for fc, specs in by_fc.items():
        barriers = [(spec.address, spec.end) for spec in avoid if spec.fc == fc]
        blocks += _cheapest_cut(specs, max_count, read_holes, request_overhead, barriers)
    return blocks


def _crosses(start: int, end: int, barriers: list[tuple[int, int]]) -> bool:
    return any(low < end and high > start for low, high in barriers)


def _cheapest_cut(
    specs: list[RegisterSpec],
    max_count: int,
    read_holes: bool,
    overhead: int,
    barriers: list[tuple[int, int]],
) -> list[ReadBlock]:
    """Optimal partition of sorted registers into contiguous runs of the sorted list."""
    count = len(specs)
    best = [0] * (count + 1)  # best[i]: cost of the first i registers
    cut = [0] * (count + 1)  # cut[i]: where the last block of that best plan starts
    for end in range(1, count + 1):
        best[end] = -1
        block_end = specs[end - 1].end
        for start in range(end - 1, -1, -1):
            span = block_end - specs[start].address
            if span > max_count:
                break
            if start < end - 1 and not read_holes and specs[start].end != specs[start + 1].address:
                break
            if start < end - 1 and specs[start].end > specs[start + 1].address:
                break  # overlapping entries (a broken user map): never one block
            if barriers and _crosses(specs[start].address, block_end, barriers):
                break
            cost = best[start] + overhead + span
            if best[end] < 0 or cost < best[end]:
                best[end], cut[end] = cost, start
        if best[end] < 0:  # a single register wider than max_count: alone anyway
            best[end], cut[end] = best[end - 1] + overhead + specs[end - 1].count, end - 1
    blocks: list[ReadBlock] = []
    end = count
    while end:
        start = cut[end]
        blocks.append(block_of(specs[start:end]))
        end = start
    return blocks[::-1]


def split_block(block: ReadBlock) -> list[ReadBlock]:
    """Smaller blocks for a retry after the meter refused `block`: its runs of adjacent
    registers when it spans holes, else its two halves."""
    if len(block.registers) == 1:
        return [block]
    if block.has_holes:
        runs: list[list[RegisterSpec]] = [[block.registers[0]]]
        for spec in block.registers[1:]:
            if spec.address == runs[-1][-1].end:
                runs[-1].append(spec)
            else:
                runs.append([spec])
        return [block_of(run) for run in runs]
    middle = len(block.registers) // 2
    return [block_of(block.registers[:middle]), block_of(block.registers[middle:])]
