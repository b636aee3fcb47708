"""Repair issues of an upstream entry: token rejected, data refused, data dropped."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN
from .const import ISSUE_DROPPED, ISSUE_REJECTED, ISSUE_TOKEN_REJECTED
from .sender import Answer, Outcome


def _issue_id(kind: str, entry: ConfigEntry) -> str:
    return f"{kind}_{entry.entry_id}"


def raise_halt_issue(hass: HomeAssistant, entry: ConfigEntry, answer: Answer) -> None:
    """The portal refused the token (then ask for a new one) or the request itself."""
    if answer.outcome is Outcome.AUTH_REJECTED:
        ir.async_create_issue(
            hass,
            DOMAIN,
            _issue_id(ISSUE_TOKEN_REJECTED, entry),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_TOKEN_REJECTED,
            translation_placeholders={"title": entry.title, "status": str(answer.status)},
        )
        entry.async_start_reauth(hass)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        _issue_id(ISSUE_REJECTED, entry),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_REJECTED,
        translation_placeholders={
            "title": entry.title,
            "status": str(answer.status or "-"),
            "answer": answer.text or answer.outcome.value,
        },
    )


def raise_dropped_issue(hass: HomeAssistant, entry: ConfigEntry, dropped: int) -> None:
    """Undelivered snapshots reached the retention limit and were dropped."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        _issue_id(ISSUE_DROPPED, entry),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_DROPPED,
        translation_placeholders={"title": entry.title, "dropped": str(dropped)},
    )


def clear_delivery_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The portal accepted data: token and request are fine again."""
    for kind in (ISSUE_TOKEN_REJECTED, ISSUE_REJECTED):
        ir.async_delete_issue(hass, DOMAIN, _issue_id(kind, entry))


def clear_all(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The entry is removed."""
    for kind in (ISSUE_TOKEN_REJECTED, ISSUE_REJECTED, ISSUE_DROPPED):
        ir.async_delete_issue(hass, DOMAIN, _issue_id(kind, entry))
