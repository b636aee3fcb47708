"""Which form error a link that cannot be opened gets, in every flow."""

from __future__ import annotations

from .meterlib.core.errors import LinkError, PortNotFoundError, PortPermissionError


def link_error_key(err: LinkError, cannot_connect: str = "cannot_connect") -> str:
    """The translation key for `err`; `cannot_connect` names a family's own wording of an
    unreachable link (the serial-port errors are the same for every family)."""
    if isinstance(err, PortNotFoundError):
        return "port_not_found"
    if isinstance(err, PortPermissionError):
        return "permission_denied"
    return cannot_connect
