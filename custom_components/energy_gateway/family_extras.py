"""What a family adds to the Home Assistant layer beyond what every family shares.

Each family may bring options of its own (shown only for its entries), a decoder configured
by those options, and the health sensors that only make sense for it. The table of which
family has which extras is `families.FAMILY_EXTRAS`; code elsewhere asks it, never the family
id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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


NO_EXTRAS = FamilyExtras()
