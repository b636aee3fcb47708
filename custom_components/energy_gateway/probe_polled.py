"""Ask a polled meter once before an entry is created: is it there, does the key work?

The polled counterpart of `probe.probe_meter`: instead of listening, it opens the family's
source, reads one snapshot (for MEP: identity, then values, every reply digest-verified) and
closes it again. Errors come back as the same keys the listening probe uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .const import (
    CONF_CONNECTION,
    CONF_SERIAL_MODE,
    CONNECTION_SERIAL,
    FIRST_MESSAGE_TIMEOUT,
    LOGGER,
    SERIAL_MODE_AUTO,
)
from .families import family_of, keys_of, link_settings
from .meterlib.core.errors import (
    ChecksumError,
    DecodeError,
    KeyRequiredError,
    LinkError,
    PortNotFoundError,
    PortPermissionError,
    WrongKeyError,
)
from .probe import ProbeOutcome

_RETRY_NEXT_PRESET = frozenset(("no_data", "not_decodable", "crc_failures"))
"""Outcomes that a different line setting may cure (automatic detection goes on)."""
_SETTLED_BY_PRESET = frozenset(("key_required", "wrong_key"))
"""Failures after which the setting is kept: the key step goes on with that port."""


async def probe_polled_meter(data: Mapping[str, Any]) -> ProbeOutcome:
    """Read the meter once with the settings in `data`; a serial mode of `auto` tries the
    family's presets in turn."""
    family = family_of(data)
    if (
        data[CONF_CONNECTION] != CONNECTION_SERIAL
        or data.get(CONF_SERIAL_MODE, SERIAL_MODE_AUTO) != SERIAL_MODE_AUTO
    ):
        return await _ask_once(data)
    outcome = ProbeOutcome(error="no_data")
    for preset in family.serial_presets:
        outcome = await _ask_once({**data, CONF_SERIAL_MODE: preset})
        if outcome.snapshot is not None or outcome.error in _SETTLED_BY_PRESET:
            return ProbeOutcome(outcome.snapshot, outcome.error, serial_mode=preset)
        if outcome.error not in _RETRY_NEXT_PRESET:
            break
    return outcome


async def _ask_once(data: Mapping[str, Any]) -> ProbeOutcome:
    family = family_of(data)
    if family.make_source is None:
        raise ValueError(f"{family.name} meters push their data")
    source = family.make_source(link_settings(data), keys_of(data))
    opened = False
    try:
        async with asyncio.timeout(FIRST_MESSAGE_TIMEOUT):
            await source.open()
            opened = True
            return ProbeOutcome(snapshot=await source.read())
    except PortNotFoundError:
        return ProbeOutcome(error="port_not_found")
    except PortPermissionError:
        return ProbeOutcome(error="permission_denied")
    except KeyRequiredError:
        return ProbeOutcome(error="key_required")
    except WrongKeyError:
        return ProbeOutcome(error="wrong_key")
    except ChecksumError as err:
        LOGGER.debug("Every answer of the meter failed its check: %s", err)
        return ProbeOutcome(error="crc_failures")
    except DecodeError as err:
        LOGGER.debug("The meter's answer was unusable: %s", err)
        return ProbeOutcome(error="not_decodable")
    except (LinkError, TimeoutError) as err:
        # The port opened (or the bridge accepted us) but the meter stayed silent.
        LOGGER.debug("No answer from the meter: %s", err or "timeout")
        return ProbeOutcome(error="no_data" if opened else "cannot_connect")
    finally:
        await source.close()
