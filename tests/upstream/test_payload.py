"""What goes over the wire: the published v1 schema, the AmpX shape, retry-stable bodies."""

from __future__ import annotations

from datetime import UTC, datetime
import gzip
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from custom_components.energy_gateway.meterlib.core.model import Reading, Snapshot
from custom_components.energy_gateway.meterlib.p1.telegram import parse_telegram
from custom_components.energy_gateway.upstream.outbox import PendingBatch
from custom_components.energy_gateway.upstream.payload import (
    FORMAT_AMPX,
    FORMAT_V1,
    MeterIdentity,
    build_requests,
    encode_snapshot,
    probe_body,
)

from ..conftest import FIXTURES

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "upstream-batch-v1.json").read_text())
RECEIVED = datetime(2017, 1, 2, 18, 20, 3, tzinfo=UTC)
METER = MeterIdentity(meter_id="K8EG004046395507", serial="K8EG004046395507", source="p1")


def _validate(body: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(body)


def _dsmr5() -> Snapshot:
    return parse_telegram((FIXTURES / "dsmr" / "dsmr_parser_telegram_v5.txt").read_bytes())


def _batch(*snapshots: tuple[MeterIdentity, Snapshot]) -> PendingBatch:
    return PendingBatch(
        key="k1",
        created=RECEIVED.timestamp(),
        snapshots=tuple(encode_snapshot(meter, snap, RECEIVED) for meter, snap in snapshots),
    )


def test_v1_batch_matches_the_published_schema() -> None:
    """A real DSMR 5 telegram (M-Bus capture times, empty values) makes a valid batch."""
    other = MeterIdentity(meter_id="dlms-1", serial=None, source="dlms")
    odd = Snapshot(
        format="dlms",
        meter_id=None,
        timestamp=None,
        readings={"1-0:1.7.0": Reading("1-0:1.7.0", float("nan"), "W")},
    )
    batch = _batch((METER, _dsmr5()), (other, odd), (METER, _dsmr5()))
    (request,) = build_requests(batch, gateway_id="gw", payload_format=FORMAT_V1, use_gzip=False)
    body = json.loads(request.body)
    _validate(body)
    assert request.key == body["batch_id"] == "k1"
    assert [meter["meter_id"] for meter in body["meters"]] == ["K8EG004046395507", "dlms-1"]
    first, dlms = body["meters"]
    assert len(first["snapshots"]) == 2
    snapshot = first["snapshots"][0]
    assert snapshot["timestamp"] == "2017-01-02T19:20:02+01:00"
    assert snapshot["readings"]["1-0:1.8.1"] == {"value": 4.426, "unit": "kWh"}
    assert snapshot["readings"]["0-1:24.2.1"]["captured"] == "2017-01-02T16:10:05+01:00"
    # NaN is not JSON: it travels as an empty value.
    assert dlms["snapshots"][0]["readings"]["1-0:1.7.0"] == {"value": None, "unit": "W"}
    _validate(json.loads(probe_body("gw", FORMAT_V1)))


def test_a_retry_sends_the_same_bytes() -> None:
    """Same batch, same body and key, gzipped or not."""
    batch = _batch((METER, _dsmr5()))
    for use_gzip in (False, True):
        first = build_requests(batch, gateway_id="gw", payload_format=FORMAT_V1, use_gzip=use_gzip)
        again = build_requests(batch, gateway_id="gw", payload_format=FORMAT_V1, use_gzip=use_gzip)
        assert first == again
    (zipped,) = build_requests(batch, gateway_id="gw", payload_format=FORMAT_V1, use_gzip=True)
    (plain,) = build_requests(batch, gateway_id="gw", payload_format=FORMAT_V1, use_gzip=False)
    assert gzip.decompress(zipped.body) == plain.body
    assert len(zipped.body) < len(plain.body) / 3


def test_ampx_shape() -> None:
    """One AmpX message per snapshot: strings for numbers, kW and kWh, tariffs summed."""
    batch = _batch((METER, _dsmr5()), (METER, _dsmr5()))
    requests = build_requests(
        batch, gateway_id="100001", payload_format=FORMAT_AMPX, use_gzip=False
    )
    assert [request.key for request in requests] == ["k1-0", "k1-1"]
    message = json.loads(requests[0].body)
    assert message == {
        "gateway_id": "100001",
        "meter_id": "K8EG004046395507",
        "serial_number": "K8EG004046395507",
        "timestamp": "2017-01-02T18:20:02Z",
        "values": {
            "serial": "K8EG004046395507",
            "voltage_L1": "230",
            "voltage_L2": "230",
            "voltage_L3": "229",
            "current_L1": "0.48",
            "current_L2": "0.44",
            "current_L3": "0.86",
            "active_power_L1": "0.07",
            "active_power_L2": "0.032",
            "active_power_L3": "0.142",
            "active_power_tot": "0.244",
            "active_power_exported_tot": "0",
            "active_energy_imported_tot": "6.825",
            "active_energy_exported_tot": "2.444",
        },
    }


@pytest.mark.parametrize(("value", "unit", "expected"), [(1500, "W", "1.5"), (2.5, "kW", "2.5")])
def test_ampx_power_in_kw(value: float, unit: str, expected: str) -> None:
    snap = Snapshot(
        format="modbus",
        meter_id="7",
        timestamp=None,
        readings={"1-0:1.7.0": Reading("1-0:1.7.0", value, unit)},
    )
    (request,) = build_requests(
        _batch((METER, snap)), gateway_id="g", payload_format=FORMAT_AMPX, use_gzip=False
    )
    message = json.loads(request.body)
    assert message["values"]["active_power_tot"] == expected
    # No meter clock: the time it was received.
    assert message["timestamp"] == "2017-01-02T18:20:03Z"
