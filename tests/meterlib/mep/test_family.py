"""The MEP registry entry: the client as a polled source, over real TCP and a pseudo-terminal."""

from __future__ import annotations

import pytest

from custom_components.energy_gateway.meterlib.core.errors import KeyRequiredError, LinkError
from custom_components.energy_gateway.meterlib.core.family import Keys
from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.families import FAMILIES
from custom_components.energy_gateway.meterlib.links.connections import (
    SerialSettings,
    TcpSettings,
)
from custom_components.energy_gateway.meterlib.mep.family import FAMILY
from simulators.mep_meter import (
    DEMO_KEY,
    MODEL,
    SERIAL,
    MepPtyServer,
    MepTcpServer,
    SimulatedMepMeter,
)

from .helpers import frozen_meter

pytestmark = pytest.mark.usefixtures("socket_enabled")


def assert_truth(snapshot: Snapshot, meter: SimulatedMepMeter) -> None:
    """The source hands on exactly what the meter holds."""
    assert {obis: reading.value for obis, reading in snapshot.readings.items()} == meter.truth()


def test_registered_as_a_polled_family() -> None:
    assert FAMILIES["mep"] is FAMILY
    assert FAMILY.delivery == "poll"
    assert FAMILY.serial_presets[0] == "9600_8n1"
    assert FAMILY.make_source is not None
    assert FAMILY.make_decoder is None
    # The family hook the key forms use: the forms utilities hand the key out in.
    assert FAMILY.key_parser is not None
    assert FAMILY.key_parser(DEMO_KEY.decode()) == DEMO_KEY[:16]
    with pytest.raises(ValueError, match="20 characters"):
        FAMILY.key_parser("short")


async def test_source_reads_a_snapshot_and_reports_counters_without_the_key() -> None:
    meter = frozen_meter()
    server = await MepTcpServer(meter).start()
    assert FAMILY.make_source is not None
    source = FAMILY.make_source(TcpSettings("127.0.0.1", server.port), Keys(key=DEMO_KEY[:16]))
    try:
        await source.open()
        snapshot = await source.read()
        diagnostics = source.diagnostics()
    finally:
        await source.close()
        await server.close()
    assert_truth(snapshot, meter)
    assert (snapshot.meter_id, snapshot.model, snapshot.manufacturer) == (SERIAL, MODEL, "NES")
    assert diagnostics["model"] == MODEL
    for counter in ("digest_failures", "byte_count_failures", "timeouts", "resends"):
        assert diagnostics[counter] == 0, counter
    # The first request adopts the meter's sequence number (a random start on both sides).
    assert diagnostics["resyncs"] == meter.counters.resyncs
    assert diagnostics["requests"] == meter.counters.requests
    text = repr(diagnostics) + repr(source)
    assert DEMO_KEY[:16].hex() not in text
    assert DEMO_KEY[:16].decode() not in text


async def test_without_a_key_the_port_opens_and_reading_asks_for_the_key() -> None:
    meter = frozen_meter()
    server = await MepTcpServer(meter).start()
    assert FAMILY.make_source is not None
    source = FAMILY.make_source(TcpSettings("127.0.0.1", server.port), Keys())
    try:
        await source.open()
        with pytest.raises(KeyRequiredError):
            await source.read()
    finally:
        await source.close()
        await server.close()
    assert meter.counters.requests == 0


async def test_without_a_key_a_missing_port_still_shows() -> None:
    assert FAMILY.make_source is not None
    source = FAMILY.make_source(SerialSettings("/dev/no-such-mep-port", 9600), Keys())
    with pytest.raises(LinkError):
        await source.open()
    await source.close()


async def test_a_port_without_rts_counts_enable_as_wired() -> None:
    """Pseudo-terminals (and some adapters) have no modem lines: `auto` reads all the same."""
    meter = frozen_meter()
    pty = MepPtyServer(meter).start()
    assert FAMILY.make_source is not None
    source = FAMILY.make_source(SerialSettings(pty.path, 9600), Keys(key=meter.key))
    try:
        await source.open()
        snapshot = await source.read()
    finally:
        await source.close()
        pty.close()
    assert_truth(snapshot, meter)
