"""Upstream portal push: every meter's snapshots delivered exactly once, in order, through
outages and restarts (issue 9).

`outbox`, `payload`, `retry` and `sender` are plain Python; the other modules are the Home
Assistant side: the entry's setup, its coordinator (`pusher`), sensors, repairs and flow steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .const import ENTRY_KIND, KIND_UPSTREAM


def is_upstream(data: Mapping[str, Any]) -> bool:
    """True for an upstream portal entry's data (meter entries carry no kind)."""
    return data.get(ENTRY_KIND) == KIND_UPSTREAM
