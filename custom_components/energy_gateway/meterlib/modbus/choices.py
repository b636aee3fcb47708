"""The settings a user chooses for a Modbus bus, and their defaults."""

from __future__ import annotations

from typing import Final

from .wire import Parity

BAUD_RATES: Final = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
STOP_BITS: Final = (1, 2)
DEFAULT_BAUD_RATE: Final = 9600
DEFAULT_PARITY: Final[Parity] = "N"
DEFAULT_STOP_BITS: Final = 1
DEFAULT_TIMEOUT: Final = 1.0
"""Seconds: the longest wait for a reply (a unit heard before gets an adaptive one)."""
DEFAULT_DELAY: Final = 0.0
"""Seconds of pause after every request (some meters need a gap between frames)."""
DEFAULT_TCP_PORT: Final = 502
DEFAULT_SCAN_FIRST: Final = 1
DEFAULT_SCAN_LAST: Final = 32
