"""A real pseudo-terminal for tests: code under test opens `path` as its serial port, the
test plays the meter on the master side."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty


class PseudoTerminal:
    """A pseudo-terminal pair; `blocking=False` never blocks a test when nobody reads."""

    def __init__(self, *, blocking: bool = True) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        if not blocking:
            os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self._timer: asyncio.TimerHandle | None = None

    def send(self, data: bytes) -> None:
        """Write bytes as the meter (dropped when a non-blocking terminal is full)."""
        with contextlib.suppress(BlockingIOError):
            os.write(self.master, data)

    def receive(self, size: int) -> bytes:
        """Read what the code under test wrote to the port."""
        return os.read(self.master, size)

    def send_every(self, data: bytes, interval: float = 0.05) -> None:
        """Keep sending `data`, like a meter does: opening a serial port flushes what was
        written before, so a single early write would be lost."""
        self.stop_sending()

        def send() -> None:
            with contextlib.suppress(OSError):
                os.write(self.master, data)
            self._timer = asyncio.get_running_loop().call_later(interval, send)

        send()

    def stop_sending(self) -> None:
        """Stop `send_every`."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def hang_up(self) -> None:
        """Close the meter's side, as when a cable is pulled."""
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def close(self) -> None:
        """Close both sides."""
        self.stop_sending()
        self.hang_up()
        with contextlib.suppress(OSError):
            os.close(self.slave)
