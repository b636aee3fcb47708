"""A simulated fleet of Modbus meters on one bus, for the demo, the tests and the benchmark.

Mixed models at addresses with gaps, served by pymodbus's own server: Modbus TCP, RTU
framing over TCP (a transparent gateway), or real RTU over a pair of pseudo-terminals
bridged in-process. Registers are laid out from the same map files the library reads, so
every map can be simulated. Each meter's load is a smooth function of time; power is
integrated into the energy counters per phase, currents follow from power, voltage and
power factor. Meters can be made silent for a while (`silence`), slow (`delay`), strict
about holes (exception 02 for reads spanning unmapped registers), refuse chosen registers
(exception 02) or be busy on them (exception 06). A unit with no map answers every read
with exception 02: it is there, but matches no map.

    python -m simulators.modbus_fleet --port 5020 --meters 32 [--framing rtu]

The server side is written against pymodbus 3.16's server, which asks its datastore through
`async_getValues` (older servers use another datastore interface); the library's client side
works with every pymodbus from 3.8.3 on.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterable, Sequence
import contextlib
from dataclasses import dataclass, field
import math
import os
import time
import tty
from typing import Final, Literal

from pymodbus.client import ModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from custom_components.energy_gateway.meterlib.modbus.decode import FLOAT_TYPES, PYMODBUS_TYPES
from custom_components.energy_gateway.meterlib.modbus.schema import (
    DataType,
    MeterMap,
    RegisterSpec,
    load_maps,
)

# What the server takes for "this unit does not answer". Held as a typed callable: pymodbus
# 3.13 (Home Assistant 2026.10's pin) leaves the initialiser untyped, 3.16 types it.
_NO_SUCH_UNIT: Final[Callable[[str], Exception]] = NoSuchIdException
_LIMITS: Final = {
    DataType.U16: (0, 0xFFFF),
    DataType.S16: (-0x8000, 0x7FFF),
    DataType.U32: (0, 0xFFFF_FFFF),
    DataType.S32: (-0x8000_0000, 0x7FFF_FFFF),
    DataType.U64: (0, 0xFFFF_FFFF_FFFF_FFFF),
    DataType.S64: (-0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF),
}
_PERIOD: Final = 60.0  # seconds of one load swing
_VOLTS: Final = 230.0
_POWER_FACTOR: Final = 0.95
_FREQUENCY: Final = 50.0
_MAX_STEP: Final = 1.0  # seconds: longest energy integration step

type Framing = Literal["tcp", "rtu"]

# The mix the demo and the benchmark use: cycled over the addresses.
DEMO_MODELS: Final = (
    "meatrol",
    "eastron_sdm630",
    "carlogavazzi_em24",
    "abb_b23_b24",
    "eastron_sdm120",
    "chint_dtsu666",
    "schneider_iem3000",
    "janitza_b_series",
)


@dataclass
class _Load:
    """A three-phase load as a function of time, integrated into energy counters (Wh)."""

    base_watts: tuple[float, float, float]
    import_wh: list[float]
    export_wh: list[float]
    last: float = field(default_factory=time.monotonic)

    def watts(self, now: float) -> list[float]:
        return [
            base * (1.0 + 0.2 * math.sin(2 * math.pi * now / _PERIOD + phase))
            for phase, base in enumerate(self.base_watts)
        ]

    def advance(self, now: float) -> None:
        while self.last < now:
            step = min(_MAX_STEP, now - self.last)
            for phase, watts in enumerate(self.watts(self.last + step / 2)):
                self.import_wh[phase] += watts * step / 3600.0
            self.last += step

    def quantities(self, now: float) -> dict[str, float]:
        """Values by OBIS code in W, V, A, Hz, Wh (unit conversion happens per map)."""
        self.advance(now)
        watts = self.watts(now)
        volts = [_VOLTS + 1.5 * math.sin(now / 7 + phase) for phase in range(3)]
        amps = [w / (v * _POWER_FACTOR) for w, v in zip(watts, volts, strict=True)]
        values = {
            "1-0:1.7.0": sum(watts),
            "1-0:2.7.0": 0.0,
            "1-0:11.7.0": sum(amps) / 3,
            "1-0:13.7.0": _POWER_FACTOR,
            "1-0:14.7.0": _FREQUENCY + 0.02 * math.sin(now / 11),
            "1-0:1.8.0": sum(self.import_wh),
            "1-0:2.8.0": sum(self.export_wh),
            "1-0:15.8.0": sum(self.import_wh) + sum(self.export_wh),
        }
        for phase, c_power in enumerate((21, 41, 61)):
            values[f"1-0:{c_power}.7.0"] = watts[phase]
            values[f"1-0:{c_power + 11}.7.0"] = volts[phase]  # 32/52/72
            values[f"1-0:{c_power + 10}.7.0"] = amps[phase]  # 31/51/71
            values[f"1-0:{c_power + 12}.7.0"] = _POWER_FACTOR  # 33/53/73
            values[f"1-0:{c_power}.8.0"] = self.import_wh[phase]
            values[f"1-0:{c_power + 1}.8.0"] = self.export_wh[phase]  # 22/42/62
        return values


@dataclass
class SimMeter:
    """One simulated unit; `meter_map` None makes a unit that answers but matches no map."""

    address: int
    meter_map: MeterMap | None
    serial: int = 0
    model_code: str | None = None
    """What the model-code register answers; default: the map's first code."""
    strict: bool | None = None
    """Refuse reads spanning unmapped registers; default: the map's `read_holes` inverted."""
    delay: float = 0.0
    refuse: set[int] = field(default_factory=set)
    """Register addresses answered with exception 02 (illegal data address)."""
    busy: set[int] = field(default_factory=set)
    """Register addresses answered with exception 06 (device busy)."""
    errors: dict[int, ExcCodes] = field(default_factory=dict)
    """Register addresses answered with any other exception code."""
    silent_until: float = 0.0
    """monotonic() time until which the unit does not answer at all."""
    unanswered: int = 0
    """How many of the next requests the unit ignores (busy for a moment)."""
    requests: int = 0

    def __post_init__(self) -> None:
        seed = self.address * 7919 + self.serial
        base = tuple(300.0 + (seed * (phase + 3)) % 1700 for phase in range(3))
        self.load = _Load(
            (base[0], base[1], base[2]),
            import_wh=[1_000_000.0 + (seed % 997) * 1000.0 * (phase + 1) for phase in range(3)],
            export_wh=[10_000.0 * (phase + 1) for phase in range(3)],
        )
        self._layout: dict[int, dict[int, RegisterSpec]] = {3: {}, 4: {}}
        if self.meter_map is None:
            return
        if self.strict is None:
            self.strict = not self.meter_map.read_holes
        ident = self.meter_map.identification
        specs = list(self.meter_map.registers)
        if ident.serial is not None:
            specs.append(ident.serial)
        for spec in specs:
            for offset in range(spec.count):
                self._layout[spec.fc][spec.address + offset] = spec
        if ident.model is not None:
            model = ident.model
            code = self.model_code or next(iter(model.codes))
            self.model_code = code
            self._model_words = _code_words(code, model.data_type, model.count)
            self._model_at = (model.fc, model.address)
            for offset in range(model.count):
                self._layout[model.fc].setdefault(model.address + offset, _MODEL_MARK)

    @property
    def silent(self) -> bool:
        """True while the unit ignores requests."""
        return time.monotonic() < self.silent_until

    def silence(self, seconds: float = math.inf) -> None:
        """Stop answering for `seconds` (for ever by default)."""
        self.silent_until = time.monotonic() + seconds

    def wake(self) -> None:
        """Answer again."""
        self.silent_until = 0.0

    def read(self, fc: int, address: int, count: int) -> list[int] | ExcCodes:
        """The reply to one read: registers or an exception code."""
        self.requests += 1
        layout = self._layout.get(fc)
        span = range(address, address + count)
        if layout is None or self.meter_map is None:
            return ExcCodes.ILLEGAL_ADDRESS
        mapped = [a in layout for a in span]
        if not any(mapped) or (self.strict and not all(mapped)):
            return ExcCodes.ILLEGAL_ADDRESS
        if any(a in self.refuse for a in span):
            return ExcCodes.ILLEGAL_ADDRESS
        if any(a in self.busy for a in span):
            return ExcCodes.DEVICE_BUSY
        code = next((self.errors[a] for a in span if a in self.errors), None)
        if code is not None:
            return code
        words = self._words(fc, layout, span)
        return [words.get(a, 0) for a in span]

    def _words(self, fc: int, layout: dict[int, RegisterSpec], span: range) -> dict[int, int]:
        quantities = self.load.quantities(time.monotonic())
        words: dict[int, int] = {}
        assert self.meter_map is not None
        serial = self.meter_map.identification.serial
        for spec in {layout[a] for a in span if a in layout}:
            if spec is _MODEL_MARK:
                base = self._model_at[1]
                for offset, word in enumerate(self._model_words):
                    words[base + offset] = word
                continue
            value = float(self.serial) if spec is serial else _in_unit(spec, quantities)
            for offset, word in enumerate(encode(value, spec)):
                words[spec.address + offset] = word
        return words


_MODEL_MARK: Final = RegisterSpec("model", "0-0:96.1.1", 0, 3, DataType.U16, 1)


def _in_unit(spec: RegisterSpec, quantities: dict[str, float]) -> float:
    value = quantities.get(spec.obis, 0.0)
    if spec.unit in {"kW", "kWh"}:
        value /= 1000.0
    return value


def encode(value: float, spec: RegisterSpec) -> list[int]:
    """The registers a meter would send for `value` under this map entry."""
    raw: float = value / spec.scale
    if spec.data_type in FLOAT_TYPES:
        return ModbusTcpClient.convert_to_registers(
            raw, PYMODBUS_TYPES[spec.data_type], spec.word_order
        )
    low, high = _LIMITS[spec.data_type]
    number = min(high, max(low, round(raw)))
    return ModbusTcpClient.convert_to_registers(
        number, PYMODBUS_TYPES[spec.data_type], spec.word_order
    )


def _code_words(code: str, data_type: DataType, count: int) -> list[int]:
    if data_type is DataType.TEXT:
        data = code.encode("ascii").ljust(count * 2, b" ")[: count * 2]
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return ModbusTcpClient.convert_to_registers(int(code), PYMODBUS_TYPES[data_type], "big")


class _FleetContext(ModbusServerContext):
    """pymodbus server datastore answering from the simulated meters.

    A silent unit raises NoSuchIdException: with `ignore_missing_devices` the server then
    sends nothing, exactly like a dead meter on a line.
    """

    def __init__(self, fleet: ModbusFleet) -> None:
        # Not the base initialiser: it wants pymodbus's own data blocks; the server only
        # needs these two attributes to route every request through async_getValues.
        self.simdevices = []
        self.old_simulator = True
        self.fleet = fleet

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        meter = self.fleet.meters.get(device_id)
        if meter is not None and meter.unanswered:
            meter.unanswered -= 1
            raise _NO_SUCH_UNIT(f"unit {device_id} is busy")
        if meter is None or meter.silent:
            raise _NO_SUCH_UNIT(f"unit {device_id} is silent")
        if meter.delay:
            await asyncio.sleep(meter.delay)
        return meter.read(func_code, address, count)

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: object
    ) -> ExcCodes | None:
        if device_id not in self.fleet.meters:
            raise _NO_SUCH_UNIT(f"unit {device_id} is silent")
        return ExcCodes.ILLEGAL_FUNCTION

    def device_ids(self) -> list[int]:
        return sorted(self.fleet.meters)


class _PtyBridge:
    """Two pseudo-terminals whose master sides are joined: a null-modem cable in-process."""

    def __init__(self) -> None:
        self._pairs = [os.openpty(), os.openpty()]
        for master, _ in self._pairs:
            tty.setraw(master)
            os.set_blocking(master, False)
        self.paths = [os.ttyname(slave) for _, slave in self._pairs]
        loop = asyncio.get_running_loop()
        (a, _), (b, _) = self._pairs
        loop.add_reader(a, self._copy, a, b)
        loop.add_reader(b, self._copy, b, a)

    @staticmethod
    def _copy(source: int, target: int) -> None:
        with contextlib.suppress(OSError):
            data = os.read(source, 4096)
            os.write(target, data)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for master, slave in self._pairs:
            loop.remove_reader(master)
            for fd in (master, slave):
                with contextlib.suppress(OSError):
                    os.close(fd)


class ModbusFleet:
    """Simulated meters on one bus, served over TCP, RTU-over-TCP or a pseudo-terminal."""

    def __init__(self, meters: Iterable[SimMeter] = ()) -> None:
        self.meters: dict[int, SimMeter] = {meter.address: meter for meter in meters}
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._bridge: _PtyBridge | None = None

    @classmethod
    def of_models(
        cls, placement: dict[int, str], maps: dict[str, MeterMap] | None = None
    ) -> ModbusFleet:
        """A fleet with `placement` address → map id (`"unknown"`: a unit with no map)."""
        known = maps if maps is not None else load_maps().maps
        return cls(
            SimMeter(address, None if model == "unknown" else known[model], 10_000_000 + address)
            for address, model in placement.items()
        )

    @classmethod
    def demo(cls, count: int = 32, models: Sequence[str] = DEMO_MODELS) -> ModbusFleet:
        """`count` meters of mixed models at addresses 1, 2, 3, 5, 6, 7, 9, … (every fourth
        address left empty)."""
        addresses = [a for a in range(1, 248) if a % 4][:count]
        return cls.of_models({a: models[i % len(models)] for i, a in enumerate(addresses)})

    @property
    def requests(self) -> int:
        """Requests the meters received (silent units not counted)."""
        return sum(meter.requests for meter in self.meters.values())

    async def start_tcp(
        self, host: str = "127.0.0.1", port: int = 0, *, framing: Framing = "tcp"
    ) -> int:
        """Serve on TCP, Modbus TCP or RTU frames; return the port."""
        framer = FramerType.RTU if framing == "rtu" else FramerType.SOCKET
        server = ModbusTcpServer(
            _FleetContext(self), framer=framer, address=(host, port), ignore_missing_devices=True
        )
        await server.serve_forever(background=True)
        self._server = server
        sockets = getattr(server.transport, "sockets", None)
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def start_serial(self, baudrate: int = 9600) -> str:
        """Serve RTU on a pseudo-terminal; return the port path a client opens."""
        self._bridge = _PtyBridge()
        server = ModbusSerialServer(
            _FleetContext(self),
            framer=FramerType.RTU,
            port=self._bridge.paths[1],
            baudrate=baudrate,
            ignore_missing_devices=True,
        )
        await server.serve_forever(background=True)
        self._server = server
        return self._bridge.paths[0]

    async def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None
        if self._bridge is not None:
            self._bridge.close()
            self._bridge = None


async def _serve(args: argparse.Namespace) -> None:
    fleet = ModbusFleet.demo(args.meters)
    port = await fleet.start_tcp(args.host, args.port, framing=args.framing)
    placement = ", ".join(
        f"{a}={m.meter_map.id if m.meter_map else 'unknown'}" for a, m in fleet.meters.items()
    )
    print(f"serving {len(fleet.meters)} meters on {args.host}:{port} ({args.framing}): {placement}")
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the demo fleet until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5020)
    parser.add_argument("--meters", type=int, default=32)
    parser.add_argument("--framing", choices=["tcp", "rtu"], default="tcp")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
