"""The demo's Modbus bus: a simulated 32-meter fleet of mixed models, added with discovery.

The fleet is `simulators.modbus_fleet`'s demo placement (addresses 1-43, every fourth one
empty), served as Modbus TCP on a local port. The config flow scans 1-43 and keeps what the
scan identified. Once Home Assistant polls the bus, two meters go silent for a while now and
then, so the demo shows a dead meter's entities going unavailable and coming back while
the rest of the bus carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from demo_meters import DemoMeter, FlowStep

from simulators.modbus_fleet import ModbusFleet

FLEET_SIZE = 32
LAST_ADDRESS = 43
"""The 32nd address of the demo placement (every fourth address is empty)."""
DEAD_ADDRESSES = (6, 7)
DEAD_FOR = 90.0
ALIVE_FOR = 150.0
_POLLED = 20
"""Requests to unit 1 after which the bus counts as polled (a scan asks it two or three)."""
LIVE_KEYS = ("1_1-0:1.7.0", "2_1-0:1.7.0", "5_1-0:1.7.0")


@dataclass(eq=False)
class SimulatedModbusFleet(DemoMeter):
    """32 DIN-rail meters of mixed models behind one Modbus TCP port."""

    live_keys: tuple[str, ...] = LIVE_KEYS
    host: str = "127.0.0.1"
    _fleet: ModbusFleet = field(default_factory=lambda: ModbusFleet.demo(FLEET_SIZE), init=False)
    _port: int = field(default=0, init=False)
    _outages: asyncio.Task[None] | None = field(default=None, init=False)

    async def start(self) -> None:
        self._port = await self._fleet.start_tcp(self.host)
        # The entry's unique id, which prefixes every entity's unique id.
        self.meter_id = f"modbus-{self.host}:{self._port}"
        self._outages = asyncio.create_task(self._dead_meters(), name="demo modbus outages")

    async def stop(self) -> None:
        if self._outages is not None:
            self._outages.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._outages
            self._outages = None
        await self._fleet.stop()

    async def _dead_meters(self) -> None:
        """Once Home Assistant polls (not while the flow scans), silence two meters now
        and then."""
        while self._fleet.meters[1].requests < _POLLED:  # noqa: ASYNC110 - a simulator counter
            await asyncio.sleep(1)
        while True:
            await asyncio.sleep(ALIVE_FOR)
            for address in DEAD_ADDRESSES:
                self._fleet.meters[address].silence(DEAD_FOR)
            await asyncio.sleep(DEAD_FOR)

    def flow_steps(self) -> list[FlowStep]:
        return [
            FlowStep("user", {"next_step_id": "modbus"}),
            FlowStep("modbus", {"next_step_id": "modbus_network"}),
            FlowStep(
                "modbus_network",
                {"host": self.host, "port": self._port, "framing": "tcp", "timeout": 1.0},
            ),
            FlowStep("modbus_scan", {"first_address": 1, "last_address": LAST_ADDRESS}),
            # Every unit keeps the map the scan identified (the form's defaults).
            FlowStep("modbus_meters", {}),
        ]

    @property
    def where(self) -> str:
        dead = " and ".join(str(a) for a in DEAD_ADDRESSES)
        return (
            f"Modbus TCP {self.host}:{self._port}, {FLEET_SIZE} meters at 1-{LAST_ADDRESS} "
            f"(units {dead} go silent for {DEAD_FOR:g} s every {DEAD_FOR + ALIVE_FOR:g} s)"
        )
