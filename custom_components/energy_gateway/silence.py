"""Notice when a meter has been silent for exactly as long as the user allows.

One timer aimed at the moment the silence would be too long, instead of a periodic check
(which lets a 60 s option take up to 75 s). Messages do not touch the timer: when it fires
it looks at the newest message and, when one came in meanwhile, aims again at that
message's deadline. So a meter talking every second costs one timer per period.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later


class SilenceWatch:
    """Call `on_silent` once when no message was heard for `limit` seconds."""

    def __init__(self, hass: HomeAssistant, limit: float, on_silent: Callable[[], None]) -> None:
        """Watch nothing until the first `heard`."""
        self._hass = hass
        self._limit = timedelta(seconds=limit)
        self._on_silent = on_silent
        self._last_heard: datetime | None = None
        self._cancel_timer: CALLBACK_TYPE | None = None
        self._job = HassJob(
            self._deadline_reached, "energy_gateway silence", cancel_on_shutdown=True
        )

    @callback
    def heard(self, now: datetime) -> None:
        """A message arrived at `now` (UTC); aim the timer unless it is already aimed."""
        self._last_heard = now
        if self._cancel_timer is None:
            self._aim(self._limit.total_seconds())

    @callback
    def stop(self) -> None:
        """Stop watching (unload)."""
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None

    @callback
    def _aim(self, delay: float) -> None:
        self._cancel_timer = async_call_later(self._hass, delay, self._job)

    @callback
    def _deadline_reached(self, now: datetime) -> None:
        self._cancel_timer = None
        assert self._last_heard is not None  # the timer is only aimed after a message
        remaining = (self._last_heard + self._limit - now).total_seconds()
        if remaining > 0:
            self._aim(remaining)  # a message came in meanwhile: wait for its deadline
            return
        self._on_silent()
