"""What the config flow calls a detected list layout: words a user knows, not decoder jargon.

The decoder names layouts by short ids (`push-object-list`, `netz-burgenland`); the names
shown for them live in the translations (`selector.dlms_layout.options`). A form's
placeholders are plain text, so the name is looked up in Home Assistant's language here; an
id without a translated name is shown as it is.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN

_CATEGORY = "selector"
_PREFIX = f"component.{DOMAIN}.{_CATEGORY}.dlms_layout.options."


async def async_layout_name(hass: HomeAssistant, variant: str | None) -> str:
    """The layout's name in Home Assistant's language, `-` when there is none."""
    if not variant:
        return "-"
    names = await async_get_translations(hass, hass.config.language, _CATEGORY, {DOMAIN})
    return names.get(_PREFIX + variant, variant)
