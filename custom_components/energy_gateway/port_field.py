"""The port fields of the connection forms: the serial port picked from the ports found,
and the TCP port, a number box whose bad values get a field error.

For the TCP port, a selector with bounds lets the schema refuse 0 with a raw "Value 0.0 is
too small" at the top of the form; without bounds the step checks the value itself and names
the port field in the user's language (`invalid_port`).
"""

from __future__ import annotations

from collections.abc import Sequence

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

PORT_SELECTOR = NumberSelector(NumberSelectorConfig(step=1, mode=NumberSelectorMode.BOX))


def port_error(value: object) -> str | None:
    """`invalid_port` unless `value` is a whole number from 1 to 65535."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "invalid_port"
    if value != int(value) or not 1 <= value <= 65535:
        return "invalid_port"
    return None


def serial_port_selector(ports: Sequence[tuple[str, str]]) -> SelectSelector:
    """The serial ports found (`(path, description)`), or a path typed in."""
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(value=path, label=f"{path} ({label})") for path, label in ports
            ],
            custom_value=True,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )
