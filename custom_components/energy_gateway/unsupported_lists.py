"""Lists the decoder does not understand: told to the user once, kept for a bug report.

A meter whose list layout is unknown (UnsupportedListError) sends the same list every few
seconds, often between lists that are understood (a long list every 10 s next to a short one
every 2 s); nothing of it is published. The user gets one log line and a repair issue saying
the list is not supported yet and how to send the diagnostics. Both go, and a new failure is
told anew, once the list has stopped: when supported messages keep coming for more than
twice the longest run of them seen between two unsupported ones. A list that stops for good
right after failing clears at the first supported message; one seen only once, after
`DEFAULT_GAP` twice over. The diagnostics keep a counter, the list's shape and the last few
messages exactly as they arrived (encrypted ones stay encrypted: no key and no decrypted
values ever leave the decoder this way). The entry stays loaded meanwhile.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, LOGGER
from .meterlib.core.errors import DecodeError, UnsupportedListError

ISSUE_UNSUPPORTED_LIST = "unsupported_list"
RAW_FRAMES_KEPT = 3
"""Messages kept for diagnostics: enough to see whether the list changes between pushes."""
DEFAULT_GAP = 30
"""Supported messages a list seen failing once may take to come back (a minute of 2-s pushes)."""
MAX_GAP = 4000
"""Longest run of supported messages still taken for the same list coming back (over two hours
of 2-s pushes, so an hourly list counts); a failure after a longer run starts afresh."""


def issue_id(entry_id: str) -> str:
    """The repair issue of one entry."""
    return f"{ISSUE_UNSUPPORTED_LIST}_{entry_id}"


@dataclass(frozen=True, slots=True)
class UnsupportedMessage:
    """One message whose list was not understood."""

    shape: str
    raw: bytes


class _Recurrence:
    """How often the unsupported list comes back, counted in supported messages (no clock:
    the meter's own pace is the measure)."""

    def __init__(self) -> None:
        self.streak = 0
        """Supported messages since the last unsupported one."""
        self.period: int | None = None
        """Longest run of supported messages seen between two unsupported ones."""
        self._failed_before = False

    def failed(self) -> None:
        if self._failed_before and self.streak <= MAX_GAP:
            self.period = max(self.period or 0, self.streak)
        self._failed_before = True
        self.streak = 0

    def decoded(self) -> bool:
        """Count a supported message; True once the list has stayed away long enough."""
        self.streak += 1
        return self.streak > 2 * (DEFAULT_GAP if self.period is None else self.period)


class UnsupportedListWatch:
    """Counts an entry's unsupported lists and raises (and clears) its repair issue."""

    def __init__(self, hass: HomeAssistant, entry_id: str, title: str) -> None:
        """Watch for one config entry; nothing is reported until a list fails."""
        self._hass = hass
        self._entry_id = entry_id
        self._title = title
        self.count = 0
        """Messages whose list was not understood, since the entry was loaded."""
        self.recent: deque[UnsupportedMessage] = deque(maxlen=RAW_FRAMES_KEPT)
        self._told = False
        self._recurrence = _Recurrence()
        # An issue may remain from before a reload or a failed setup: cleared when data flows.
        self._issue_open = True

    @callback
    def note(self, error: DecodeError) -> bool:
        """Take a failed message; True when it was an unsupported list (handled here)."""
        if not isinstance(error, UnsupportedListError):
            return False
        self.count += 1
        self.recent.append(UnsupportedMessage(error.shape, bytes(error.raw)))
        self._recurrence.failed()
        if self._told:
            return True
        self._told = True
        # An issue still open from before a reload or a failed setup was told already.
        registry = ir.async_get(self._hass)
        if registry.async_get_issue(DOMAIN, issue_id(self._entry_id)) is None:
            LOGGER.warning(
                "%s: the meter sends a list this integration does not understand yet (%s); "
                "its values are not shown. Download the diagnostics of this entry and attach "
                "them to an issue so the list can be supported",
                self._title,
                error.shape or "unknown shape",
            )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id(self._entry_id),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_UNSUPPORTED_LIST,
            translation_placeholders={
                "title": self._title,
                "shape": error.shape or "-",
            },
        )
        self._issue_open = True
        return True

    @callback
    def message_decoded(self) -> None:
        """A supported message arrived: once the list has stopped, clear the issue (a new
        failure is then told anew)."""
        if self._recurrence.decoded() and self._told:
            self._told = False
            LOGGER.info("%s: the unsupported list has stopped", self._title)
        if self._issue_open and not self._told:
            self._issue_open = False
            ir.async_delete_issue(self._hass, DOMAIN, issue_id(self._entry_id))

    def diagnostics(self) -> dict[str, object]:
        """The counter, and the last messages as hex with the shape of their list."""
        return {
            "count": self.count,
            "recent": [{"shape": item.shape, "raw": item.raw.hex()} for item in self.recent],
        }


@callback
def async_remove_issue(hass: HomeAssistant, entry_id: str) -> None:
    """The entry is gone: so is its issue."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id))
