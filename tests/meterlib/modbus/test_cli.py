"""`modbus scan` and `modbus poll` as real subprocesses against the simulated fleet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simulators.modbus_fleet import ModbusFleet

from ..conftest import run_cli_async

FAST = ["--min-timeout", "0.3", "--timeout", "1.0"]
"""Timeouts a starved simulator still meets (see the conftest's FAST)."""
PLACEMENT = {1: "meatrol", 2: "eastron_sdm630", 4: "carlogavazzi_em24", 5: "unknown"}


async def cli(*args: str, stdin: str = "") -> tuple[int, list[dict[str, Any]], str]:
    """Run `modbus ...` while this event loop keeps serving the simulator; JSON lines out."""
    code, stdout, stderr = await run_cli_async("modbus", *args, stdin=stdin.encode())
    return code, [json.loads(line) for line in stdout.splitlines()], stderr


async def test_scan_then_poll_the_scan_output(tmp_path: Path) -> None:
    fleet = ModbusFleet.of_models(PLACEMENT)
    port = await fleet.start_tcp(framing="rtu")
    target = f"127.0.0.1:{port}"
    try:
        code, found, stderr = await cli("scan", target, "--framing", "rtu", "--range", "1-6", *FAST)
        assert code == 0, stderr
        assert found == [
            {"address": 1, "model": "meatrol", "serial": "10000001"},
            {"address": 2, "model": "eastron_sdm630", "serial": "10000002"},
            {"address": 4, "model": "carlogavazzi_em24", "serial": None},
            {"address": 5, "model": None, "serial": None},
        ]
        scan_file = tmp_path / "scan.jsonl"
        scan_file.write_text("".join(json.dumps(item) + "\n" for item in found))
        code, lines, stderr = await cli(
            "poll", target, "--framing", "rtu", "--cycles", "2", *FAST, str(scan_file)
        )
        assert code == 0, stderr
        assert [(line["cycle"], line["address"]) for line in lines] == [
            (1, 1),
            (1, 2),
            (1, 4),
            (2, 1),
            (2, 2),
            (2, 4),
        ]
        meatrol = lines[0]
        assert (meatrol["model"], meatrol["serial"]) == ("meatrol", "10000001")
        readings = {item["obis"]: item for item in meatrol["readings"]}
        assert readings["1-0:1.8.0"]["unit"] == "kWh"
        assert 225 < readings["1-0:32.7.0"]["value"] < 235
    finally:
        await fleet.stop()


async def test_poll_from_pairs_and_from_stdin() -> None:
    fleet = ModbusFleet.of_models(PLACEMENT)
    port = await fleet.start_tcp()
    target = f"127.0.0.1:{port}"
    try:
        code, lines, stderr = await cli("poll", target, *FAST, "2=eastron_sdm630")
        assert code == 0, stderr
        assert [(line["address"], line["serial"]) for line in lines] == [(2, "10000002")]
        scan = json.dumps({"address": 1, "model": "meatrol", "serial": None}) + "\n"
        code, lines, stderr = await cli("poll", target, *FAST, "-", stdin=scan)
        assert code == 0, stderr
        assert [line["address"] for line in lines] == [1]
    finally:
        await fleet.stop()


async def test_silent_bus_exits_non_zero_with_one_line() -> None:
    fleet = ModbusFleet.of_models({3: "meatrol"})
    fleet.meters[3].silence()
    port = await fleet.start_tcp()
    target = f"127.0.0.1:{port}"
    try:
        code, lines, stderr = await cli("scan", target, "--range", "1-4", *FAST)
        assert (code, lines) == (1, [])
        assert stderr.strip().splitlines() == [f"error: no unit answered on {target} (1-4)"]
        code, lines, stderr = await cli("poll", target, *FAST, "3=meatrol")
        assert (code, lines) == (1, [])
        assert stderr.strip().splitlines()[-1] == f"error: no meter on {target} answers"
    finally:
        await fleet.stop()


async def test_unreachable_host_and_missing_port_exit_non_zero(unused_tcp_port: int) -> None:
    code, _, stderr = await cli("scan", f"127.0.0.1:{unused_tcp_port}", *FAST)
    assert code == 1
    assert stderr.startswith(f"error: cannot connect to 127.0.0.1:{unused_tcp_port}")
    assert len(stderr.strip().splitlines()) == 1
    code, _, stderr = await cli("scan", "/dev/does-not-exist", *FAST)
    assert code == 1
    assert stderr.strip() == "error: serial port /dev/does-not-exist does not exist"


async def test_bad_scan_input_is_reported() -> None:
    code, _, stderr = await cli("poll", "127.0.0.1:1", *FAST, "-", stdin="not json\n")
    assert code == 1
    assert stderr.startswith("error: not a scan result line")
    code, _, stderr = await cli("poll", "127.0.0.1:1", *FAST, "1=no_such_model")
    assert code == 1
    assert "no register map for no_such_model" in stderr
