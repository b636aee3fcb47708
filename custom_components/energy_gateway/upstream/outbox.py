"""The persistent outbox: snapshots waiting for the portal, in SQLite on disk.

Plain Python (no Home Assistant import). Every method blocks on disk I/O, so Home Assistant
calls them from its executor; a lock serialises the threads that share the one connection.

Delivery contract:
- a snapshot is stored (one transaction per call to `add`) before anything tries to send it;
- `next_batch` freezes the oldest unsent snapshots into a batch with an idempotency key; the
  same batch (same key, same rows) is handed out again until `acknowledge` removes it, so a
  retry can always be deduplicated by the portal;
- retention drops the oldest snapshots (whole batches, never part of one, so a key never
  names two different contents) and counts them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
import sqlite3
import threading
import time
import uuid

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS batch ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS snapshot ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, meter_id TEXT NOT NULL, serial TEXT,"
    " source TEXT NOT NULL, received REAL NOT NULL, body BLOB NOT NULL,"
    " batch INTEGER REFERENCES batch(id))",
    "CREATE INDEX IF NOT EXISTS snapshot_batch ON snapshot(batch, id)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)
_DROPPED = "dropped"
_STORED_BYTES = "stored_bytes"


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """One snapshot as the outbox keeps it: who it is from and its encoded body."""

    meter_id: str
    serial: str | None
    source: str
    received: float
    """Unix time we received it (retention and the backlog's age count from this)."""
    body: bytes
    """The encoded snapshot (see `payload.encode_snapshot`)."""


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """Snapshots frozen together under one idempotency key, oldest first."""

    key: str
    created: float
    snapshots: tuple[StoredSnapshot, ...]


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """What the diagnostic sensors show."""

    backlog: int
    oldest_received: float | None
    dropped: int
    stored_bytes: int
    file_bytes: int


class Outbox:
    """A durable FIFO of encoded snapshots; thread-safe, blocking."""

    def __init__(
        self,
        path: Path,
        *,
        max_age: float,
        max_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Open (or create) the outbox file; `max_age` in seconds, `max_bytes` of bodies."""
        self.path = path
        self.max_age = max_age
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are opened explicitly with BEGIN IMMEDIATE.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # WAL keeps readers and the writer apart; FULL syncs each commit, so an acknowledged
        # write survives a power cut, not only a crash of Home Assistant.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        with self._transaction():
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.executemany(
                "INSERT OR IGNORE INTO meta(name, value) VALUES (?, 0)",
                ((_DROPPED,), (_STORED_BYTES,)),
            )

    def close(self) -> None:
        """Close the file; everything committed stays."""
        with self._lock:
            self._db.close()

    def add(self, snapshots: Iterable[StoredSnapshot]) -> int:
        """Store snapshots in one transaction; returns how many."""
        rows = [(s.meter_id, s.serial, s.source, s.received, s.body) for s in snapshots]
        if not rows:
            return 0
        with self._lock, self._transaction():
            self._db.executemany(
                "INSERT INTO snapshot(meter_id, serial, source, received, body)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            self._bump(_STORED_BYTES, sum(len(row[4]) for row in rows))
        return len(rows)

    def next_batch(self, max_snapshots: int) -> PendingBatch | None:
        """The oldest unacknowledged batch, or a new one of the oldest unsent snapshots."""
        with self._lock, self._transaction():
            found = self._db.execute("SELECT id, key, created FROM batch ORDER BY id LIMIT 1")
            row = found.fetchone()
            if row is None:
                ids = [
                    snapshot_id
                    for (snapshot_id,) in self._db.execute(
                        "SELECT id FROM snapshot WHERE batch IS NULL ORDER BY id LIMIT ?",
                        (max_snapshots,),
                    )
                ]
                if not ids:
                    return None
                row = (None, uuid.uuid4().hex, self._clock())
                cursor = self._db.execute(
                    "INSERT INTO batch(key, created) VALUES (?, ?)", (row[1], row[2])
                )
                row = (cursor.lastrowid, row[1], row[2])
                self._db.execute(
                    "UPDATE snapshot SET batch = ? WHERE batch IS NULL AND id BETWEEN ? AND ?",
                    (row[0], ids[0], ids[-1]),
                )
            batch_id, key, created = row
            snapshots = tuple(
                StoredSnapshot(*columns)
                for columns in self._db.execute(
                    "SELECT meter_id, serial, source, received, body FROM snapshot"
                    " WHERE batch = ? ORDER BY id",
                    (batch_id,),
                )
            )
        return PendingBatch(key=key, created=created, snapshots=snapshots)

    def acknowledge(self, key: str) -> int:
        """The portal answered 2xx for this batch: remove it; returns the snapshots removed."""
        with self._lock, self._transaction():
            row = self._db.execute("SELECT id FROM batch WHERE key = ?", (key,)).fetchone()
            if row is None:
                return 0  # already dropped by retention
            removed, size = self._db.execute(
                "SELECT count(*), coalesce(sum(length(body)), 0) FROM snapshot WHERE batch = ?",
                row,
            ).fetchone()
            self._db.execute("DELETE FROM snapshot WHERE batch = ?", row)
            self._db.execute("DELETE FROM batch WHERE id = ?", row)
            self._bump(_STORED_BYTES, -size)
        return int(removed)

    def enforce_retention(self) -> int:
        """Drop the oldest snapshots beyond the age or size limit; returns how many."""
        with self._lock, self._transaction():
            cutoff = self._age_cutoff()
            cutoff = max(cutoff, self._size_cutoff(cutoff))
            if cutoff <= 0:
                return 0
            # A batch is dropped whole: its key must keep naming exactly one content.
            (last_in_batches,) = self._db.execute(
                "SELECT coalesce(max(id), 0) FROM snapshot WHERE batch IN"
                " (SELECT DISTINCT batch FROM snapshot WHERE id <= ? AND batch IS NOT NULL)",
                (cutoff,),
            ).fetchone()
            cutoff = max(cutoff, last_in_batches)
            dropped, size = self._db.execute(
                "SELECT count(*), coalesce(sum(length(body)), 0) FROM snapshot WHERE id <= ?",
                (cutoff,),
            ).fetchone()
            self._db.execute("DELETE FROM snapshot WHERE id <= ?", (cutoff,))
            self._db.execute(
                "DELETE FROM batch WHERE id NOT IN"
                " (SELECT DISTINCT batch FROM snapshot WHERE batch IS NOT NULL)"
            )
            self._bump(_STORED_BYTES, -size)
            self._bump(_DROPPED, dropped)
        return int(dropped)

    def stats(self) -> OutboxStats:
        """Backlog, age, drops and sizes."""
        with self._lock:
            backlog, oldest = self._db.execute(
                "SELECT count(*), min(received) FROM snapshot"
            ).fetchone()
            meta = dict(self._db.execute("SELECT name, value FROM meta"))
        file_bytes = sum(
            path.stat().st_size
            for path in (self.path, self.path.with_name(self.path.name + "-wal"))
            if path.exists()
        )
        return OutboxStats(
            backlog=int(backlog),
            oldest_received=oldest,
            dropped=int(meta[_DROPPED]),
            stored_bytes=int(meta[_STORED_BYTES]),
            file_bytes=file_bytes,
        )

    def _age_cutoff(self) -> int:
        """The newest id older than the age limit (0: none)."""
        (cutoff,) = self._db.execute(
            "SELECT coalesce(max(id), 0) FROM snapshot WHERE received < ?",
            (self._clock() - self.max_age,),
        ).fetchone()
        return int(cutoff)

    def _size_cutoff(self, after_age: int) -> int:
        """The id up to which snapshots must go to fit the size limit (0: none)."""
        (stored,) = self._db.execute(
            "SELECT value FROM meta WHERE name = ?", (_STORED_BYTES,)
        ).fetchone()
        (aged,) = self._db.execute(
            "SELECT coalesce(sum(length(body)), 0) FROM snapshot WHERE id <= ?", (after_age,)
        ).fetchone()
        excess = int(stored) - int(aged) - self.max_bytes
        if excess <= 0:
            return 0
        freed = 0
        for snapshot_id, size in self._db.execute(
            "SELECT id, length(body) FROM snapshot WHERE id > ? ORDER BY id", (after_age,)
        ):
            freed += size
            if freed >= excess:
                return int(snapshot_id)
        return after_age

    def _bump(self, name: str, delta: int) -> None:
        self._db.execute("UPDATE meta SET value = value + ? WHERE name = ?", (delta, name))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: no half-written state."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._db.execute("ROLLBACK" if kind is not None else "COMMIT")
