"""`mep read` as a real subprocess against the simulated meter over TCP."""

from __future__ import annotations

import json

import pytest

from simulators.mep_meter import DEMO_KEY, MODEL, SERIAL, MepTcpServer

from ..conftest import run_cli_async
from .helpers import MuteMeter, frozen_meter

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_reads_identity_and_values() -> None:
    meter = frozen_meter()
    server = await MepTcpServer(meter).start()
    try:
        code, out, err = await run_cli_async(
            "mep", "read", f"127.0.0.1:{server.port}", "--key", DEMO_KEY.decode()
        )
    finally:
        await server.close()
    assert code == 0, err
    assert err == ""
    (line,) = out.splitlines()
    obj = json.loads(line)
    assert list(obj) == ["meter_id", "model", "firmware", "readings"]
    assert (obj["meter_id"], obj["model"], obj["firmware"]) == (SERIAL, MODEL, "3.72.05")
    assert {item["obis"]: item["value"] for item in obj["readings"]} == meter.truth()
    assert {"obis": "1-0:14.7.0", "value": meter.truth()["1-0:14.7.0"], "unit": "Hz"} in (
        obj["readings"]
    )


async def test_hex_key_and_rc4() -> None:
    meter = frozen_meter()
    server = await MepTcpServer(meter).start()
    try:
        code, out, err = await run_cli_async(
            "mep",
            "read",
            f"127.0.0.1:{server.port}",
            "--key",
            "0x" + DEMO_KEY.hex() + "00",
            "--encrypt",
        )
    finally:
        await server.close()
    assert code == 0, err
    assert json.loads(out)["meter_id"] == SERIAL
    assert meter.counters.encrypted == meter.counters.requests > 0


async def test_wrong_key_fails_in_one_line() -> None:
    meter = frozen_meter()
    server = await MepTcpServer(meter).start()
    try:
        code, out, err = await run_cli_async(
            "mep", "read", f"127.0.0.1:{server.port}", "--key", "Not the right key!!!"
        )
    finally:
        await server.close()
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: The meter rejects the MEP key")
    assert "right key" not in err


async def test_no_answer_fails_in_one_line() -> None:
    async with MuteMeter() as mute:
        code, out, err = await run_cli_async(
            "mep", "read", f"127.0.0.1:{mute.port}", "--key", DEMO_KEY.decode(), "--timeout", "0.2"
        )
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: The meter does not answer")


async def test_missing_serial_port_and_bad_key() -> None:
    code, _, err = await run_cli_async(
        "mep", "read", "/dev/no-such-mep-port", "--key", DEMO_KEY.decode(), "--rts", "off"
    )
    assert code == 1
    assert err == "error: Serial port /dev/no-such-mep-port does not exist\n"
    code, _, err = await run_cli_async("mep", "read", "127.0.0.1:1", "--key", "too short")
    assert code == 2
    assert "20 characters (as the utility sends it) or 40 hex digits" in err
