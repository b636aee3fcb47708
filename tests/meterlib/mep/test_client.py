"""The client against the simulated meter over real TCP sockets and a pseudo-terminal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from custom_components.energy_gateway.meterlib.core.errors import (
    DecodeError,
    LinkError,
    WrongKeyError,
)
from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.links.connections import (
    SerialLink,
    SerialSettings,
    TcpLink,
    TcpSettings,
)
from custom_components.energy_gateway.meterlib.mep import (
    ByteCountError,
    FramingError,
    MepClient,
    MepIdentity,
    MeterNotAnsweringError,
    RequestRefusedError,
    SequenceError,
)
from custom_components.energy_gateway.meterlib.mep.frames import MAX_MESSAGE, MAX_READ_COUNT
from simulators.mep_meter import (
    MODEL,
    SERIAL,
    FaultPlan,
    MepPtyServer,
    MepTcpServer,
    SimulatedMepMeter,
)

from .helpers import FROZEN, PATIENT, MuteMeter, frozen_meter, tcp_client

BT21, BT28 = 0x0015, 0x001C
# Loopback TCP needs the socket guard of the Home Assistant test plugin lifted.
pytestmark = pytest.mark.usefixtures("socket_enabled")


def assert_truth(snapshot: Snapshot, meter: SimulatedMepMeter) -> None:
    """Every published value is exactly what the meter holds, and nothing else is published."""
    truth = meter.truth()
    assert {obis: reading.value for obis, reading in snapshot.readings.items()} == truth
    assert snapshot.timestamp == meter.meter_time()


async def test_identity_and_values_over_tcp() -> None:
    meter = frozen_meter()
    async with tcp_client(meter) as client:
        identity = await client.identify()
        assert identity == MepIdentity("NES", MODEL, "3.72.05", SERIAL)
        snapshot = await client.read()
    assert snapshot.format == "mep"
    assert snapshot.meter_id == SERIAL
    assert snapshot.variant == MODEL
    assert snapshot.header == "NES"
    assert not snapshot.encrypted
    assert snapshot.timestamp == datetime.fromtimestamp(FROZEN, UTC)
    assert_truth(snapshot, meter)
    units = {obis: reading.unit for obis, reading in snapshot.readings.items()}
    assert units["1-0:1.8.0"] == "Wh"
    assert units["1-0:32.7.0"] == "V"
    assert units["1-0:31.7.0"] == "A"
    assert units["1-0:14.7.0"] == "Hz"
    assert units["1-0:33.7.0"] is None
    stats = client.stats.as_dict()
    assert stats["requests"] == 7  # 6 reads and the first one again after adopting 0C
    assert stats["resyncs"] == 1
    assert client.stats.rejected == stats["timeouts"] == stats["resends"] == 0
    assert "key" not in repr(client).lower()


async def test_values_evolve_and_energy_integrates_power() -> None:
    now = [FROZEN]
    meter = SimulatedMepMeter(clock=lambda: now[0])
    async with tcp_client(meter) as client:
        first = await client.read()
        assert_truth(first, meter)
        now[0] += 3600
        second = await client.read()
        assert_truth(second, meter)
    assert client.stats.requests == 7 + 3  # identity once, then three reads per poll
    imported = float(second.value("1-0:1.8.0") or 0) - float(first.value("1-0:1.8.0") or 0)
    assert 300 < imported < 2000  # an hour of the L1 + L2 load, Wh
    assert second.value("1-0:32.7.0") != first.value("1-0:32.7.0")


async def test_long_table_is_read_in_partial_reads_within_476_bytes() -> None:
    meter = frozen_meter(present_values=200)  # BT28 values: 800 bytes
    async with tcp_client(meter) as client:
        snapshot = await client.read()
        raw = await client.read_table(BT28, 0, 1000)
    assert_truth(snapshot, meter)
    bt28_reads = [(offset, count) for table, offset, count in meter.reads if table == BT28]
    assert bt28_reads[:2] == [(7, MAX_READ_COUNT), (7 + MAX_READ_COUNT, 800 - MAX_READ_COUNT)]
    assert all(count + 11 <= MAX_MESSAGE for _, _, count in meter.reads)
    assert raw == (meter.table(BT28) or b"").ljust(1000, b"\x00")


async def test_sequence_resync_after_counter_jumps() -> None:
    meter = frozen_meter()
    async with tcp_client(meter) as client:
        await client.read()
        meter.jump_sequence(25)  # an IDT-version change
        assert_truth(await client.read(), meter)
        meter.jump_sequence(1)  # the client is now behind by one: also refused
        assert_truth(await client.read(), meter)
        meter.jump_sequence(1_000_000)  # uplink traffic
        assert_truth(await client.read(), meter)
        assert_truth(await client.read(), meter)  # in step again
    assert client.stats.resyncs == meter.counters.resyncs == 4  # the first request, 3 jumps
    # After each mid-session jump the dimensions are read again.
    assert [table for table, _, _ in meter.reads].count(BT21) == 4


async def test_a_known_sequence_number_needs_no_resync() -> None:
    meter = frozen_meter(initial_sequence=0xFFFFFFFE)
    async with tcp_client(meter, initial_sequence=0xFFFFFFFE) as client:
        assert_truth(await client.read(), meter)  # and the counter wraps around
    assert client.stats.resyncs == 0
    assert meter.expected_sequence == 4


async def test_wrong_key_is_recognised() -> None:
    meter = frozen_meter()
    async with tcp_client(meter, key=b"Another key, 20 chr") as client:
        with pytest.raises(WrongKeyError, match="rejects the MEP key") as caught:
            await client.identify()
    assert meter.counters.wrong_key == 2
    assert client.stats.refusals == 2
    assert "Another" not in str(caught.value)


async def test_one_resend_after_a_lost_reply() -> None:
    meter = frozen_meter()
    async with tcp_client(meter) as client:
        await client.identify()
        meter.drop_next(1)
        assert_truth(await client.read(), meter)
    assert client.stats.timeouts == 1
    assert client.stats.resends == 1
    # The meter had executed the lost request: the identical resend gets 0C.
    assert client.stats.resyncs == 2


async def test_a_mute_meter_gets_one_identical_resend() -> None:
    async with MuteMeter() as mute:
        client = MepClient(
            TcpLink(TcpSettings("127.0.0.1", mute.port)),
            b"0123456789abcdef",
            rts="off",
            response_timeout=0.2,
            initial_sequence=7,
        )
        await client.open()
        with pytest.raises(MeterNotAnsweringError, match="does not answer") as caught:
            await client.identify()
        await client.close()
    assert isinstance(caught.value, LinkError)
    first = bytes(mute.received[: len(mute.received) // 2])
    assert bytes(mute.received) == first * 2
    assert first[-12:-8] == (7).to_bytes(4, "big")
    assert client.stats.as_dict() | {"requests": 1, "resends": 1, "timeouts": 2} == (
        client.stats.as_dict()
    )


async def test_rc4_encrypted_session() -> None:
    meter = frozen_meter()
    async with tcp_client(meter, encrypt=True) as client:
        snapshot = await client.read()
    assert_truth(snapshot, meter)
    assert snapshot.encrypted
    assert meter.counters.encrypted == meter.counters.requests == client.stats.requests


async def test_corrupted_replies_are_rejected_counted_and_never_published() -> None:
    meter = frozen_meter(faults=FaultPlan(corrupt_rate=0.25, seed=11))
    published = failed = 0
    # Each damaged reply costs a response window: the genuine reply might still follow.
    async with tcp_client(meter, response_timeout=1.0) as client:
        for _ in range(6):
            try:
                snapshot = await client.read()
            except DecodeError:
                failed += 1
                continue
            assert_truth(snapshot, meter)
            published += 1
    assert meter.counters.corrupted > 0
    assert client.stats.digest_failures == meter.counters.corrupted
    assert published + failed == 6
    assert published > 0


async def test_alerts_between_replies_are_skipped() -> None:
    class AlertingMeter(SimulatedMepMeter):
        def _deliver(self, message: bytes) -> bytes | None:
            reply = super()._deliver(message)
            return None if reply is None else b"\x00\x00" + reply + b"\x00\x00"

    meter = AlertingMeter(clock=lambda: FROZEN)
    async with tcp_client(meter) as client:
        assert_truth(await client.read(), meter)
    assert client.stats.rejected == 0


async def test_refused_and_miscounted_reads() -> None:
    class MiscountingMeter(SimulatedMepMeter):
        def _execute(self, command: bytes) -> bytes:
            answer = super()._execute(command)
            return answer[:-1] if command[1:3] == b"\x00\x34" else answer

    meter = MiscountingMeter(clock=lambda: FROZEN)
    async with tcp_client(meter) as client:
        with pytest.raises(RequestRefusedError, match="0x05") as refused:
            await client.read_table(0x0999, 0, 4)
        assert refused.value.code == 5
        with pytest.raises(ByteCountError):
            await client.read()
    assert client.stats.byte_count_failures == 1
    assert client.stats.refusals == 1


async def test_garbage_replies_never_become_data() -> None:
    """A peer answering noise: every read fails with a DecodeError, nothing is returned."""
    noise = bytes(range(7, 250, 3)) * 2

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            writer.write(b"\x00\x40" + noise[:64])
            writer.write(noise[:5])
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = MepClient(TcpLink(TcpSettings("127.0.0.1", port)), bytes(16), rts="off")
    await client.open()
    with pytest.raises(DecodeError):
        await client.identify()
    await client.close()
    server.close()
    await server.wait_closed()
    assert client.stats.digest_failures == 3
    assert client.stats.framing_failures >= 1


async def test_over_a_pseudo_terminal() -> None:
    meter = frozen_meter()
    pty = MepPtyServer(meter).start()
    client = MepClient(
        SerialLink(SerialSettings(pty.path, 9600)), meter.key, rts="off", response_timeout=PATIENT
    )
    try:
        await client.open()
        identity = await client.identify()
        snapshot = await client.read()
    finally:
        await client.close()
        pty.close()
    assert identity.serial == SERIAL
    assert_truth(snapshot, meter)


async def test_rts_on_a_port_without_modem_lines_fails_clearly() -> None:
    meter = frozen_meter()
    pty = MepPtyServer(meter).start()
    client = MepClient(
        SerialLink(SerialSettings(pty.path, 9600)), meter.key, rts="inverted", settle_time=0
    )
    try:
        with pytest.raises(LinkError, match=r"Cannot drive RTS .*choose rts 'off'"):
            await client.open()
    finally:
        await client.close()
        pty.close()


async def test_tcp_links_have_no_rts_and_need_none() -> None:
    meter = frozen_meter()
    server = await MepTcpServer(meter).start()
    client = MepClient(
        TcpLink(TcpSettings("127.0.0.1", server.port)), meter.key, rts="on", settle_time=0
    )
    await client.open()
    assert_truth(await client.read(), meter)
    await client.close()
    await server.close()


def test_constructor_refusals() -> None:
    link = TcpLink(TcpSettings("127.0.0.1", 1))
    with pytest.raises(ValueError, match="at least 16 bytes"):
        MepClient(link, b"short")
    with pytest.raises(ValueError, match="rts"):
        MepClient(link, bytes(16), rts="sometimes")  # type: ignore[arg-type]


async def test_a_meter_that_never_accepts_the_sequence() -> None:
    class StubbornMeter(SimulatedMepMeter):
        def respond(self, message: bytes) -> bytes | None:
            self.expected_sequence = (self.expected_sequence + 100) % (1 << 32)
            return super().respond(message)

    meter = StubbornMeter(clock=lambda: FROZEN)
    async with tcp_client(meter) as client:
        with pytest.raises(SequenceError, match="keeps rejecting"):
            await client.identify()
    assert (client.stats.requests, client.stats.resyncs) == (4, 3)  # three adoptions, then no more


async def test_a_reply_cut_short_is_rejected_not_read() -> None:
    class CuttingMeter(SimulatedMepMeter):
        def _deliver(self, message: bytes) -> bytes | None:
            reply = super()._deliver(message)
            return None if reply is None else reply[:-3]

    meter = CuttingMeter(clock=lambda: FROZEN)
    async with tcp_client(meter, response_timeout=0.5) as client:
        with pytest.raises(FramingError, match="cut short"):
            await client.identify()
    assert client.stats.framing_failures == 3  # the request and its two retries
    assert client.stats.digest_failures == 0
