"""Diagnostics of an upstream entry: settings without the token, outbox and delivery state."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_TOKEN, CONF_URL

from .const import CONF_GATEWAY_ID
from .pusher import UpstreamConfigEntry

TO_REDACT = {CONF_TOKEN, CONF_URL, CONF_GATEWAY_ID, "unique_id"}


def upstream_diagnostics(entry: UpstreamConfigEntry) -> dict[str, Any]:
    """What a bug report about the push needs; the token and the portal's address redacted."""
    pusher = entry.runtime_data
    answer = pusher.last_answer
    return {
        "entry": async_redact_data(
            {"data": dict(entry.data), "unique_id": entry.unique_id}, TO_REDACT
        ),
        "status": asdict(pusher.data) if pusher.data is not None else None,
        "counters": dict(pusher.counters),
        "last_answer": None
        if answer is None
        else {"outcome": answer.outcome.value, "status": answer.status, "text": answer.text},
    }
