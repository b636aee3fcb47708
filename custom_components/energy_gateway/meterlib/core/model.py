"""The reading model every meter source produces: snapshots of OBIS-keyed readings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, NamedTuple

# A decoded value: numbers stay numbers (float when the meter sent a decimal point or a
# unit, int for bare counters and indicators), text stays text, meter times become aware
# datetimes. None means the meter sent the field but left it empty.
type ReadingValue = float | int | str | datetime | None


class Reading(NamedTuple):
    """One value a meter reported, keyed by its OBIS code.

    A named tuple rather than a frozen dataclass: every message makes dozens of these, and a
    tuple is built about four times faster while being just as immutable.
    """

    obis: str
    """Reduced OBIS code `A-B:C.D.E` (the F group and `*255` suffixes are dropped)."""
    value: ReadingValue
    unit: str | None = None
    """Canonical unit spelling (see `units.canonical_unit`), or None for unitless values."""
    captured: datetime | None = None
    """Time attached to the value: M-Bus capture time, time of a month peak, ..."""
    entries: tuple[tuple[ReadingValue, ...], ...] = ()
    """Rows of a log line (power-failure log, Belgian peak history); `value` is their count."""


FLEMISH_VARIANT: Final = "fluvius"
"""The P1 dialect of Belgian (e-MUCS) meters, whose grid operator bills the capacity tariff."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one message (telegram, push frame, poll) from a meter said."""

    format: str
    """Wire format, e.g. `p1`, `p1-encrypted`."""
    meter_id: str | None
    """Stable meter identity (equipment id / serial), None when the meter sends none."""
    timestamp: datetime | None
    """The meter's own clock for this message, aware, or None when it sends none."""
    readings: dict[str, Reading] = field(default_factory=dict)
    variant: str | None = None
    """Detected dialect, e.g. `dsmr5`, `dsmr4`, `dsmr2`, `fluvius`, `q3d`, `smarty`."""
    header: str | None = None
    """Identification text the meter sent (P1 header line without `/`)."""
    encrypted: bool = False
    """True when the message arrived wrapped in encryption."""
    manufacturer: str | None = None
    """The meter's maker, when the message tells (P1 FLAG id, DLMS system title)."""
    model: str | None = None
    """What identifies the meter's model or list to a person (P1 header, DLMS list id)."""

    def value(self, obis: str) -> ReadingValue:
        """Return the value of one OBIS code, or None when the snapshot lacks it."""
        reading = self.readings.get(obis)
        return None if reading is None else reading.value
