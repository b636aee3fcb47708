"""P1/DSMR telegrams: parsing, stream framing and the encrypted (glo-ciphering) variant."""

from __future__ import annotations

from .decoder import P1Decoder
from .telegram import parse_telegram

__all__ = ["P1Decoder", "parse_telegram"]
