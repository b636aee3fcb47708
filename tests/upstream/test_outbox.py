"""The outbox alone: durable, oldest first, stable batches, bounded, transactional."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import sqlite3

import pytest

from custom_components.energy_gateway.upstream.outbox import Outbox, StoredSnapshot

DAY = 86400.0


class Clock:
    """A settable clock for retention by age."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def stored(number: int, received: float, meter: str = "m1", size: int = 10) -> StoredSnapshot:
    """A snapshot whose body says which one it is."""
    return StoredSnapshot(
        meter_id=meter,
        serial=f"S{meter}",
        source="p1",
        received=received,
        body=f"{number:0{size}d}".encode(),
    )


def numbers(snapshots: tuple[StoredSnapshot, ...]) -> list[int]:
    return [int(snapshot.body) for snapshot in snapshots]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path, clock: Clock) -> Iterator[Outbox]:
    opened = Outbox(tmp_path / "outbox.sqlite3", max_age=7 * DAY, max_bytes=10_000, clock=clock)
    yield opened
    opened.close()


def test_batches_are_oldest_first_bounded_and_stable_until_acknowledged(
    outbox: Outbox, clock: Clock
) -> None:
    """A batch is handed out again (same key, same rows) until it is acknowledged."""
    outbox.add(stored(n, clock.now) for n in range(7))
    first = outbox.next_batch(3)
    assert first is not None
    assert numbers(first.snapshots) == [0, 1, 2]
    outbox.add([stored(7, clock.now)])
    again = outbox.next_batch(3)
    assert again == first
    assert outbox.acknowledge(first.key) == 3
    assert outbox.acknowledge(first.key) == 0
    second = outbox.next_batch(100)
    assert second is not None
    assert second.key != first.key
    assert numbers(second.snapshots) == [3, 4, 5, 6, 7]
    outbox.acknowledge(second.key)
    assert outbox.next_batch(3) is None
    assert outbox.stats().backlog == 0
    assert outbox.stats().stored_bytes == 0


def test_restart_keeps_the_backlog_and_the_pending_key(tmp_path: Path, clock: Clock) -> None:
    """Closed with a batch in flight, reopened: the same batch comes back, then the rest."""
    path = tmp_path / "outbox.sqlite3"
    before = Outbox(path, max_age=DAY, max_bytes=10_000, clock=clock)
    before.add(stored(n, clock.now) for n in range(5))
    pending = before.next_batch(2)
    before.close()
    after = Outbox(path, max_age=DAY, max_bytes=10_000, clock=clock)
    assert after.next_batch(2) == pending
    assert pending is not None
    after.acknowledge(pending.key)
    rest = after.next_batch(10)
    assert rest is not None
    assert numbers(rest.snapshots) == [2, 3, 4]
    after.close()


def test_a_failed_write_leaves_nothing_half_written(outbox: Outbox, clock: Clock) -> None:
    """One bad row rolls back the whole transaction; the outbox keeps working."""
    outbox.add([stored(1, clock.now)])
    bad = StoredSnapshot("m1", None, "p1", clock.now, None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        outbox.add([stored(2, clock.now), bad])
    assert outbox.stats().backlog == 1
    assert outbox.stats().stored_bytes == 10
    outbox.add([stored(3, clock.now)])
    batch = outbox.next_batch(10)
    assert batch is not None
    assert numbers(batch.snapshots) == [1, 3]


def test_retention_by_age_drops_the_oldest_and_counts(outbox: Outbox, clock: Clock) -> None:
    """Snapshots older than the limit go, counted; whole batches only."""
    outbox.add(stored(n, clock.now + n) for n in range(4))
    pending = outbox.next_batch(2)  # snapshots 0 and 1
    assert pending is not None
    clock.now += 7 * DAY + 0.5  # only snapshot 0 is too old...
    assert outbox.enforce_retention() == 2  # ...but its batch goes whole
    assert outbox.acknowledge(pending.key) == 0
    stats = outbox.stats()
    assert (stats.backlog, stats.dropped) == (2, 2)
    rest = outbox.next_batch(10)
    assert rest is not None
    assert numbers(rest.snapshots) == [2, 3]


def test_retention_by_size(outbox: Outbox, clock: Clock) -> None:
    """Over the byte limit the oldest go first until it fits."""
    outbox.add(stored(n, clock.now, size=1000) for n in range(12))
    assert outbox.stats().stored_bytes == 12_000
    assert outbox.enforce_retention() == 2
    stats = outbox.stats()
    assert (stats.backlog, stats.dropped, stats.stored_bytes) == (10, 2, 10_000)
    batch = outbox.next_batch(100)
    assert batch is not None
    assert numbers(batch.snapshots)[0] == 2


def test_dropped_count_survives_restart(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path, max_age=1.0, max_bytes=10_000, clock=clock)
    outbox.add([stored(1, clock.now)])
    clock.now += 2
    outbox.enforce_retention()
    outbox.close()
    reopened = Outbox(path, max_age=1.0, max_bytes=10_000, clock=clock)
    assert reopened.stats().dropped == 1
    reopened.close()


def test_meters_keep_their_own_order(outbox: Outbox, clock: Clock) -> None:
    """Interleaved meters: each meter's snapshots come out in the order they went in."""
    outbox.add(stored(n, clock.now, meter=f"m{n % 3}") for n in range(9))
    batch = outbox.next_batch(100)
    assert batch is not None
    for meter in ("m0", "m1", "m2"):
        mine = [int(s.body) for s in batch.snapshots if s.meter_id == meter]
        assert mine == sorted(mine)
        assert len(mine) == 3
