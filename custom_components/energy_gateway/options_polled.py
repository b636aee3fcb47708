"""Options of a polled meter: how often it is asked, and when silence makes it unavailable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

from .const import (
    CONF_POLL_INTERVAL,
    CONF_UNAVAILABLE_AFTER,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_UNAVAILABLE_AFTER,
)
from .schema import vol

MIN_POLL_INTERVAL = 1
MAX_POLL_INTERVAL = 60
"""Seconds; an MEP meter serves about one table read a second on average (its guide)."""


def _seconds(minimum: int, maximum: int) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
        )
    )


def polled_options_schema(options: Mapping[str, Any]) -> vol.Schema:
    """The options form of a polled meter, filled with the current options."""
    return vol.Schema(
        {
            vol.Required(
                CONF_POLL_INTERVAL, default=options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL)
            ): _seconds(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL),
            vol.Required(
                CONF_UNAVAILABLE_AFTER,
                default=options.get(CONF_UNAVAILABLE_AFTER, DEFAULT_UNAVAILABLE_AFTER),
            ): _seconds(5, 3600),
        }
    )
