"""The NES/Echelon MEP family's registry entry: the MEP client as a polled source."""

from __future__ import annotations

from collections.abc import Mapping

from ..core.errors import KeyRequiredError
from ..core.family import Family, Keys, PolledSource
from ..core.model import Snapshot
from ..links.connections import LinkSettings, create_link
from .client import MepClient
from .keys import parse_key


class MepSource:
    """One MEP port polled through `MepClient`; the key is needed before anything is read.

    The ENABLE line is driven through RTS when the port has one (`rts="auto"`): USB RS-232
    adapters do, network bridges and pseudo-terminals do not, and there ENABLE must be wired
    to a supply.
    """

    def __init__(self, settings: LinkSettings, key: bytes | None) -> None:
        self._link = create_link(settings)
        self._client = None if key is None else MepClient(self._link, key, rts="auto")

    def __repr__(self) -> str:  # never the key
        return f"<MepSource {self._client!r}>"

    async def open(self) -> None:
        """Open the port and assert ENABLE (without a key: only open the port, so a wrong
        path or a refused connection shows before anyone is asked for a key)."""
        if self._client is None:
            await self._link.open()
        else:
            await self._client.open()

    async def read(self) -> Snapshot:
        """Identity (first time), energy registers, present values and clock, all verified."""
        if self._client is None:
            raise KeyRequiredError("An MEP meter answers only requests signed with its key")
        return await self._client.read()

    async def close(self) -> None:
        """Release ENABLE and close the port."""
        if self._client is None:
            await self._link.close()
        else:
            await self._client.close()

    def diagnostics(self) -> Mapping[str, object]:
        """The client's counters and what the meter said of itself (never the key)."""
        if self._client is None:
            return {"key": "missing"}
        identity = self._client.identity
        return {
            "model": identity.model if identity else None,
            "firmware": identity.firmware if identity else None,
            "encrypted": self._client.encrypted,
            "rejected_replies": self._client.stats.rejected,
            **self._client.stats.as_dict(),
        }


def _source(settings: LinkSettings, keys: Keys) -> PolledSource:
    return MepSource(settings, keys.key)


FAMILY = Family(
    id="mep",
    name="NES/Echelon MEP",
    delivery="poll",
    # The guide's default line; other rates need a setting in the meter (ET13) first.
    serial_presets=("9600_8n1",),
    make_source=_source,
    key_parser=parse_key,
)
