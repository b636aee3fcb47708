"""Command line: decode captured meter output into one JSON object per message.

python -m custom_components.energy_gateway.meterlib decode [--key HEX] [--auth-key HEX] FILE|-
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
import json
from pathlib import Path
import sys

from .capture import decode_capture
from .core.errors import DecodeError
from .core.family import Keys
from .core.model import Reading, ReadingValue, Snapshot
from .cosem.ciphering import AES_KEY_LENGTHS


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = _parser().parse_args(argv)
    try:
        data = sys.stdin.buffer.read() if args.source == "-" else Path(args.source).read_bytes()
    except OSError as err:
        print(f"error: cannot read {args.source}: {err.strerror or err}", file=sys.stderr)
        return 1
    try:
        _, results = decode_capture(data, Keys(key=args.key, auth_key=args.auth_key))
    except DecodeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    failed = 0
    for result in results:
        if isinstance(result, DecodeError):
            failed += 1
            print(f"error: {type(result).__name__}: {result}", file=sys.stderr)
        else:
            print(json.dumps(snapshot_to_json(result)))
    return 1 if failed else 0


def snapshot_to_json(snapshot: Snapshot) -> dict[str, object]:
    """A JSON-ready view of a snapshot (datetimes as ISO-8601 strings)."""
    return {
        "format": snapshot.format,
        "meter_id": snapshot.meter_id,
        "timestamp": _json_value(snapshot.timestamp),
        "readings": [_reading_to_json(reading) for reading in snapshot.readings.values()],
    }


def _reading_to_json(reading: Reading) -> dict[str, object]:
    item: dict[str, object] = {
        "obis": reading.obis,
        "value": _json_value(reading.value),
        "unit": reading.unit,
    }
    if reading.captured is not None:
        item["captured"] = reading.captured.isoformat()
    if reading.entries:
        item["entries"] = [[_json_value(value) for value in row] for row in reading.entries]
    return item


def _json_value(value: ReadingValue) -> float | int | str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _hex_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a hex string: {text!r}") from None
    if len(key) not in AES_KEY_LENGTHS:
        raise argparse.ArgumentTypeError(f"key must be 16, 24 or 32 bytes, got {len(key)}")
    return key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m custom_components.energy_gateway.meterlib",
        description="Decode smart-meter captures (P1/DSMR, encrypted P1) into JSON lines.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    decode = commands.add_parser(
        "decode", help="decode a capture: raw bytes or a hex dump, format detected"
    )
    decode.add_argument("--key", type=_hex_key, help="encryption key (hex)")
    decode.add_argument("--auth-key", type=_hex_key, help="authentication key (hex)")
    decode.add_argument("source", help="capture file, or - to read standard input")
    return parser
