"""DLMS entry options: a multiplier per quantity, for a meter whose values are off by a factor.

Some meters send registers without scaler (their scale comes from a per-OBIS default table)
or change precision with a firmware update; the user corrects that here, per quantity,
without knowing the OBIS codes involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

from .family_extras import DecoderFactory, FamilyExtras
from .meterlib.core.family import Keys
from .meterlib.dlms.decoder import DlmsDecoder
from .meterlib.dlms.quantity_multipliers import Quantity, code_multipliers
from .schema import vol

MULTIPLIER_OPTIONS: Mapping[Quantity, str] = {
    quantity: f"{quantity.value}_multiplier" for quantity in Quantity
}
"""Option key of each quantity's multiplier (`energy_multiplier`, ...)."""
DEFAULT_MULTIPLIER = 1.0
# Wide enough for any decimal shift a meter makes (10^-6 .. 10^6), narrow enough to catch a
# typo; zero and negative factors are refused by the selector.
_SMALLEST, _LARGEST = 0.000001, 1_000_000
_FACTOR = NumberSelector(
    NumberSelectorConfig(min=_SMALLEST, max=_LARGEST, step="any", mode=NumberSelectorMode.BOX)
)


def multipliers_from(options: Mapping[str, Any]) -> dict[Quantity, float]:
    """The factor per quantity an entry's options hold (1 where none is set)."""
    return {
        quantity: float(options.get(option, DEFAULT_MULTIPLIER))
        for quantity, option in MULTIPLIER_OPTIONS.items()
    }


def multiplier_fields(options: Mapping[str, Any]) -> dict[Any, Any]:
    """The options form's multiplier fields, filled with the current factors."""
    factors = multipliers_from(options)
    return {
        vol.Required(option, default=factors[quantity]): _FACTOR
        for quantity, option in MULTIPLIER_OPTIONS.items()
    }


def multiplied_decoder(options: Mapping[str, Any]) -> DecoderFactory | None:
    """A decoder applying the entry's multipliers; None when every factor is 1."""
    table = code_multipliers(multipliers_from(options))
    if not table:
        return None

    def make(keys: Keys) -> DlmsDecoder:
        return DlmsDecoder(key=keys.key, auth_key=keys.auth_key, multipliers=table)

    return make


DLMS_EXTRAS = FamilyExtras(
    option_fields=multiplier_fields,
    decoder_factory=multiplied_decoder,
    reports_unsupported_lists=True,
)
