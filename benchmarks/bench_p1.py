"""P1 telegram parsing: ours (`parse_telegram`) against dsmr_parser 1.11.2, CRC check on.

Method: CPU time (`time.process_time`, robust on a shared host), garbage collector off while
timing (`timeit` does that), both parsers built once and warmed up, dsmr_parser's logging off.
Each figure is the mean time per call in the best of many short repeats (see timing.py).
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from pathlib import Path

from dsmr_parser import telegram_specifications
from dsmr_parser.clients.telegram_buffer import TelegramBuffer
from dsmr_parser.parsers import TelegramParser
from timing import best_us

from custom_components.energy_gateway.meterlib.core.crc import crc16_arc
from custom_components.energy_gateway.meterlib.p1.decoder import P1Decoder
from custom_components.energy_gateway.meterlib.p1.telegram import parse_telegram

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "dsmr"
ANCHOR = "dsmr_parser 1.11.2"


def _figure(name: str, ours: float, anchor: float) -> dict[str, object]:
    return {
        "name": name,
        "unit": "us",
        "ours": round(ours, 1),
        "anchor": ANCHOR,
        "anchor_value": round(anchor, 1),
    }


def _parse_figure(name: str, file: str, spec: dict[str, object]) -> dict[str, object]:
    data = (FIXTURES / file).read_bytes()
    text = data.decode("latin-1")
    theirs = TelegramParser(spec)  # apply_checksum_validation defaults to True
    return _figure(name, best_us(lambda: parse_telegram(data)), best_us(lambda: theirs.parse(text)))


def _crc_figure() -> dict[str, object]:
    data = (FIXTURES / "dsmr_v5.txt").read_bytes()
    body = data[: data.index(b"!") + 1]
    text = body.decode("latin-1")
    return _figure(
        "p1_crc_dsmr5",
        best_us(lambda: crc16_arc(body)),
        best_us(lambda: TelegramParser.crc16(text)),
    )


def _stream_figure() -> dict[str, object]:
    """A whole telegram arriving on a stream: framing plus parsing."""
    data = (FIXTURES / "dsmr_v5.txt").read_bytes()
    text = data.decode("latin-1")
    ours = P1Decoder()
    buffer = TelegramBuffer()
    parser = TelegramParser(telegram_specifications.V5)

    def theirs() -> None:
        buffer.append(text)
        for telegram in buffer.get_all():
            parser.parse(telegram)

    return _figure("p1_stream_dsmr5", best_us(lambda: ours.feed(data)), best_us(theirs))


def figures(wanted: Callable[[str], bool]) -> list[dict[str, object]]:
    """The P1 figures the runner asked for."""
    logging.getLogger("dsmr_parser").setLevel(logging.CRITICAL)
    measures: list[tuple[str, Callable[[], dict[str, object]]]] = [
        (
            "p1_parse_dsmr5",
            lambda: _parse_figure("p1_parse_dsmr5", "dsmr_v5.txt", telegram_specifications.V5),
        ),
        (
            "p1_parse_fluvius",
            lambda: _parse_figure(
                "p1_parse_fluvius", "fluvius_v171.txt", telegram_specifications.BELGIUM_FLUVIUS
            ),
        ),
        ("p1_crc_dsmr5", _crc_figure),
        ("p1_stream_dsmr5", _stream_figure),
    ]
    return [measure() for name, measure in measures if wanted(name)]
