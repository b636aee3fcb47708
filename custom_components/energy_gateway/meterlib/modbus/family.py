"""The Modbus family's registry entry, and the link kinds a Modbus bus can use.

A Modbus bus carries many meters, so the family has no single-meter source
(`make_source`): callers build a `ModbusBus` from `ModbusBusSettings` and poll the fleet
with a `FleetPoller`. What follows describes the choices a user makes for a bus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from ..core.family import Family

if TYPE_CHECKING:
    from .client import ModbusBusSettings

type LinkKind = Literal["serial", "tcp", "rtu_over_tcp"]

LINK_KINDS: Final[tuple[LinkKind, ...]] = ("serial", "tcp", "rtu_over_tcp")
"""Serial RTU on an RS485 adapter, Modbus TCP, RTU frames through a TCP gateway."""
BAUD_RATES: Final = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
PARITIES: Final = ("N", "E", "O")
STOP_BITS: Final = (1, 2)
DEFAULT_BAUD_RATE: Final = 9600
DEFAULT_PARITY: Final = "N"
DEFAULT_STOP_BITS: Final = 1
DEFAULT_TIMEOUT: Final = 1.0
"""Seconds: the longest wait for a reply (a unit heard before gets an adaptive one)."""
DEFAULT_DELAY: Final = 0.0
"""Seconds of pause after every request (some meters need a gap between frames)."""
DEFAULT_TCP_PORT: Final = 502
DEFAULT_SCAN_FIRST: Final = 1
DEFAULT_SCAN_LAST: Final = 32

FAMILY = Family(
    id="modbus",
    name="Modbus",
    delivery="poll",
    # DIN-rail meters ship at 9600 8N1 (Eastron, ABB, Carlo Gavazzi) or 9600 8E1 (Janitza,
    # Schneider); the flow asks for each line setting separately.
    serial_presets=("9600_8n1", "9600_8e1"),
)


def link_kind(settings: ModbusBusSettings) -> LinkKind:
    """Which of the three link kinds `settings` describe."""
    if settings.serial_port is not None:
        return "serial"
    return "rtu_over_tcp" if settings.framing == "rtu" else "tcp"
