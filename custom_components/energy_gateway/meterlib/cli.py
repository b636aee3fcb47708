"""Command line: decode captured meter output, read an MEP meter, scan and poll Modbus meters;
JSON out.

python -m custom_components.energy_gateway.meterlib decode [--key HEX] [--auth-key HEX] FILE|-
python -m custom_components.energy_gateway.meterlib mep read TARGET --key KEY [serial options]
python -m custom_components.energy_gateway.meterlib modbus scan TARGET [--range 1-32]
python -m custom_components.energy_gateway.meterlib modbus poll TARGET --cycles N SCAN

TARGET is a serial port (`/dev/ttyUSB0`) or `host:port`; SCAN is a scan's output file, `-`
for standard input, or `address=model,...` pairs.
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
from .modbus.client import ModbusBus, ModbusBusSettings
from .modbus.poller import FleetPoller, MeterAssignment
from .modbus.scanner import scan_units
from .modbus.schema import load_maps


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = _parser().parse_args(argv)
    if args.command == "mep":
        return _mep_read(args)
    if args.command == "modbus":
        return _modbus(args)
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


def _target(text: str) -> LinkSettings:
    """TARGET of every command that talks to a meter: `host:port` for a network bridge,
    anything else a serial device path (its line settings come from the command's options)."""
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
    read.add_argument("target", type=_target, help="serial port path, or host:port")
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
    _modbus_parser(commands)
    return parser


def _modbus_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    modbus = commands.add_parser("modbus", help="find and read Modbus meters")
    actions = modbus.add_subparsers(dest="action", required=True)
    scan = actions.add_parser("scan", help="find and identify the meters on a bus")
    poll = actions.add_parser("poll", help="read meters found by a scan")
    for sub in (scan, poll):
        sub.add_argument("target", type=_target, help="serial port, or host:port")
        sub.add_argument(
            "--framing",
            choices=["tcp", "rtu"],
            default="tcp",
            help="on host:port: Modbus TCP, or RTU frames through a gateway",
        )
        sub.add_argument("--baudrate", type=int, default=9600)
        sub.add_argument("--parity", choices=["N", "E", "O"], default="N")
        sub.add_argument("--stopbits", type=int, choices=[1, 2], default=1)
        sub.add_argument("--timeout", type=float, default=1.0, help="longest wait, seconds")
        sub.add_argument(
            "--min-timeout",
            type=float,
            default=0.1,
            help="shortest wait (what an absent unit costs), seconds",
        )
        sub.add_argument("--delay", type=float, default=0.0, help="pause after each request")
        sub.add_argument(
            "--maps",
            action="append",
            default=[],
            metavar="DIR",
            help="extra directory of register maps (repeatable)",
        )
    scan.add_argument(
        "--range",
        dest="addresses",
        type=_address_range,
        default=list(range(1, 33)),
        help="unit addresses, e.g. 1-32 or 1-10,20",
    )
    poll.add_argument("--cycles", type=int, default=1)
    poll.add_argument("--interval", type=float, default=0.0, help="seconds between cycles")
    poll.add_argument("scan", help="scan output file, - for standard input, or address=model,...")


def _address_range(text: str) -> list[int]:
    addresses: list[int] = []
    try:
        for part in text.split(","):
            low, _, high = part.partition("-")
            addresses += range(int(low), int(high or low) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address range: {text!r}") from None
    if not addresses or not all(1 <= address <= 247 for address in addresses):
        raise argparse.ArgumentTypeError(f"addresses must be 1..247: {text!r}")
    return addresses


def _bus_settings(args: argparse.Namespace) -> ModbusBusSettings:
    target: LinkSettings = args.target
    common = {
        "baudrate": args.baudrate,
        "parity": args.parity,
        "stopbits": args.stopbits,
        "timeout": args.timeout,
        "min_timeout": min(args.min_timeout, args.timeout),
        "delay": args.delay,
    }
    if isinstance(target, TcpSettings):
        return ModbusBusSettings(host=target.host, port=target.port, framing=args.framing, **common)
    return ModbusBusSettings(serial_port=target.path, **common)


def _modbus(args: argparse.Namespace) -> int:
    maps = load_maps(args.maps)
    for error in maps.errors:
        print(f"warning: map {error}", file=sys.stderr)
    try:
        settings = _bus_settings(args)
        if args.action == "scan":
            return asyncio.run(_scan(ModbusBus(settings, maps), args.addresses))
        assignments = _assignments(args.scan)
        return asyncio.run(_poll(ModbusBus(settings, maps), assignments, args))
    except (LinkError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


async def _scan(bus: ModbusBus, addresses: list[int]) -> int:
    await bus.connect()
    try:
        found = await scan_units(bus, addresses)
    finally:
        await bus.close()
    for meter in found:
        print(json.dumps({"address": meter.address, "model": meter.model, "serial": meter.serial}))
    if not found:
        first, last = addresses[0], addresses[-1]
        print(f"error: no unit answered on {bus.settings.target} ({first}-{last})", file=sys.stderr)
        return 1
    return 0


def _assignments(source: str) -> list[MeterAssignment]:
    """Meters to poll from a scan's JSON lines (file or stdin) or `address=model` pairs."""
    if source != "-" and "=" in source and not Path(source).exists():
        pairs = [item.partition("=") for item in source.split(",") if item]
        return [MeterAssignment(int(address), model) for address, _, model in pairs]
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    meters = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            address, model = item["address"], item["model"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ValueError(f"not a scan result line: {line[:60]!r}") from None
        if model is not None:  # units that match no map cannot be read
            meters.append(MeterAssignment(int(address), str(model)))
    if not meters:
        raise ValueError(f"no known meter in {source}")
    return meters


async def _poll(bus: ModbusBus, meters: list[MeterAssignment], args: argparse.Namespace) -> int:
    poller = FleetPoller(bus, meters)
    await bus.connect()
    got_any = False
    try:
        for cycle in range(1, args.cycles + 1):
            if cycle > 1 and args.interval:
                await asyncio.sleep(args.interval)
            for address, snapshot in (await poller.poll_cycle()).items():
                got_any = True
                print(
                    json.dumps(
                        {
                            "cycle": cycle,
                            "address": address,
                            "model": snapshot.variant,
                            "serial": snapshot.meter_id,
                            "readings": [_reading_to_json(r) for r in snapshot.readings.values()],
                        }
                    ),
                    flush=True,
                )
    finally:
        await bus.close()
    if not got_any:
        print(f"error: no meter answered on {bus.settings.target}", file=sys.stderr)
        return 1
    return 0
