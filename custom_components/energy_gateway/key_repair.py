"""The one repair for a meter key that stopped working, and its removal once a key works.

Home Assistant lists an open key request (reauthentication flow) as a repair of its own,
so the integration raises no second issue for the same problem. Whichever object sees the
key work again (the coordinator that asked, the one a reload put in its place, or the
reauthentication flow itself) closes everything about it: an open request, its repair,
and the issue that earlier versions raised.
"""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry
from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, ISSUE_WRONG_KEY, LOGGER


def _legacy_issue_id(entry: ConfigEntry) -> str:
    """The issue versions before issue 13 raised beside the key request."""
    return f"{ISSUE_WRONG_KEY}_{entry.entry_id}"


def _request_issue_id(entry: ConfigEntry) -> str:
    """The repair Home Assistant shows for an open key request (see config_entries.py)."""
    return f"config_entry_reauth_{entry.domain}_{entry.entry_id}"


@callback
def async_ask_for_new_key(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Open the key request; Home Assistant lists it in Repairs."""
    LOGGER.warning(
        "%s: messages no longer decrypt with the configured key; asking for a new one",
        entry.title,
    )
    entry.async_start_reauth(hass)


@callback
def async_key_works(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The key decrypts again: close the request and every repair about it."""
    manager = hass.config_entries.flow
    for flow in manager.async_progress_by_handler(
        DOMAIN, match_context={"entry_id": entry.entry_id, "source": SOURCE_REAUTH}
    ):
        LOGGER.info("%s: the key works again; the key request is closed", entry.title)
        manager.async_abort(flow["flow_id"])
    # Aborting from outside the flow leaves Home Assistant's repair behind; deleting an
    # issue that does not exist is a no-op.
    ir.async_delete_issue(hass, HOMEASSISTANT_DOMAIN, _request_issue_id(entry))
    ir.async_delete_issue(hass, DOMAIN, _legacy_issue_id(entry))
