"""Sessions: the polled kind against a small fake polled family over a real TCP socket."""

from __future__ import annotations

from datetime import UTC

import pytest

from custom_components.energy_gateway.meterlib.core.errors import DecodeError, LinkError
from custom_components.energy_gateway.meterlib.core.family import Keys
from custom_components.energy_gateway.meterlib.links.connections import TcpSettings
from custom_components.energy_gateway.meterlib.session import PolledSession, PushSession

from ..fake_polled_family import FAKE_FAMILY, FakeMeter, LineSource


def _session(port: int) -> PolledSession:
    settings = TcpSettings("127.0.0.1", port)
    return PolledSession(FAKE_FAMILY, LineSource(settings), "fake", time_zone=UTC)


async def test_poll_opens_once_and_derives(fake_meter: FakeMeter) -> None:
    session = _session(fake_meter.port)
    first = await session.poll()
    second = await session.poll()
    assert first.snapshot.meter_id == "FAKE0001"
    assert second.values["1-0:1.8.0"] == pytest.approx(1000.002)
    assert second.values["1-0:1.7.0"] == pytest.approx(0.5)
    # Derived values come with it: net power, capacity figures.
    assert "net_power" in second.values
    assert session.stats.messages_ok == 2
    assert session.stats.reconnects == 0
    assert session.diagnostics() == {"requests": 2}
    await session.stop()
    assert not session.stats.link_open


async def test_a_counter_going_backwards_is_held_back(fake_meter: FakeMeter) -> None:
    session = _session(fake_meter.port)
    await session.poll()
    fake_meter.energy_kwh = 10.0  # a glitch far below the last good value
    data = await session.poll()
    assert data.values["1-0:1.8.0"] == pytest.approx(1000.001)
    assert session.counter_rejections == 1
    await session.stop()


async def test_bad_answer_is_counted_not_published(fake_meter: FakeMeter) -> None:
    session = _session(fake_meter.port)
    fake_meter.garbage = True
    with pytest.raises(DecodeError):
        await session.poll()
    assert session.stats.decode_failures == 1
    assert list(session.recent_failures) == [b"ERR\n"]
    fake_meter.garbage = False
    assert (await session.poll()).snapshot.meter_id == "FAKE0001"
    await session.stop()


async def test_lost_meter_is_reopened_on_the_next_poll(fake_meter: FakeMeter) -> None:
    session = _session(fake_meter.port)
    await session.poll()
    port = fake_meter.port
    await fake_meter.stop()
    with pytest.raises(LinkError):
        await session.poll()
    with pytest.raises(LinkError):
        await session.poll()  # the port is closed now: opening fails
    assert session.stats.open_failures == 1
    await fake_meter.start(port)
    assert (await session.poll()).snapshot.meter_id == "FAKE0001"
    assert session.stats.reconnects == 1
    await session.stop()


def test_a_polled_family_cannot_push() -> None:
    with pytest.raises(ValueError, match="polled"):
        PushSession(
            FAKE_FAMILY,
            TcpSettings("127.0.0.1", 1),
            Keys(),
            time_zone=UTC,
            on_message=lambda _data: None,
        )
