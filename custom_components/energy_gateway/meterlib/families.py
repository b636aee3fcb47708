"""The family registry: every meter family the library decodes.

A family is one package of this library (`p1/`, `dlms/`, ...) plus the `Family` entry it
exports from its `family.py` (the shape is `core.family.Family`). Callers (the command line,
the Home Assistant layer) loop over `FAMILIES` instead of asking "which family is this?";
adding a family adds its folder and one line below.
"""

from __future__ import annotations

from collections.abc import Mapping

from .core.family import Family
from .dlms.family import FAMILY as DLMS
from .mep.family import FAMILY as MEP
from .modbus.family import FAMILY as MODBUS
from .p1.family import FAMILY as P1

FAMILIES: Mapping[str, Family] = {family.id: family for family in (P1, DLMS, MODBUS, MEP)}
"""Every family, by id, in the order menus list them."""
