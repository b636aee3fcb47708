"""What every entry kind's diagnostics redact the same way."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST


def redacted_entry(entry: ConfigEntry, to_redact: Collection[str]) -> dict[str, Any]:
    """The entry's data, options and unique id, without the fields in `to_redact`."""
    section = {
        "data": dict(entry.data),
        "options": dict(entry.options),
        "unique_id": entry.unique_id,
    }
    redacted: dict[str, Any] = async_redact_data(section, to_redact)
    return redacted


def without_host(text: str, data: Mapping[str, Any]) -> str:
    """`text` with the entry's host (a network bridge or gateway) replaced."""
    host = data.get(CONF_HOST)
    return text.replace(host, REDACTED) if host else text
