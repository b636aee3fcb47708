"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.const import MAJOR_VERSION
import pytest
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
    StateSnapshot,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation
from syrupy.types import PropertyPath

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


AGE_IN_SECONDS = "<whole seconds>"
"""What a snapshot records for the message-age sensor's state (the host's speed sets it)."""


def message_age_as_seconds(*, data: Any, path: PropertyPath) -> Any:
    """The message-age sensor's state is the time between a message and the entity's write,
    0 on an idle host and 1 or more on a loaded one: a whole number of seconds is recorded as
    such. Anything else (a negative, fractional or unavailable age) stays as it is and fails."""
    if (
        isinstance(data, StateSnapshot)
        and str(data.get("entity_id", "")).endswith("_message_age")
        and str(data.get("state", "")).isdigit()
    ):
        return StateSnapshot({**data, "state": AGE_IN_SECONDS})
    return data


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots that serialise registry entries without their random ids and times."""
    return snapshot.with_defaults(
        extension_class=ReleaseSnapshotExtension, matcher=message_age_as_seconds
    )


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
