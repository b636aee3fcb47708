"""Turn a config entry's data into the meter library's link and decoder objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT

from .const import (
    CONF_AUTH_KEY,
    CONF_CONNECTION,
    CONF_KEY,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONNECTION_NETWORK,
    SOURCE_DLMS,
    SOURCE_P1,
)
from .meterlib.dlms import DlmsDecoder
from .meterlib.links.connections import LinkSettings, TcpSettings, serial_settings_for
from .meterlib.links.stream import StreamDecoder
from .meterlib.p1.decoder import P1Decoder


def link_settings(data: Mapping[str, Any]) -> LinkSettings:
    """Return the link described by entry data (the serial mode is always explicit there)."""
    if data[CONF_CONNECTION] == CONNECTION_NETWORK:
        return TcpSettings(host=data[CONF_HOST], port=int(data[CONF_PORT]))
    return serial_settings_for(data[CONF_SERIAL_PORT], data[CONF_SERIAL_MODE])


def key_bytes(data: Mapping[str, Any], name: str) -> bytes | None:
    """Return a stored hex key as bytes, or None when it is not set."""
    text = data.get(name)
    return bytes.fromhex(text) if text else None


def create_decoder(data: Mapping[str, Any]) -> StreamDecoder:
    """Return a fresh decoder for the entry's source kind."""
    key, auth_key = key_bytes(data, CONF_KEY), key_bytes(data, CONF_AUTH_KEY)
    if data.get(CONF_SOURCE, SOURCE_P1) == SOURCE_DLMS:
        return DlmsDecoder(key=key, auth_key=auth_key)
    return P1Decoder(key=key, auth_key=auth_key)
