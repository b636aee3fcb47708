"""The MEP vectors under tests/fixtures/mep (see its README for their sources)."""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "mep"
DEFAULT_MAK = bytes([0x01] * 16)


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as on the wire."""

    name: str
    key: bytes | None
    request: bytes
    response: bytes

    @property
    def request_body(self) -> bytes:
        """Request code .. sequence number."""
        return self.request[2:-8]

    @property
    def response_body(self) -> bytes:
        """Response code .. data."""
        return self.response[2:-8]


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def guide_exchanges() -> list[Exchange]:
    """Every worked example of the guide in RC4/digest mode (TLS left out)."""
    return [
        Exchange(
            item["name"],
            bytes.fromhex(item["key_hex"]) if item["key_hex"] else None,
            bytes.fromhex(item["request"]),
            bytes.fromhex(item["response"]),
        )
        for item in _load("osgp_mep_dg_vectors.json")["exchanges"]
        if not item["name"].startswith("TLS")
    ]


def keyed_exchanges() -> list[Exchange]:
    """The guide's examples whose key is published (the default MAK)."""
    return [exchange for exchange in guide_exchanges() if exchange.key is not None]


def real_captures() -> list[dict[str, str]]:
    """Frames from a Danish meter (key unknown)."""
    captures: list[dict[str, str]] = _load("real_meter_captures.json")["captures"]
    return captures
