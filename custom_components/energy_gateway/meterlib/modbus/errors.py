"""Errors of the Modbus family, fitted into the library's hierarchy (see `meterlib.core.errors`).

An unusable register value is a `DecodeError` (never published); a bus that cannot be used is
a `LinkError`.
"""

from __future__ import annotations

from ..core.errors import DecodeError, LinkError


class RegisterValueError(DecodeError):
    """A Modbus register block holds no valid value: NaN, infinity, an invalid marker, or a
    reply of the wrong length."""


class ModbusLinkError(LinkError):
    """A Modbus bus (serial line, TCP meter or gateway) cannot be used."""


class BusUnreachableError(ModbusLinkError):
    """The TCP host or gateway refused or did not accept the connection."""


class SilentBusError(ModbusLinkError):
    """The link is open but no unit on it answered."""
