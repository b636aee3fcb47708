"""Bus-time arithmetic for Modbus RTU (docs/modbus.md §1).

T(N) = (13 + 2N)·t_char + 2·t3.5 + turnaround for an FC03/FC04 read of N registers: 8 bytes
of request, 5 + 2N of response, one inter-frame silence after each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

type Parity = Literal["N", "E", "O"]

REQUEST_BYTES: Final = 8
RESPONSE_OVERHEAD_BYTES: Final = 5
EXCEPTION_BYTES: Final = 5
_FIXED_T35_ABOVE: Final = 19200
_FIXED_T35: Final = 0.00175


@dataclass(frozen=True, slots=True)
class LineTiming:
    """Character timing of a serial line (or of the line behind an RTU gateway)."""

    baudrate: int = 9600
    parity: Parity = "N"
    stopbits: int = 1
    bytesize: int = 8

    @property
    def bits_per_char(self) -> int:
        """Start bit, data bits, parity bit if any, stop bits."""
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits

    @property
    def char_time(self) -> float:
        """Seconds one character takes on the wire."""
        return self.bits_per_char / self.baudrate

    @property
    def t35(self) -> float:
        """Inter-frame silence: 3.5 characters up to 19200 Bd, a fixed 1.75 ms above."""
        return 3.5 * self.char_time if self.baudrate <= _FIXED_T35_ABOVE else _FIXED_T35

    def read_time(self, registers: int, turnaround: float = 0.0) -> float:
        """Bus time of one answered read of `registers` registers."""
        chars = REQUEST_BYTES + RESPONSE_OVERHEAD_BYTES + 2 * registers
        return chars * self.char_time + 2 * self.t35 + turnaround

    def exception_time(self, turnaround: float = 0.0) -> float:
        """Bus time of a read answered by an exception."""
        return (REQUEST_BYTES + EXCEPTION_BYTES) * self.char_time + 2 * self.t35 + turnaround

    def silent_time(self, timeout: float) -> float:
        """Bus time of a read nobody answers: the request, then the whole timeout."""
        return REQUEST_BYTES * self.char_time + self.t35 + timeout

    def reply_time(self, registers: int) -> float:
        """Time from the first request byte to the last reply byte, without turnaround:
        the least any timeout must allow."""
        chars = REQUEST_BYTES + RESPONSE_OVERHEAD_BYTES + 2 * registers
        return chars * self.char_time + self.t35

    def request_overhead_registers(self, turnaround: float = 0.0) -> int:
        """What one extra request costs, in registers read: the gap worth over-reading."""
        overhead = self.read_time(0, turnaround)
        return max(1, round(overhead / (2 * self.char_time)))


@dataclass(slots=True)
class BusLedger:
    """What went over the bus: requests by outcome, registers, bytes and timeouts waited.

    Enough to compute the wire time of a scan or a cycle for any line speed
    (`wire_time`), whatever link the requests actually took (TCP in tests and benchmarks).
    """

    answered: int = 0
    registers: int = 0
    exceptions: int = 0
    silent: int = 0
    timeout_waited: float = 0.0
    """Sum of the timeouts of unanswered requests, in seconds."""

    @property
    def requests(self) -> int:
        """Every request sent."""
        return self.answered + self.exceptions + self.silent

    @property
    def bytes(self) -> int:
        """Request and reply bytes in RTU framing."""
        replies = self.answered * RESPONSE_OVERHEAD_BYTES + 2 * self.registers
        return self.requests * REQUEST_BYTES + replies + self.exceptions * EXCEPTION_BYTES

    def wire_time(self, line: LineTiming, turnaround: float = 0.0) -> float:
        """Seconds these requests take on `line`, each answer after `turnaround`."""
        answered = self.answered * line.read_time(0, turnaround)
        answered += 2 * self.registers * line.char_time
        exceptions = self.exceptions * line.exception_time(turnaround)
        silent = self.silent * line.silent_time(0.0) + self.timeout_waited
        return answered + exceptions + silent

    def reset(self) -> None:
        """Start counting again."""
        self.answered = self.registers = self.exceptions = self.silent = 0
        self.timeout_waited = 0.0
