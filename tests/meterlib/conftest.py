"""Helpers for the meter-library tests: the recorded vectors under tests/fixtures/."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
import subprocess
import sys

from custom_components.energy_gateway.meterlib.core.crc import crc16_arc
from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.core.family import StreamDecoder
from custom_components.energy_gateway.meterlib.core.model import Snapshot

ROOT = Path(__file__).parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CLI_MODULE = "custom_components.energy_gateway.meterlib"
DSMR = FIXTURES / "dsmr"

# Every plaintext telegram among the fixtures (file names), for sweeping tests.
PLAIN_TELEGRAMS = sorted(path.name for path in DSMR.glob("*.txt") if "LICENSE" not in path.name)
GOOD_TELEGRAMS = [name for name in PLAIN_TELEGRAMS if name != "aviborg_data2.txt"]
"""Every plaintext telegram that decodes (aviborg_data2 has a wrong CRC on purpose)."""

ENCRYPTED_FRAME = "smarty_format_encrypted_synthetic_esphome_libs.bin"
SMARTY_KEY = bytes.fromhex("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
SMARTY_AUTH_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")


def vector(name: str) -> bytes:
    """The bytes of one P1/DSMR fixture."""
    return (DSMR / name).read_bytes()


def with_crc(body: bytes) -> bytes:
    """Finish a telegram body ending in `!` with its correct CRC line."""
    assert body.endswith(b"!")
    return body + f"{crc16_arc(body[body.index(b'/') :]):04X}\r\n".encode()


def edit_telegram(name: str, old: bytes, new: bytes) -> bytes:
    """A fixture telegram with one edit and a recomputed (valid) CRC."""
    data = vector(name)
    assert old in data
    body = data[: data.index(b"!") + 1].replace(old, new)
    return with_crc(body)


def feed_in_chunks(
    decoder: StreamDecoder, stream: bytes, sizes: Sequence[int]
) -> list[Snapshot | DecodeError]:
    """Feed `stream` in chunks of the given sizes, in turn; return every result."""
    results: list[Snapshot | DecodeError] = []
    pos, turn = 0, 0
    while pos < len(stream):
        size = sizes[turn % len(sizes)]
        results += decoder.feed(stream[pos : pos + size])
        pos, turn = pos + size, turn + 1
    return results


def run_cli(
    *args: str, stdin: bytes = b"", encoding: str = "utf-8"
) -> subprocess.CompletedProcess[str]:
    """The library's command line as a real subprocess from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", CLI_MODULE, *args],
        input=stdin.decode(encoding),
        capture_output=True,
        text=True,
        encoding=encoding,
        cwd=ROOT,
        check=False,
        timeout=60,
    )


async def run_cli_async(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """The command line as a subprocess while this event loop keeps serving a simulator:
    exit status, standard output and standard error."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        CLI_MODULE,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(stdin), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()
