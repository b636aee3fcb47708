"""The Modbus family's registry entry, and the link kinds a Modbus bus can use.

A Modbus bus carries many meters, so the family has no single-meter source
(`make_source`): callers build a `ModbusBus` from `ModbusBusSettings` and poll the fleet
with a `FleetPoller`. The line settings a user chooses from are in `choices`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..core.family import Family

if TYPE_CHECKING:
    from .client import ModbusBusSettings

type LinkKind = Literal["serial", "tcp", "rtu_over_tcp"]
"""Serial RTU on an RS485 adapter, Modbus TCP, RTU frames through a TCP gateway."""

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
