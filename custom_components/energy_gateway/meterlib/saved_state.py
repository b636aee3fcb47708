"""What a session keeps across restarts, in one JSON-safe shape.

Three parts, each restored on its own so junk in one never costs the others:
the capacity tracker's history, the counter guards' last good values (so a counter never
steps backwards across a restart) and the link's health totals (so a reconnect count does
not drop to 0 on every restart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .links.stream import LinkStats

_VERSION = 2
"""Version 1 was the capacity tracker's dict on its own."""

LINK_TOTALS = ("crc_failures", "decode_failures", "reconnects", "open_failures")
"""Link counters that are running totals; the rest describe the moment and start fresh."""


@dataclass(frozen=True, slots=True)
class SavedState:
    """The three parts of a session's saved state (None or empty when unknown)."""

    capacity: Mapping[str, Any] | None = None
    counters: Any = None
    link: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form for storage."""
        return {
            "version": _VERSION,
            "capacity": self.capacity,
            "counters": self.counters,
            "link": self.link,
        }

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> SavedState:
        """Read what `as_dict` (or the capacity-only version 1) stored; junk reads as empty."""
        if not isinstance(stored, Mapping):
            return cls()
        if stored.get("version") != _VERSION:
            return cls(capacity=stored)  # version 1: the capacity tracker's own dict
        capacity, link = stored.get("capacity"), stored.get("link")
        return cls(
            capacity=capacity if isinstance(capacity, Mapping) else None,
            counters=stored.get("counters"),
            link=link if isinstance(link, Mapping) else None,
        )


def link_totals(stats: LinkStats) -> dict[str, int]:
    """The running totals of `stats`, to save."""
    return {name: int(getattr(stats, name)) for name in LINK_TOTALS}


def restore_link_totals(stats: LinkStats, saved: Mapping[str, Any] | None) -> None:
    """Continue the running totals from a saved state; values that are not counts are left."""
    if saved is None:
        return
    for name in LINK_TOTALS:
        value = saved.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            setattr(stats, name, getattr(stats, name) + value)
