"""What a Modbus bus adds to the Home Assistant layer: its own flow steps and options."""

from __future__ import annotations

from homeassistant.config_entries import OptionsFlow

from ..family_extras import FamilyExtras


def _bus_options_flow() -> OptionsFlow:
    # The flow module loads the bus and scanner code: only when a bus's options open.
    from .flow import ModbusOptionsFlow  # noqa: PLC0415

    return ModbusOptionsFlow()


MODBUS_EXTRAS = FamilyExtras(
    own_connection_steps=True,
    options_flow=_bus_options_flow,
    reconfigure_step="modbus_reconfigure",
)
"""A bus is scanned and confirmed by `ModbusFlowSteps`; its options re-scan and remove."""
