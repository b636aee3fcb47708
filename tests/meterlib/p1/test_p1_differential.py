"""Differential oracle: every value dsmr_parser 1.11.2 extracts must equal ours.

dsmr_parser is a test dependency only. Its spec objects are regexes over whole lines; for each
line an object matches we parse that line with the object's own value parser and compare the
result with our reading of the same OBIS code.

Deliberate differences (ours is the intended behaviour, see the P1 brief):
* Counters and indicators (`0-0:96.14.0(0002)`, `0-1:24.1.0(003)`, `0-0:96.3.10(1)`) are ints
  for us and strings for dsmr_parser; compared as numbers.
* Text-message codes (`0-0:96.13.1`) are hex text for us, an int for dsmr_parser's V2.2 spec.
* Meter time: dsmr_parser reads it as Europe/Amsterdam wall-clock time and uses the S/W flag
  only for the repeated autumn hour; we take the offset from the flag (S = +02:00, W = +01:00,
  Irish offsets for Iskra IE), as the P1 brief specifies. Both give the same instant whenever the
  flag agrees with the calendar. Two vectors carry flags that contradict it: the e-MUCS spec
  example (`fluvius_v171.txt`: March stamps marked S) and the Swedish meter
  (`aviborg_ascii2Data.txt`: 20 October marked W). There the wall-clock reading is the same and
  the offsets differ by the hour the flag claims; `FLAG_VS_CALENDAR` pins those cases.
* dsmr_parser drops unknown lines; we keep them, so we only check that ours is a superset.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
import logging
import re
from typing import Any
from zoneinfo import ZoneInfo

from dsmr_parser import telegram_specifications
from dsmr_parser.exceptions import InvalidChecksumError
from dsmr_parser.objects import CosemObject, MBusObject, MBusObjectPeak, ProfileGenericObject
from dsmr_parser.parsers import TelegramParser
import pytest

from custom_components.energy_gateway.meterlib.core.errors import ChecksumError
from custom_components.energy_gateway.meterlib.core.model import Reading, ReadingValue, Snapshot
from custom_components.energy_gateway.meterlib.core.units import canonical_unit
from custom_components.energy_gateway.meterlib.p1.decoder import P1Decoder
from custom_components.energy_gateway.meterlib.p1.telegram import parse_telegram

from ..conftest import ENCRYPTED_FRAME, SMARTY_AUTH_KEY, SMARTY_KEY, vector

# The Sagemcom spec expects a ciphered hex frame; for its plaintext we use it without the cipher.
SAGEMCOM_PLAIN = {**telegram_specifications.SAGEMCOM_T210_D_R, "general_global_cipher": False}

SPECS: dict[str, dict[str, Any]] = {
    "dsmr_v2_2.txt": telegram_specifications.V2_2,
    "dsmr_v3.txt": telegram_specifications.V3,
    "dsmr_v4_2_kaifa.txt": telegram_specifications.V4,
    "dsmr_v5.txt": telegram_specifications.V5,
    "dsmr_v5_two_mbus.txt": telegram_specifications.V5,
    "dsmr_v5_unpadded_crc_warmtelink.txt": telegram_specifications.V5,
    "dsmr_parser_telegram_v5.txt": telegram_specifications.V5,
    "fluvius_v171.txt": telegram_specifications.BELGIUM_FLUVIUS,
    "fluvius_v171_alt_with_98_1_0_garbage_ts.txt": telegram_specifications.BELGIUM_FLUVIUS,
    "q3d_esy5q3da1004_v304.txt": telegram_specifications.Q3D,
    "q3d_esy5q3db1024_v304.txt": telegram_specifications.Q3D,
    "sagemcom_t210_d_r_plaintext.txt": SAGEMCOM_PLAIN,
    "dsmr_parser_telegram_sagemcom_t210_d_r.txt": SAGEMCOM_PLAIN,
    "iskra_ie.txt": telegram_specifications.ISKRA_IE,
    "eon_hungary_v5.txt": telegram_specifications.EON_HUNGARY,
    "aviborg_ascii1Data.txt": telegram_specifications.V4,
    "aviborg_ascii2Data.txt": telegram_specifications.SWEDEN,
}

_OBIS_PREFIX = re.compile(r"(\d+-\d+:\d+\.\d+\.\d+)")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# How many timestamps per vector carry an S/W flag that contradicts the calendar.
FLAG_VS_CALENDAR = {"fluvius_v171.txt": 2, "aviborg_ascii2Data.txt": 1}


@pytest.fixture(autouse=True)
def quiet_dsmr_parser() -> None:
    logging.getLogger("dsmr_parser").setLevel(logging.CRITICAL)


class Comparison:
    """Compares values and counts what it compared and where the S/W flag differs."""

    def __init__(self) -> None:
        self.compared = 0
        self.flag_vs_calendar = 0

    def same(self, theirs: object, ours: ReadingValue) -> bool:
        self.compared += 1
        if theirs is None or ours is None:
            return theirs is None and ours is None
        if isinstance(theirs, Decimal):
            return isinstance(ours, int | float) and float(theirs) == float(ours)
        if isinstance(theirs, datetime):
            return isinstance(ours, datetime) and self._same_time(theirs, ours)
        if isinstance(theirs, str) and isinstance(ours, int):
            return theirs.isdecimal() and int(theirs) == ours  # counters: see module docstring
        if isinstance(theirs, int) and isinstance(ours, str):
            return ours.isdecimal() and int(ours) == theirs  # text-message code
        return theirs == ours

    def _same_time(self, theirs: datetime, ours: datetime) -> bool:
        if theirs == ours:  # aware datetimes: compares instants
            return True
        local = theirs.astimezone(AMSTERDAM)
        if local.replace(tzinfo=None) == ours.replace(tzinfo=None):
            self.flag_vs_calendar += 1  # same reading, offset from the flag: docstring
            return True
        return False


def same_unit(theirs: str | None, ours: str | None) -> bool:
    return canonical_unit(theirs) == ours


def their_objects(text: str, spec: dict[str, Any]) -> list[tuple[str, Any]]:
    """(OBIS code of the matched line, dsmr_parser's object) for every spec match."""
    found = []
    for item in spec["objects"]:
        for match in re.findall(item["obis_reference"], text, re.DOTALL | re.MULTILINE):
            code = _OBIS_PREFIX.match(match)
            assert code is not None, match
            found.append((code[1], item["value_parser"].parse(match)))
    return found


def compare(snapshot: Snapshot, objects: list[tuple[str, Any]], check: Comparison) -> None:
    """Assert every dsmr_parser value equals ours."""
    same = check.same
    for code, obj in objects:
        if isinstance(obj, MBusObject):
            # DSMR 2.2/3 gas: the 24.3.0 header plus value line; we report it as 24.2.1.
            ours = snapshot.readings[code.replace("24.3.0", "24.2.1")]
            assert same(obj.value, ours.value), (code, obj.value, ours.value)
            assert same_unit(obj.unit, ours.unit), (code, obj.unit, ours.unit)
            assert same(obj.datetime, ours.captured), (code, obj.datetime, ours.captured)
        elif isinstance(obj, CosemObject):
            ours = snapshot.readings[code]
            assert same(obj.value, ours.value), (code, obj.value, ours.value)
            assert same_unit(obj.unit, ours.unit), (code, obj.unit, ours.unit)
        elif isinstance(obj, ProfileGenericObject):
            compare_log(snapshot.readings[code], obj, check)
        else:
            assert isinstance(obj, list)
            compare_peaks(snapshot.readings[code], obj, check)


def compare_log(ours: Reading, log: ProfileGenericObject, check: Comparison) -> None:
    assert log.buffer_length == ours.value == len(ours.entries)
    for entry, (when, duration) in zip(log.buffer, ours.entries, strict=True):
        assert check.same(entry.datetime, when)
        assert check.same(entry.value, duration)


def compare_peaks(ours: Reading, peaks: list[MBusObjectPeak], check: Comparison) -> None:
    assert len(peaks) == ours.value == len(ours.entries)
    for peak, (month, occurred, value) in zip(peaks, ours.entries, strict=True):
        assert check.same(peak.datetime, month), (peak.datetime, month)
        assert check.same(peak.occurred, occurred), (peak.occurred, occurred)  # None: no data
        assert check.same(peak.value, value)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_dsmr_parser_value_matches(name: str) -> None:
    data = vector(name)
    text = data.decode("latin-1")
    spec = SPECS[name]
    TelegramParser(spec).parse(text)  # its own CRC check (where the spec has one) passes too
    objects = their_objects(text, spec)
    check = Comparison()
    compare(parse_telegram(data), objects, check)
    assert check.compared >= len(objects) >= 5
    assert check.flag_vs_calendar == FLAG_VS_CALENDAR.get(name, 0)


def test_encrypted_vector_matches() -> None:
    parser = TelegramParser(telegram_specifications.SAGEMCOM_T210_D_R)
    theirs = parser.parse(
        vector(ENCRYPTED_FRAME).hex(), SMARTY_KEY.hex(), authentication_key=SMARTY_AUTH_KEY.hex()
    )
    (ours,) = P1Decoder(key=SMARTY_KEY, auth_key=SMARTY_AUTH_KEY).feed(vector(ENCRYPTED_FRAME))
    assert isinstance(ours, Snapshot)
    check = Comparison()
    assert check.same(theirs.ELECTRICITY_IMPORTED_TOTAL.value, ours.value("1-0:1.8.0"))
    assert check.same(theirs.CURRENT_ELECTRICITY_USAGE.value, ours.value("1-0:1.7.0"))
    assert check.same(theirs.P1_MESSAGE_TIMESTAMP.value, ours.timestamp)
    plain = vector("sagemcom_t210_d_r_plaintext.txt").decode("latin-1")
    compare(ours, their_objects(plain, SAGEMCOM_PLAIN), check)
    assert check.compared >= 20
    assert check.flag_vs_calendar == 0


def test_both_reject_the_bad_crc() -> None:
    data = vector("aviborg_data2.txt")
    with pytest.raises(InvalidChecksumError):
        TelegramParser(telegram_specifications.V4).parse(data.decode("latin-1"))
    with pytest.raises(ChecksumError):
        parse_telegram(data)


def test_we_keep_lines_dsmr_parser_drops() -> None:
    # E.ON's 0-0:98.1.0 billing snapshot is not in its spec; we keep it as entries.
    data = vector("eon_hungary_v5.txt")
    objects = their_objects(data.decode("latin-1"), telegram_specifications.EON_HUNGARY)
    their_codes = {code for code, _ in objects}
    ours = parse_telegram(data)
    assert their_codes < set(ours.readings)
    assert "0-0:98.1.0" in set(ours.readings) - their_codes
