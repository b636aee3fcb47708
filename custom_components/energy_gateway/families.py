"""Registry glue: what the Home Assistant layer adds to each meter family of the library.

The library's `FAMILIES` says how to decode, probe and diagnose a family; this module turns a
config entry's data into that family's session, and holds the few flow texts that differ per
family. Everything else loops over the registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT

from .bus.extras import MODBUS_EXTRAS
from .const import (
    CONF_AUTH_KEY,
    CONF_CONNECTION,
    CONF_KEY,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONNECTION_NETWORK,
)
from .dlms_options import DLMS_EXTRAS
from .family_extras import NO_EXTRAS, FamilyExtras
from .meterlib.core.family import Family, Keys
from .meterlib.families import FAMILIES
from .meterlib.links.connections import (
    LinkSettings,
    TcpSettings,
    describe_link,
    serial_settings_for,
)
from .meterlib.session import PolledSession

DEFAULT_FAMILY = "p1"
"""Entries made before the family was stored are P1 meters."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowTexts:
    """What the config flow says differently per family."""

    meter_noun: str
    """Used in entry titles: `<maker> <noun> <meter id>`."""
    worded_errors: frozenset[str] = frozenset()
    """Errors with a text of the family's own (`<family>_<error>` in the translations)."""
    own_steps: frozenset[str] = frozenset()
    """Shared steps (`confirm`, `reauth_confirm`, `reconfigure`) the family words itself,
    as `<family>_<step>` in the translations (its key or its facts differ)."""


FLOW_TEXTS: Mapping[str, FlowTexts] = {
    "p1": FlowTexts(meter_noun="P1 meter"),
    # DLMS errors speak of frames and the M-Bus or HAN interface, not of P1 telegrams.
    "dlms": FlowTexts(
        meter_noun="meter",
        worded_errors=frozenset(("no_data", "not_decodable", "crc_failures", "wrong_key")),
    ),
    # MEP meters are asked, not listened to; keys are 20 characters; silence has causes of
    # its own (ENABLE, a port the utility has not switched on).
    "mep": FlowTexts(
        meter_noun="MEP meter",
        worded_errors=frozenset(
            ("no_data", "not_decodable", "crc_failures", "wrong_key", "invalid_key")
        ),
        own_steps=frozenset(("confirm", "reauth_confirm", "reconfigure")),
    ),
    # One entry per bus: its title names the bus, each meter is a device of its own.
    "modbus": FlowTexts(meter_noun="Modbus bus"),
}


FAMILY_EXTRAS: Mapping[str, FamilyExtras] = {"dlms": DLMS_EXTRAS, "modbus": MODBUS_EXTRAS}
"""Options and sensors a family has beyond the shared ones (see `family_extras`)."""


def extras_of(data: Mapping[str, Any]) -> FamilyExtras:
    """The extras of the family a config entry is about."""
    return extras_of_family(family_of(data).id)


def extras_of_family(family_id: str) -> FamilyExtras:
    """The extras of a family, by its id."""
    return FAMILY_EXTRAS.get(family_id, NO_EXTRAS)


def family_of(data: Mapping[str, Any]) -> Family:
    """The family a config entry (or a flow's collected data) is about."""
    return FAMILIES[data.get(CONF_SOURCE, DEFAULT_FAMILY)]


def link_settings(data: Mapping[str, Any]) -> LinkSettings:
    """Return the link described by entry data (the serial mode is always explicit there)."""
    if data[CONF_CONNECTION] == CONNECTION_NETWORK:
        return TcpSettings(host=data[CONF_HOST], port=int(data[CONF_PORT]))
    return serial_settings_for(data[CONF_SERIAL_PORT], data[CONF_SERIAL_MODE])


def keys_of(data: Mapping[str, Any]) -> Keys:
    """The stored hex keys as bytes (absent ones as None)."""
    key, auth_key = data.get(CONF_KEY), data.get(CONF_AUTH_KEY)
    return Keys(
        key=bytes.fromhex(key) if key else None,
        auth_key=bytes.fromhex(auth_key) if auth_key else None,
    )


def create_polled_session(data: Mapping[str, Any], *, time_zone: tzinfo) -> PolledSession:
    """The session of a polled meter, unopened."""
    family = family_of(data)
    if family.make_source is None:
        raise ValueError(f"{family.name} meters push their data")
    settings = link_settings(data)
    source = family.make_source(settings, keys_of(data))
    return PolledSession(family, source, describe_link(settings), time_zone=time_zone)
