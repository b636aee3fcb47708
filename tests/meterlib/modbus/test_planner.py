"""The read planner: coalescing per model limits, proven on random register sets (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.energy_gateway.meterlib.modbus.planner import (
    RTU_REQUEST_OVERHEAD,
    TCP_REQUEST_OVERHEAD,
    ReadBlock,
    plan_reads,
    split_block,
)
from custom_components.energy_gateway.meterlib.modbus.schema import (
    DataType,
    RegisterSpec,
    load_maps,
)

_WIDTH_TYPES = {1: DataType.U16, 2: DataType.F32, 4: DataType.U64}


@st.composite
def register_sets(draw: st.DrawFn) -> list[RegisterSpec]:
    """Non-overlapping registers of both function codes, widths 1/2/4, random gaps."""
    specs = []
    for fc in (3, 4):
        address = draw(st.integers(0, 300))
        for index in range(draw(st.integers(0, 25))):
            width = draw(st.sampled_from([1, 2, 4]))
            specs.append(
                RegisterSpec(f"r{fc}_{index}", "1-0:1.7.0", address, fc, _WIDTH_TYPES[width], width)
            )
            address += width + draw(st.one_of(st.just(0), st.integers(0, 140)))
            if address > 0xFFF0:
                break
    return specs


def _covered(blocks: list[ReadBlock]) -> list[RegisterSpec]:
    return [spec for block in blocks for spec in block.registers]


@settings(max_examples=150, deadline=None)
@given(
    specs=register_sets(),
    max_count=st.integers(4, 125),
    read_holes=st.booleans(),
    overhead=st.sampled_from([0, 1, RTU_REQUEST_OVERHEAD, TCP_REQUEST_OVERHEAD]),
)
def test_plan_properties(
    specs: list[RegisterSpec], max_count: int, read_holes: bool, overhead: int
) -> None:
    blocks = plan_reads(
        specs, max_count=max_count, read_holes=read_holes, request_overhead=overhead
    )
    covered = _covered(blocks)
    # Every register read exactly once.
    assert sorted(covered, key=lambda s: s.name) == sorted(specs, key=lambda s: s.name)
    assert len(covered) == len(set(covered))
    for block in blocks:
        # No request over its limit, every entry inside its block, one function code.
        assert 1 <= block.count <= max_count
        assert all(spec.fc == block.fc for spec in block.registers)
        assert all(
            block.address <= spec.address and spec.end <= block.end for spec in block.registers
        )
        assert block.address == block.registers[0].address
        assert block.end == max(spec.end for spec in block.registers)
        # No forbidden hole.
        if not read_holes:
            assert not block.has_holes


@settings(max_examples=100, deadline=None)
@given(specs=register_sets())
def test_no_more_requests_than_registers_and_zero_overhead_reads_no_hole(
    specs: list[RegisterSpec],
) -> None:
    assert len(plan_reads(specs)) <= len(specs)
    for block in plan_reads(specs, request_overhead=0):
        assert not block.has_holes


def test_meatrol_is_two_requests_per_cycle() -> None:
    meatrol = load_maps().maps["meatrol"]
    blocks = plan_reads(
        meatrol.registers, max_count=meatrol.max_registers_per_read, read_holes=meatrol.read_holes
    )
    assert [(b.fc, b.address, b.count) for b in blocks] == [(3, 1000, 36), (3, 2500, 16)]


def test_strict_map_reads_only_adjacent_registers() -> None:
    abb = load_maps().maps["abb_b23_b24"]
    blocks = plan_reads(abb.registers, max_count=abb.max_registers_per_read, read_holes=False)
    assert all(not block.has_holes for block in blocks)
    assert (3, 23316, 8) in [(b.fc, b.address, b.count) for b in blocks]


def test_model_limit_is_respected() -> None:
    em340 = load_maps().maps["carlogavazzi_em340"]
    blocks = plan_reads(em340.registers, max_count=50, request_overhead=1000)
    assert max(block.count for block in blocks) <= 50
    assert len(blocks) == 2


def test_split_block() -> None:
    meatrol = load_maps().maps["meatrol"]
    (block, _) = plan_reads(meatrol.registers)
    pieces = split_block(block)
    assert [(p.address, p.count) for p in pieces] == [(1000, 8), (1010, 6), (1028, 8)]
    halves = split_block(pieces[0])
    assert [(p.address, p.count) for p in halves] == [(1000, 4), (1004, 4)]
    quarters = split_block(halves[0])
    assert [(p.address, p.count) for p in quarters] == [(1000, 2), (1002, 2)]
    assert split_block(quarters[0]) == [quarters[0]]


@settings(max_examples=100, deadline=None)
@given(specs=register_sets(), data=st.data())
def test_refused_registers_are_never_spanned(
    specs: list[RegisterSpec], data: st.DataObject
) -> None:
    refused = data.draw(st.lists(st.sampled_from(specs), unique=True)) if specs else []
    wanted = [spec for spec in specs if spec not in refused]
    blocks = plan_reads(wanted, avoid=refused, request_overhead=TCP_REQUEST_OVERHEAD)
    assert sorted(_covered(blocks), key=lambda s: s.name) == sorted(wanted, key=lambda s: s.name)
    for block in blocks:
        for spec in refused:
            if spec.fc == block.fc:
                assert spec.end <= block.address or spec.address >= block.end


@pytest.mark.parametrize("overhead", [0, 50])
def test_duplicates_are_read_once(overhead: int) -> None:
    spec = RegisterSpec("a", "1-0:1.7.0", 10, 3, DataType.U16, 1)
    assert len(_covered(plan_reads([spec, spec], request_overhead=overhead))) == 1
