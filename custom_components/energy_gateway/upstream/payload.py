"""What goes over the wire: snapshot encoding, the v1 batch and the AmpX-compatible shape.

Plain Python (no Home Assistant import). The v1 batch is published as a JSON Schema in
`schemas/upstream-batch-v1.json` and documented in the README.

A snapshot is encoded once, when it enters the outbox (compact JSON, zlib-compressed on
disk); a batch body is then assembled from those fragments without decoding them again, so
a retry sends byte-for-byte the same body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import gzip
import json
import math
from typing import Any, Final
import zlib

from ..meterlib.core.model import Reading, ReadingValue, Snapshot
from .outbox import PendingBatch, StoredSnapshot

SCHEMA_ID: Final = "energy-gateway.upstream.batch"
SCHEMA_VERSION: Final = 1
FORMAT_V1: Final = "v1"
FORMAT_AMPX: Final = "ampx"


def _dumps(value: Any) -> str:
    """Compact JSON, real characters, and never NaN (not JSON: a bug if it gets here)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True, slots=True)
class MeterIdentity:
    """Who a snapshot is from, as the portal sees it."""

    meter_id: str
    """Stable id of the meter in this gateway (its config entry's unique id)."""
    serial: str | None
    source: str
    """The meter source kind: `p1`, `dlms`, `modbus`, `mep`, ..."""


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request body and its idempotency key."""

    key: str
    body: bytes
    gzipped: bool
    snapshots: int


def _json_value(value: ReadingValue) -> str | float | int | None:
    """A reading value JSON can carry: times as ISO 8601, no NaN or infinity."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _reading(reading: Reading) -> dict[str, Any]:
    encoded: dict[str, Any] = {"value": _json_value(reading.value), "unit": reading.unit}
    if reading.captured is not None:
        encoded["captured"] = reading.captured.isoformat()
    if reading.entries:
        encoded["entries"] = [[_json_value(item) for item in row] for row in reading.entries]
    return encoded


def encode_snapshot(
    identity: MeterIdentity, snapshot: Snapshot, received: datetime
) -> StoredSnapshot:
    """A snapshot as the outbox stores it (its v1 JSON, compressed)."""
    record = {
        "timestamp": snapshot.timestamp.isoformat() if snapshot.timestamp else None,
        "received": received.astimezone(UTC).isoformat(),
        "format": snapshot.format,
        "readings": {obis: _reading(reading) for obis, reading in snapshot.readings.items()},
    }
    text = _dumps(record)
    return StoredSnapshot(
        meter_id=identity.meter_id,
        serial=identity.serial,
        source=identity.source,
        received=received.timestamp(),
        body=zlib.compress(text.encode(), 1),
    )


def decode_snapshot(stored: StoredSnapshot) -> dict[str, Any]:
    """The v1 snapshot record of a stored snapshot."""
    decoded: dict[str, Any] = json.loads(zlib.decompress(stored.body))
    return decoded


def _created(batch: PendingBatch) -> str:
    return datetime.fromtimestamp(batch.created, UTC).isoformat()


def v1_body(batch: PendingBatch, gateway_id: str) -> bytes:
    """The v1 batch: meters in order of their oldest snapshot, each with its snapshots.

    A meter's snapshots stay in the order they were read; a meter appears once per batch.
    """
    grouped: dict[tuple[str, str | None, str], list[bytes]] = {}
    for stored in batch.snapshots:
        meter = (stored.meter_id, stored.serial, stored.source)
        grouped.setdefault(meter, []).append(zlib.decompress(stored.body))
    head = _dumps(
        {
            "schema": SCHEMA_ID,
            "version": SCHEMA_VERSION,
            "batch_id": batch.key,
            "gateway_id": gateway_id,
            "created": _created(batch),
        }
    )
    meters = []
    for (meter_id, serial, source), bodies in grouped.items():
        about = _dumps({"meter_id": meter_id, "serial": serial, "source": source})
        meters.append(about[:-1].encode() + b',"snapshots":[' + b",".join(bodies) + b"]}")
    return head[:-1].encode() + b',"meters":[' + b",".join(meters) + b"]}"


# The AmpX gateway's value names, from the OBIS codes (C.D.E groups) they correspond to.
_AMPX_NAMES: Final[Mapping[str, str]] = {
    "32.7.0": "voltage_L1",
    "52.7.0": "voltage_L2",
    "72.7.0": "voltage_L3",
    "31.7.0": "current_L1",
    "51.7.0": "current_L2",
    "71.7.0": "current_L3",
    "21.7.0": "active_power_L1",
    "41.7.0": "active_power_L2",
    "61.7.0": "active_power_L3",
    "1.7.0": "active_power_tot",
    "2.7.0": "active_power_exported_tot",
    "1.8.0": "active_energy_imported_tot",
    "2.8.0": "active_energy_exported_tot",
    "14.7.0": "frequency",
}
# AmpX sends power in kW and energy in kWh.
_AMPX_SCALE: Final[Mapping[str, float]] = {"W": 0.001, "kW": 1.0, "Wh": 0.001, "kWh": 1.0}
_TARIFF_TOTALS: Final = {"1.8": "active_energy_imported_tot", "2.8": "active_energy_exported_tot"}


def _ampx_number(reading: Mapping[str, Any]) -> float | None:
    value = reading.get("value")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return float(value) * _AMPX_SCALE.get(reading.get("unit") or "", 1.0)


def ampx_values(serial: str | None, readings: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """AmpX `values`: numbers as strings; tariff registers summed when no total is sent."""
    values: dict[str, str] = {"serial": serial or ""}
    tariff_sums: dict[str, float] = {}
    for obis, reading in readings.items():
        medium, _, groups = obis.rpartition(":")
        number = _ampx_number(reading)
        if number is None or not medium.startswith("1-"):
            continue  # AmpX names electricity registers only
        if (name := _AMPX_NAMES.get(groups)) is not None:
            values[name] = f"{number:g}"
        elif groups[:-2] in _TARIFF_TOTALS and groups[-1] != "0":
            name = _TARIFF_TOTALS[groups[:-2]]
            tariff_sums[name] = tariff_sums.get(name, 0.0) + number
    for name, total in tariff_sums.items():
        values.setdefault(name, f"{round(total, 6):g}")
    return values


def _utc_z(iso: str | None, fallback: str) -> str:
    moment = datetime.fromisoformat(iso or fallback).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def ampx_bodies(batch: PendingBatch, gateway_id: str) -> list[tuple[str, bytes]]:
    """One AmpX POST body per snapshot, each with its own stable idempotency key."""
    bodies = []
    for index, stored in enumerate(batch.snapshots):
        record = decode_snapshot(stored)
        message = {
            "gateway_id": gateway_id,
            "meter_id": stored.meter_id,
            "serial_number": stored.serial or "",
            "timestamp": _utc_z(record.get("timestamp"), record["received"]),
            "values": ampx_values(stored.serial, record.get("readings", {})),
        }
        body = _dumps(message).encode()
        bodies.append((f"{batch.key}-{index}", body))
    return bodies


def build_requests(
    batch: PendingBatch, *, gateway_id: str, payload_format: str, use_gzip: bool
) -> list[Request]:
    """The request(s) that deliver a batch: one in v1, one per snapshot in AmpX mode."""
    if payload_format == FORMAT_AMPX:
        pairs = ampx_bodies(batch, gateway_id)
    else:
        pairs = [(batch.key, v1_body(batch, gateway_id))]
    per_request = 1 if payload_format == FORMAT_AMPX else len(batch.snapshots)
    return [
        Request(
            key=key,
            # mtime=0: a retry's gzipped body is the same bytes as the first attempt's.
            body=gzip.compress(body, compresslevel=5, mtime=0) if use_gzip else body,
            gzipped=use_gzip,
            snapshots=per_request,
        )
        for key, body in pairs
    ]


def probe_body(gateway_id: str, payload_format: str) -> bytes:
    """The empty batch the config flow sends to check URL and token."""
    if payload_format == FORMAT_AMPX:
        return b"[]"
    empty = PendingBatch(key=f"test-{gateway_id}", created=0.0, snapshots=())
    return v1_body(empty, gateway_id)
