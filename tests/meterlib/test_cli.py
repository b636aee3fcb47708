"""The command line, run as a real subprocess from the repository root."""

from __future__ import annotations

from datetime import datetime
import json
from pathlib import Path
import subprocess
from typing import Any

import pytest

from custom_components.energy_gateway.meterlib.capture import decode_capture
from custom_components.energy_gateway.meterlib.cli import main, snapshot_to_json
from custom_components.energy_gateway.meterlib.core.errors import DecodeError
from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.p1.decoder import P1Decoder
from custom_components.energy_gateway.meterlib.p1.telegram import parse_telegram

from .conftest import DSMR, ENCRYPTED_FRAME, run_cli, vector

SMARTY_HEX = DSMR / "smarty_format_encrypted_synthetic_esphome_libs.hex"
KEY_ARGS = ["--key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
AUTH_ARGS = ["--auth-key", "00112233445566778899AABBCCDDEEFF"]


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    """`decode` with latin-1 in and out, so arbitrary capture bytes survive the pipe."""
    return run_cli("decode", *args, stdin=stdin, encoding="latin-1")


def objects(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def readings(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    items = obj["readings"]
    assert isinstance(items, list)
    return {item["obis"]: item for item in items}


def test_decodes_a_vector_file() -> None:
    result = run(str(DSMR / "fluvius_v171.txt"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (obj,) = objects(result.stdout)
    assert list(obj) == ["format", "meter_id", "timestamp", "readings"]
    assert obj["format"] == "p1"
    assert obj["meter_id"] == "1SAG3101021605"
    assert obj["timestamp"] == "2020-05-12T13:54:09+02:00"
    by_code = readings(obj)
    assert by_code["1-0:1.8.2"] == {"obis": "1-0:1.8.2", "value": 15.758, "unit": "kWh"}
    assert by_code["1-0:1.6.0"]["captured"] == "2020-05-09T13:45:58+02:00"
    assert by_code["0-1:24.2.3"]["unit"] == "m³"
    assert by_code["0-0:98.1.0"]["entries"][2] == [
        "2020-03-01T00:00:00+02:00",
        "2020-02-10T03:54:21+01:00",
        4.318,
    ]


def test_hex_text_on_stdin_with_keys() -> None:
    result = run(*KEY_ARGS, *AUTH_ARGS, "-", stdin=SMARTY_HEX.read_bytes())
    assert result.returncode == 0, result.stderr
    (obj,) = objects(result.stdout)
    assert obj["format"] == "p1-encrypted"
    assert readings(obj)["1-0:1.8.0"] == {"obis": "1-0:1.8.0", "value": 6545766.0, "unit": "Wh"}
    assert obj == snapshot_to_json(parse_telegram(vector("sagemcom_t210_d_r_plaintext.txt"))) | {
        "format": "p1-encrypted"
    }


def test_binary_file_with_key_only() -> None:
    result = run(*KEY_ARGS, str(DSMR / ENCRYPTED_FRAME))
    assert result.returncode == 0, result.stderr
    assert objects(result.stdout)[0]["timestamp"] == "2022-10-06T15:50:14+02:00"


def test_encrypted_without_key_fails_clearly() -> None:
    result = run(str(DSMR / ENCRYPTED_FRAME))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "KeyRequiredError" in result.stderr


def test_garbage_fails_with_one_line() -> None:
    garbage = bytes(range(256)).replace(b"/", b"").replace(b"\xdb", b"") * 3
    result = run("-", stdin=garbage)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")


def test_bad_checksum_and_several_messages() -> None:
    data = vector("aviborg_data2.txt") + b"\r\n" + vector("dsmr_v5.txt")
    result = run("-", stdin=data)
    assert result.returncode == 1
    assert len(objects(result.stdout)) == 1
    assert result.stderr.startswith("error: ChecksumError: checksum mismatch")


def test_in_process_edge_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(tmp_path / "missing.bin")]) == 1
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n")
    assert main(["decode", str(empty)]) == 1
    odd = tmp_path / "odd.hex"
    odd.write_bytes(b"DB0")
    assert main(["decode", str(odd)]) == 1
    partial = tmp_path / "partial.bin"
    partial.write_bytes(vector(ENCRYPTED_FRAME)[:40])
    assert main(["decode", str(partial)]) == 1
    unfinished = tmp_path / "unfinished.txt"
    unfinished.write_bytes(b"noise /ABC5 x!")
    assert main(["decode", str(unfinished)]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 5
    assert all(line.startswith("error: ") for line in errors)
    assert "missing.bin" in errors[0]
    assert "empty" in errors[1]
    assert "odd number" in errors[2]
    telegram = tmp_path / "telegram.txt"
    telegram.write_bytes(vector("dsmr_v5.txt"))
    assert main(["decode", str(telegram)]) == 0
    assert capsys.readouterr().err == ""


def test_no_complete_message(tmp_path: Path) -> None:
    cut = tmp_path / "cut.txt"
    cut.write_bytes(vector("dsmr_v5.txt")[:-8] + b"\r\n/ABC5")  # CRC cut, then a bare start
    assert main(["decode", str(cut)]) == 1


def test_bad_key_arguments() -> None:
    not_hex = run("--key", "XYZ", str(DSMR / ENCRYPTED_FRAME))
    assert not_hex.returncode == 2
    assert "not a hex string" in not_hex.stderr
    short = run("--key", "AABB", str(DSMR / ENCRYPTED_FRAME))
    assert short.returncode == 2
    assert "16, 24 or 32" in short.stderr


def test_json_of_values() -> None:
    snap = parse_telegram(vector("dsmr_v4_2_kaifa.txt"))
    obj: dict[str, Any] = snapshot_to_json(snap)
    log = readings(obj)["1-0:99.97.0"]
    assert log["value"] == 3
    assert log["entries"][0] == ["2000-01-04T18:03:20+01:00", 237126.0]
    assert "captured" not in log
    assert isinstance(json.dumps(obj), str)
    assert datetime.fromisoformat(str(obj["timestamp"])) == snap.timestamp


def test_detection_skips_a_false_cipher_header() -> None:
    with pytest.raises(DecodeError, match="no known format"):
        decode_capture(b"\xdb\x08" + bytes(20))
    name, results = decode_capture(vector("dsmr_v5.txt").hex().encode())
    assert name == "p1"
    assert [type(r) for r in results] == [Snapshot]


def test_package_exports() -> None:
    from custom_components.energy_gateway import meterlib

    assert meterlib.P1Decoder is P1Decoder
    assert meterlib.parse_telegram is parse_telegram
    assert issubclass(meterlib.ChecksumError, meterlib.DecodeError)
    assert issubclass(meterlib.UnsupportedListError, meterlib.DecodeError)
    with pytest.raises(AttributeError, match="no attribute"):
        _ = meterlib.not_there
