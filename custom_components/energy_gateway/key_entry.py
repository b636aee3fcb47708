"""Key fields of the config flow, per family: what the form asks and how a key is stored.

Entries store keys as hex whatever form the user typed; a family with its own key format
(`Family.key_parser`, e.g. the 20-character MEP key) has one key field and no
authentication key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType

from .const import CONF_AUTH_KEY, CONF_KEY
from .meterlib.core.family import Family
from .probe import normalise_key
from .schema import vol

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
KEY_FIELDS = (CONF_KEY, CONF_AUTH_KEY)


class KeyFieldError(ValueError):
    """A key field holds no valid key; `field` names it, so the form marks that field."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is not a valid key")
        self.field = field


def _parsed(field: str, user_input: Mapping[str, Any]) -> str | None:
    try:
        return normalise_key(user_input.get(field))
    except ValueError:
        raise KeyFieldError(field) from None


def key_schema(family: Family, *, required: bool = True) -> dict[Any, Any]:
    """The key fields of a form; `required=False` when empty means "keep the stored key"."""
    key_marker = vol.Required if required else vol.Optional
    fields: dict[Any, Any] = {key_marker(CONF_KEY): _PASSWORD}
    if family.key_parser is None:
        fields[vol.Optional(CONF_AUTH_KEY)] = _PASSWORD
    return fields


def stored_keys(family: Family, user_input: Mapping[str, Any]) -> dict[str, str | None]:
    """Keys from a form as entries store them (hex, None when empty); KeyFieldError (a
    ValueError) naming the first invalid field."""
    if family.key_parser is None:
        return {
            CONF_KEY: _parsed(CONF_KEY, user_input),
            CONF_AUTH_KEY: _parsed(CONF_AUTH_KEY, user_input),
        }
    text = user_input.get(CONF_KEY)
    try:
        key = family.key_parser(text).hex() if text else None
    except ValueError:
        raise KeyFieldError(CONF_KEY) from None
    return {CONF_KEY: key, CONF_AUTH_KEY: None}
