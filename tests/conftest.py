"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from pathlib import Path
from unittest.mock import PropertyMock, patch

from homeassistant.const import MAJOR_VERSION
import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation

from .fake_polled_family import FakeMeter

FIXTURES = Path(__file__).parent / "fixtures"


class ReleaseSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshot format, one folder per release year: the registry entry
    format changed between 2025 and 2026 (aliases became a list), so each release checks
    against snapshots written on that release."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        """`snapshots-2025/` or `snapshots-2026/` beside the test file."""
        return str(Path(test_location.filepath).parent / f"snapshots-{MAJOR_VERSION}")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots that serialise registry entries without their random ids and times."""
    return snapshot.use_extension(ReleaseSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled, so tests see them."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
async def fake_meter(socket_enabled: None) -> AsyncIterator[FakeMeter]:
    """The fake polled family's meter, serving on a real TCP port of 127.0.0.1."""
    fake = FakeMeter()
    await fake.start()
    yield fake
    await fake.stop()
