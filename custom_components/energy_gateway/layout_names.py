"""What the config flow calls a detected layout or dialect: words a user knows, not decoder jargon.

The decoders name DLMS list layouts and P1 dialects by short ids (`obis-triples`, `dsmr5`);
the names shown for them live in the translations (`selector.dlms_layout.options`,
`selector.p1_dialect.options`), as do the words for "encrypted" (`selector.encrypted`). A
form's placeholders are plain text, so the names are looked up in Home Assistant's language
here; an id without a translated name (an MEP meter's model) is shown as it is.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN
from .meterlib.core.model import Snapshot

_CATEGORY = "selector"
_PREFIX = f"component.{DOMAIN}.{_CATEGORY}."
_VARIANT_TABLES = ("p1_dialect", "dlms_layout")


async def _names(hass: HomeAssistant) -> dict[str, str]:
    return await async_get_translations(hass, hass.config.language, _CATEGORY, {DOMAIN})


async def async_layout_name(hass: HomeAssistant, variant: str | None) -> str:
    """The layout's or dialect's name in Home Assistant's language, `-` when there is none."""
    if not variant:
        return "-"
    names = await _names(hass)
    for table in _VARIANT_TABLES:
        if (name := names.get(f"{_PREFIX}{table}.options.{variant}")) is not None:
            return name
    return variant


async def async_found_words(hass: HomeAssistant, snapshot: Snapshot) -> dict[str, str]:
    """The confirm step's placeholders that are words: the layout and whether it is encrypted."""
    answer = "yes" if snapshot.encrypted else "no"
    names = await _names(hass)
    return {
        "variant": await async_layout_name(hass, snapshot.variant),
        "encrypted": names.get(f"{_PREFIX}encrypted.options.{answer}", answer),
    }
