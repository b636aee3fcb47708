"""What a family adds to the Home Assistant layer beyond what every family shares.

Each family may bring options of its own (shown only for its entries), a decoder configured
by those options, the health sensors that only make sense for it, and, for a family whose
entry is a bus of many meters (Modbus), flow steps of its own. The table of which
family has which extras is `families.FAMILY_EXTRAS`; code elsewhere asks it, never the family
id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import OptionsFlow

from .meterlib.core.family import Keys, StreamDecoder

type DecoderFactory = Callable[[Keys], StreamDecoder]


def _no_fields(_options: Mapping[str, Any]) -> dict[Any, Any]:
    return {}


def _family_decoder(_options: Mapping[str, Any]) -> DecoderFactory | None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class FamilyExtras:
    """A family's own options and sensors."""

    option_fields: Callable[[Mapping[str, Any]], dict[Any, Any]] = _no_fields
    """Schema fields added to the options form, given the entry's current options."""
    decoder_factory: Callable[[Mapping[str, Any]], DecoderFactory | None] = _family_decoder
    """The decoder the entry's options ask for; None keeps the family's own."""
    reports_unsupported_lists: bool = False
    """The family's decoder can meet lists it does not understand (UnsupportedListError):
    the entry gets a sensor counting them."""
    own_connection_steps: bool = False
    """The family brings its own steps after its menu (a bus: scan, then confirm many
    meters), so the shared serial, network and key steps are not generated for it."""
    options_flow: Callable[[], OptionsFlow] | None = None
    """The family's own options flow; None for the shared one."""
    reconfigure_step: str | None = None
    """The flow step that reconfigures the family's entries; None for the shared one."""


NO_EXTRAS = FamilyExtras()
