"""Constants shared by the Home Assistant side of Energy Gateway."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "energy_gateway"
LOGGER = logging.getLogger(__package__)

# Entry data
CONF_SOURCE: Final = "source"
CONF_CONNECTION: Final = "connection"
CONF_SERIAL_PORT: Final = "serial_port"
CONF_SERIAL_MODE: Final = "serial_mode"
CONF_KEY: Final = "key"
CONF_AUTH_KEY: Final = "auth_key"

CONNECTION_SERIAL: Final = "serial"
CONNECTION_NETWORK: Final = "network"

SERIAL_MODE_AUTO: Final = "auto"
"""Try each of the family's serial presets in turn (see `Family.serial_presets`)."""

# Entry options
CONF_PUBLISH_INTERVAL: Final = "publish_interval"
CONF_UNAVAILABLE_AFTER: Final = "unavailable_after"
CONF_RECONNECT_WHEN_SILENT: Final = "reconnect_when_silent"
CONF_POLL_INTERVAL: Final = "poll_interval"
DEFAULT_PUBLISH_INTERVAL: Final = 0
DEFAULT_UNAVAILABLE_AFTER: Final = 60
DEFAULT_RECONNECT_WHEN_SILENT: Final = True
DEFAULT_POLL_INTERVAL: Final = 2
"""Seconds between polls of a polled meter."""

# How long the config flow waits for the first good message (setup does not wait). DSMR 4
# meters send every 10 s, DSMR 5 every second; 20 s leaves room for a reconnect.
FIRST_MESSAGE_TIMEOUT: Final = 20.0

# Repair issue that versions before issue 13 raised when the key stopped working; now Home
# Assistant's key request is the one repair, and this id is only deleted (key_repair.py).
ISSUE_WRONG_KEY: Final = "wrong_key"
# Consecutive frames that fail to decrypt before we conclude the key is wrong rather than
# that a frame was corrupted on the wire.
WRONG_KEY_THRESHOLD: Final = 3
