"""Command line: decode captured meter output into one JSON object per message, or poll a meter.

python -m custom_components.energy_gateway.meterlib decode [--key HEX] [--auth-key HEX] FILE|-
python -m custom_components.energy_gateway.meterlib mep read TARGET --key KEY [serial options]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
import json
from pathlib import Path
import sys

from .capture import decode_capture
from .core.errors import DecodeError, LinkError
from .core.family import Keys
from .core.model import Reading, ReadingValue, Snapshot
from .cosem.ciphering import AES_KEY_LENGTHS
from .links.connections import LinkSettings, SerialSettings, TcpSettings, create_link
from .mep.client import RESPONSE_TIMEOUT, SETTLE_TIME, MepClient
from .mep.keys import parse_key


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = _parser().parse_args(argv)
    if args.command == "mep":
        return _mep_read(args)
    return _decode(args)


def _decode(args: argparse.Namespace) -> int:
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


def _mep_read(args: argparse.Namespace) -> int:
    """Read an MEP meter's identity and values once; print one JSON object."""
    settings: LinkSettings = args.target
    if isinstance(settings, SerialSettings):
        settings = replace(settings, baudrate=args.baudrate)
    client = MepClient(
        create_link(settings),
        args.key,
        rts=args.rts,
        settle_time=args.settle,
        response_timeout=args.timeout,
        encrypt=args.encrypt,
    )

    async def read() -> tuple[Snapshot, str]:
        try:
            await client.open()
            identity = await client.identify()
            return await client.read(), identity.firmware
        finally:
            await client.close()

    try:
        snapshot, firmware = asyncio.run(read())
    except (DecodeError, LinkError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "meter_id": snapshot.meter_id,
                "model": snapshot.variant,
                "firmware": firmware,
                "readings": [_reading_to_json(reading) for reading in snapshot.readings.values()],
            }
        )
    )
    return 0


def _mep_target(text: str) -> LinkSettings:
    """`host:port` for a network bridge, anything else a serial device path."""
    host, sep, port = text.rpartition(":")
    if sep and host and port.isdigit() and not text.startswith("/"):
        return TcpSettings(host.strip("[]"), int(port))
    if not text:
        raise argparse.ArgumentTypeError("empty target")
    return SerialSettings(text, baudrate=9600)


def _mep_key(text: str) -> bytes:
    try:
        return parse_key(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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
    mep = commands.add_parser("mep", help="NES/Echelon MEP port")
    mep_commands = mep.add_subparsers(dest="mep_command", required=True)
    read = mep_commands.add_parser(
        "read", help="read identity and values once, print one JSON object"
    )
    read.add_argument("target", type=_mep_target, help="serial port path, or host:port")
    read.add_argument(
        "--key", type=_mep_key, required=True, help="MEP key: 20 characters or 40 hex digits"
    )
    read.add_argument("--baudrate", type=int, default=9600, help="serial rate (default 9600)")
    read.add_argument(
        "--rts",
        choices=("on", "off", "inverted"),
        default="on",
        help="how ENABLE is driven through RTS (serial ports only; default on)",
    )
    read.add_argument(
        "--settle",
        type=float,
        default=SETTLE_TIME,
        help=f"seconds to wait after asserting ENABLE (default {SETTLE_TIME})",
    )
    read.add_argument(
        "--timeout",
        type=float,
        default=RESPONSE_TIMEOUT,
        help=f"seconds to wait for a reply (default {RESPONSE_TIMEOUT})",
    )
    read.add_argument("--encrypt", action="store_true", help="RC4-encrypt the requests")
    return parser
