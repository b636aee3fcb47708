"""A simulated NES/Echelon three-phase meter answering on its MEP port, for tests and the demo.

The meter keeps the tables an MEP client reads (BT01 identity, ET03 serial number, BT21
dimensions, BT23 energy registers, BT28 present values, BT52 UTC clock) and answers the way
the MEP Client Developer's Guide describes, with the brief's choices where the guide is
silent: digest check first (a failure gets `0B`, in clear, digest zeroed), then the sequence
number (accepted up to 8 ahead of the expected one, else `0C` carrying the expected one),
then the request. RC4-encrypted requests are recognised by themselves and answered
encrypted. Replies longer than 117 bytes leave in 117-byte chunks 25 ms apart.

The household is a pure function of time: two consuming phases (L1, L2) whose power swings
slowly, a PV inverter exporting on L3, voltages and frequency wandering around nominal, and
energy registers that integrate the power exactly (closed-form integrals), so a frozen clock
gives a frozen meter. `truth()` says what an honest client must report.

Fault injection drops or corrupts (one flipped bit after the length field) a chosen share of
replies; the meter has then processed the request all the same, as a real one has.

    python -m simulators.mep_meter [--port N] [--pty] [--corrupt-rate R] [--drop-rate R]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import math
import os
import random
import struct
import time
import tty
from typing import Final

from custom_components.energy_gateway.meterlib.mep.cipher import (
    encryption_base_key,
    packet_cipher,
)
from custom_components.energy_gateway.meterlib.mep.digest import (
    DIGEST_SIZE,
    request_digest,
    response_digest,
)
from custom_components.energy_gateway.meterlib.mep.frames import FrameAssembler

DEMO_KEY: Final = b"EnergyGateway:MEP-01"
"""The demo meter's key: 20 printable characters, as utilities hand them out."""
SERIAL: Final = "5706567270012345"
MODEL: Final = "83331-3I"
MANUFACTURER: Final = "NES "
FIRMWARE: Final = (3 << 12) | (72 << 5) | 5  # 3.72.05: 55 present values
CHUNK_SIZE: Final = 117
CHUNK_PAUSE: Final = 0.025
SEQUENCE_WINDOW: Final = 8
MAX_MESSAGE: Final = 476

_OK, _NO_PERMISSION, _NOT_POSSIBLE, _TABLE_NOT_POSSIBLE = 0x00, 0x03, 0x04, 0x05
_UNRECOGNISED, _WRONG_KEY, _BAD_SEQUENCE = 0x01, 0x0B, 0x0C
_FULL_READ, _PARTIAL_READ, _FULL_WRITE, _PARTIAL_WRITE = 0x30, 0x3F, 0x40, 0x4F
_BT01, _BT21, _BT23, _BT28, _BT52, _ET03 = 0x0001, 0x0015, 0x0017, 0x001C, 0x0034, 0x0803
_SEQUENCE_SIZE = 4
_MODULUS = 1 << 32
_START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()

# OBIS code -> (table, value index, divisor): how the meter's raw integers read as values.
# Kept apart from the client's own table on purpose: the tests compare the two.
TRUTH_MAP: Final[dict[str, tuple[int, int, int]]] = {
    "1-0:1.8.0": (_BT23, 0, 1),
    "1-0:2.8.0": (_BT23, 1, 1),
    "1-0:3.8.0": (_BT23, 2, 1),
    "1-0:4.8.0": (_BT23, 3, 1),
    "1-0:1.7.0": (_BT28, 0, 1),
    "1-0:2.7.0": (_BT28, 1, 1),
    "1-0:3.7.0": (_BT28, 2, 1),
    "1-0:4.7.0": (_BT28, 3, 1),
    "1-0:31.7.0": (_BT28, 4, 1000),
    "1-0:51.7.0": (_BT28, 5, 1000),
    "1-0:71.7.0": (_BT28, 6, 1000),
    "1-0:32.7.0": (_BT28, 7, 1000),
    "1-0:52.7.0": (_BT28, 8, 1000),
    "1-0:72.7.0": (_BT28, 9, 1000),
    "1-0:33.7.0": (_BT28, 10, 1000),
    "1-0:14.7.0": (_BT28, 11, 1000),
    "1-0:9.7.0": (_BT28, 12, 1),
    "1-0:53.7.0": (_BT28, 13, 1000),
    "1-0:73.7.0": (_BT28, 14, 1000),
    "1-0:21.7.0": (_BT28, 26, 1),
    "1-0:41.7.0": (_BT28, 27, 1),
    "1-0:61.7.0": (_BT28, 28, 1),
    "1-0:22.7.0": (_BT28, 29, 1),
    "1-0:42.7.0": (_BT28, 30, 1),
    "1-0:62.7.0": (_BT28, 31, 1),
}


@dataclass(frozen=True, slots=True)
class _Swing:
    """A quantity swinging around a mean: mean + amplitude * sin(2 pi t / period + phase)."""

    mean: float
    amplitude: float
    period: float
    phase: float

    def at(self, t: float) -> float:
        return self.mean + self.amplitude * math.sin(2 * math.pi * t / self.period + self.phase)

    def integral(self, start: float, end: float) -> float:
        """Exact integral over [start, end] (seconds)."""
        w = 2 * math.pi / self.period
        cosines = math.cos(w * start + self.phase) - math.cos(w * end + self.phase)
        return self.mean * (end - start) + self.amplitude * cosines / w


@dataclass(slots=True)
class FaultPlan:
    """Share of replies to drop or corrupt, drawn from a seeded generator."""

    drop_rate: float = 0.0
    corrupt_rate: float = 0.0
    seed: int = 0


@dataclass(slots=True)
class MeterCounters:
    """What the meter saw and did."""

    requests: int = 0
    replies: int = 0
    dropped: int = 0
    corrupted: int = 0
    wrong_key: int = 0
    resyncs: int = 0
    encrypted: int = 0


@dataclass(slots=True)
class _Household:
    """The load behind the meter (seeded), L1/L2 consuming, L3 exporting PV."""

    seed: int
    import_l1: _Swing = field(init=False)
    import_l2: _Swing = field(init=False)
    export_l3: _Swing = field(init=False)
    voltages: tuple[_Swing, _Swing, _Swing] = field(init=False)
    power_factors: tuple[_Swing, _Swing, _Swing] = field(init=False)
    frequency: _Swing = field(init=False)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)

        def phase() -> float:
            return rng.uniform(0, 2 * math.pi)

        self.import_l1 = _Swing(rng.uniform(600, 900), rng.uniform(200, 500), 97.0, phase())
        self.import_l2 = _Swing(rng.uniform(300, 500), rng.uniform(100, 250), 131.0, phase())
        self.export_l3 = _Swing(rng.uniform(900, 1500), rng.uniform(300, 800), 211.0, phase())
        self.voltages = (
            _Swing(230.5, 2.5, 37.0, phase()),
            _Swing(229.0, 3.0, 41.0, phase()),
            _Swing(231.5, 2.0, 53.0, phase()),
        )
        self.power_factors = (
            _Swing(0.93, 0.04, 61.0, phase()),
            _Swing(0.90, 0.05, 67.0, phase()),
            _Swing(0.98, 0.01, 71.0, phase()),
        )
        self.frequency = _Swing(50.0, 0.03, 29.0, phase())


class SimulatedMepMeter:
    """The meter: tables, sequence numbers, digests, optional RC4, faults.

    `clock` returns POSIX seconds (default `time.time`); give a constant to freeze the meter.
    """

    def __init__(
        self,
        key: bytes = DEMO_KEY,
        *,
        seed: int = 1,
        clock: Callable[[], float] = time.time,
        faults: FaultPlan | None = None,
        present_values: int = 55,
        demands: int = 1,
        time_remaining: bool = True,
        reset_counter: bool = True,
        initial_sequence: int | None = None,
        serial: str = SERIAL,
        chunk_pause: float = CHUNK_PAUSE,
    ) -> None:
        self.key = bytes(key[:16])
        self._base_key = encryption_base_key(self.key)
        self.clock = clock
        self.faults = faults or FaultPlan()
        self._fault_rng = random.Random(self.faults.seed)
        self._household = _Household(seed)
        self._origin = clock()
        self._energy_origin = (4_521_337.0 + seed, 1_203_118.0, 987_654.0, 456_789.0)
        self.present_values = present_values
        self.demands = demands
        self.time_remaining = time_remaining
        self.reset_counter = reset_counter
        self.serial = serial
        self.chunk_pause = chunk_pause
        if initial_sequence is None:
            initial_sequence = random.Random(seed).randrange(_MODULUS)
        self.expected_sequence = initial_sequence % _MODULUS
        self.counters = MeterCounters()
        self.reads: list[tuple[int, int, int]] = []
        """Every table read executed: (table, offset, count)."""
        self._drop_next = 0

    # --- the household, as the meter measures it -----------------------------------------

    def _present_raw(self, t: float) -> list[int]:
        """BT28 present values as raw INT32s (W, var, VA, mA, mV, mHz, thousandths)."""
        house = self._household
        watts = (max(0.0, house.import_l1.at(t)), max(0.0, house.import_l2.at(t)), 0.0)
        export_l3 = max(0.0, house.export_l3.at(t))
        volts = [v.at(t) for v in house.voltages]
        pfs = [pf.at(t) for pf in house.power_factors]
        flows = (watts[0], watts[1], export_l3)  # L3 carries the PV export
        amps = [flow / (v * pf) for flow, v, pf in zip(flows, volts, pfs, strict=True)]
        vars_ = [flow * math.tan(math.acos(pf)) for flow, pf in zip(flows, pfs, strict=True)]
        values = [0] * self.present_values
        fields = {
            0: round(watts[0] + watts[1]),
            1: round(export_l3),
            2: round(vars_[0] + vars_[1]),
            3: round(vars_[2]),
            4: round(amps[0] * 1000),
            5: round(amps[1] * 1000),
            6: round(amps[2] * 1000),
            7: round(volts[0] * 1000),
            8: round(volts[1] * 1000),
            9: round(volts[2] * 1000),
            10: round(pfs[0] * 1000),
            11: round(house.frequency.at(t) * 1000),
            12: round(sum(flow / pf for flow, pf in zip(flows, pfs, strict=True))),
            13: round(pfs[1] * 1000),
            14: round(pfs[2] * 1000),
            26: round(watts[0]),
            27: round(watts[1]),
            28: 0,
            29: 0,
            30: 0,
            31: round(export_l3),
        }
        for index, value in fields.items():
            if index < len(values):
                values[index] = value
        return values

    def _summations_raw(self, t: float) -> list[int]:
        """BT23 summations 0-10 as raw INT32s (Wh, varh, seconds, counts)."""
        house = self._household
        imported = house.import_l1.integral(self._origin, t) + house.import_l2.integral(
            self._origin, t
        )
        exported = house.export_l3.integral(self._origin, t)
        e_imp, e_exp, q_imp, q_exp = self._energy_origin
        import_wh = e_imp + imported / 3600
        export_wh = e_exp + exported / 3600
        return [
            math.floor(import_wh),
            math.floor(export_wh),
            math.floor(q_imp + 0.35 * imported / 3600),
            math.floor(q_exp + 0.15 * exported / 3600),
            3_600,  # power-outage seconds
            2,  # power-outage count
            math.floor(import_wh + export_wh),
            math.floor(max(0.0, import_wh - export_wh)),
            0,
            0,
            0,
        ]

    def truth(self) -> dict[str, float]:
        """The values, by OBIS code, that an honest client reads from the meter now."""
        t = self.clock()
        raw = {_BT23: self._summations_raw(t), _BT28: self._present_raw(t)}
        return {
            obis: raw[table][index] / divisor
            for obis, (table, index, divisor) in TRUTH_MAP.items()
            if index < len(raw[table])
        }

    def meter_time(self) -> datetime:
        """The meter's UTC clock, whole seconds."""
        return datetime.fromtimestamp(math.floor(self.clock()), UTC)

    # --- tables ----------------------------------------------------------------------------

    def table(self, table_id: int) -> bytes | None:
        """The current bytes of a table, None for tables this meter lacks."""
        t = self.clock()
        if table_id == _BT01:
            model = MODEL.encode().ljust(8)
            return (
                MANUFACTURER.encode() + model + bytes(2) + FIRMWARE.to_bytes(2, "big") + bytes(16)
            )
        if table_id == _ET03:
            serial = self.serial.encode().ljust(30, b"\x00")[:30]
            return serial + bytes(107) + (0xBEEF).to_bytes(2, "little") + bytes(4)
        if table_id == _BT21:
            flags = (0x04 if self.reset_counter else 0) | (0x40 if self.time_remaining else 0)
            return bytes([flags, 0, 0, 11, 0, 0, 0, 4, self.demands, self.present_values])
        if table_id == _BT23:
            summations = self._summations_raw(t)
            # Tier 1 holds everything, as on a single-rate installation.
            blocks = summations + summations + [0] * (len(summations) * 3)
            counter = bytes([3]) if self.reset_counter else b""
            return counter + struct.pack(f"<{len(blocks)}i", *blocks)
        if table_id == _BT28:
            demand_time = bytes(3) if self.time_remaining else b""
            demands = (demand_time + struct.pack("<i", 1234)) * self.demands
            present = self._present_raw(t)
            return demands + struct.pack(f"<{len(present)}i", *present)
        if table_id == _BT52:
            now = self.meter_time()
            weekday = (now.weekday() + 1) % 7  # 0 = Sunday
            return bytes(
                [now.year - 2000, now.month, now.day, now.hour, now.minute, now.second, weekday]
            )
        return None

    def drop_next(self, replies: int) -> None:
        """Swallow the next `replies` replies (the requests are still executed)."""
        self._drop_next += replies

    def jump_sequence(self, steps: int) -> None:
        """Advance the meter's counter as uplink traffic or a reconfiguration (+25) does."""
        self.expected_sequence = (self.expected_sequence + steps) % _MODULUS

    # --- requests and replies ---------------------------------------------------------------

    def respond(self, message: bytes) -> bytes | None:
        """The wire reply to one request message (bytes after its length), faults applied.

        None when the message is too short to be a request, or the reply is dropped.
        """
        if len(message) < 1 + _SEQUENCE_SIZE + DIGEST_SIZE:
            return None
        self.counters.requests += 1
        payload, digest = message[:-DIGEST_SIZE], message[-DIGEST_SIZE:]
        body, stream = payload, None
        if request_digest(self.key, payload) != digest:
            stream = packet_cipher(self._base_key, digest)
            body = stream.update(payload)
            if request_digest(self.key, body) != digest:
                self.counters.wrong_key += 1
                return self._deliver(bytes([_WRONG_KEY]) + bytes(DIGEST_SIZE))
            self.counters.encrypted += 1
        sequence = int.from_bytes(body[-_SEQUENCE_SIZE:], "big")
        if (sequence - self.expected_sequence) % _MODULUS < SEQUENCE_WINDOW:
            self.expected_sequence = (sequence + 1) % _MODULUS
            answer = self._execute(body[:-_SEQUENCE_SIZE])
        else:
            self.counters.resyncs += 1
            answer = bytes([_BAD_SEQUENCE]) + self.expected_sequence.to_bytes(4, "big")
        reply_digest = response_digest(self.key, body, answer)
        if stream is not None:
            answer = stream.update(answer)
        return self._deliver(answer + reply_digest)

    def _execute(self, command: bytes) -> bytes:
        code = command[0]
        if code in (_FULL_WRITE, _PARTIAL_WRITE):
            return bytes([_NO_PERMISSION])
        if code == _FULL_READ and len(command) >= 3:
            offset, count = 0, None
        elif code == _PARTIAL_READ and len(command) == 8:
            offset = int.from_bytes(command[3:6], "big")
            count = int.from_bytes(command[6:8], "big")
        else:
            return bytes([_UNRECOGNISED])
        data = self.table(int.from_bytes(command[1:3], "big"))
        if data is None:
            return bytes([_TABLE_NOT_POSSIBLE])
        if count is None:
            count = len(data)
        self.reads.append((int.from_bytes(command[1:3], "big"), offset, count))
        # A read past the table's end is zero-filled (the optical port's behaviour).
        chunk = data[offset : offset + count].ljust(count, b"\x00")
        if 3 + count + DIGEST_SIZE > MAX_MESSAGE:
            return bytes([_NOT_POSSIBLE])
        return bytes([_OK]) + count.to_bytes(2, "big") + chunk

    def _deliver(self, message: bytes) -> bytes | None:
        rng = self._fault_rng
        if self._drop_next:
            self._drop_next -= 1
            self.counters.dropped += 1
            return None
        if rng.random() < self.faults.drop_rate:
            self.counters.dropped += 1
            return None
        if rng.random() < self.faults.corrupt_rate:
            self.counters.corrupted += 1
            damaged = bytearray(message)
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
            message = bytes(damaged)
        self.counters.replies += 1
        return len(message).to_bytes(2, "big") + message


class _RequestStream:
    """Cuts a client's byte stream into requests and answers each."""

    def __init__(self, meter: SimulatedMepMeter) -> None:
        self._meter = meter
        self._assembler = FrameAssembler()

    def feed(self, data: bytes) -> list[bytes]:
        replies = []
        for message in self._assembler.feed(data):
            reply = self._meter.respond(message)
            if reply is not None:
                replies.append(reply)
        return replies


def _chunks(reply: bytes) -> list[bytes]:
    return [reply[i : i + CHUNK_SIZE] for i in range(0, len(reply), CHUNK_SIZE)]


class MepTcpServer:
    """The meter behind a TCP socket on 127.0.0.1 (like a ser2net bridge); port chosen by the OS."""

    def __init__(self, meter: SimulatedMepMeter, port: int = 0) -> None:
        self.meter = meter
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = port

    async def start(self) -> MepTcpServer:
        """Listen; `port` is known afterwards."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        stream = _RequestStream(self.meter)
        try:
            while data := await reader.read(4096):
                for reply in stream.feed(data):
                    for index, chunk in enumerate(_chunks(reply)):
                        if index:
                            await asyncio.sleep(self.meter.chunk_pause)
                        writer.write(chunk)
                        await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class MepPtyServer:
    """The meter on the master side of a pseudo-terminal; clients open `path` as a port."""

    def __init__(self, meter: SimulatedMepMeter) -> None:
        self.meter = meter
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._stream = _RequestStream(meter)
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> MepPtyServer:
        """Begin answering (call from within the event loop)."""
        asyncio.get_running_loop().add_reader(self._master, self._on_readable)
        return self

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except OSError:
            return
        for reply in self._stream.feed(data):
            task = asyncio.get_running_loop().create_task(self._send(reply))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, reply: bytes) -> None:
        for index, chunk in enumerate(_chunks(reply)):
            if index:
                await asyncio.sleep(self.meter.chunk_pause)
            with contextlib.suppress(OSError):
                os.write(self._master, chunk)

    def close(self) -> None:
        """Stop answering and close both sides."""
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self._master)
        for task in self._tasks:
            task.cancel()
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


async def _serve_forever(args: argparse.Namespace) -> None:
    meter = SimulatedMepMeter(
        args.key.encode("ascii"),
        faults=FaultPlan(args.drop_rate, args.corrupt_rate, seed=args.seed),
    )
    print(f"MEP key: {args.key}")  # the demo shows the key on purpose
    if args.pty:
        pty_server = MepPtyServer(meter).start()
        print(f"Simulated MEP meter on {pty_server.path}")
    else:
        server = await MepTcpServer(meter, args.port).start()
        print(f"Simulated MEP meter on 127.0.0.1:{server.port}")
    await asyncio.Event().wait()


def main() -> None:
    """Serve a simulated meter until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--key", default=DEMO_KEY.decode("ascii"), help="20 ASCII characters")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free)")
    parser.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal")
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--corrupt-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(parser.parse_args()))


if __name__ == "__main__":
    main()
