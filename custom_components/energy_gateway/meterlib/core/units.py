"""Canonical unit spellings, so every source reports `kWh`, `m³`, ... the same way."""

from __future__ import annotations

# Meters spell units in several ways (`m3`, `M3`, `kwh`, 0xB3 for the superscript three).
# Keys are lower-cased raw spellings.
_CANONICAL: dict[str, str] = {
    "wh": "Wh",
    "kwh": "kWh",
    "mwh": "MWh",
    "w": "W",
    "kw": "kW",
    "mw": "MW",
    "varh": "varh",
    "kvarh": "kvarh",
    "var": "var",
    "kvar": "kvar",
    "va": "VA",
    "kva": "kVA",
    "vah": "VAh",
    "kvah": "kVAh",
    "v": "V",
    "a": "A",
    "hz": "Hz",
    "m3": "m³",
    "m³": "m³",
    "gj": "GJ",
    "mj": "MJ",
    "s": "s",
    "min": "min",
    "h": "h",
    "°c": "°C",
    "c": "°C",
    "%": "%",
    "l": "L",
}


def canonical_unit(raw: str | None) -> str | None:
    """Return the canonical spelling of a unit, the stripped input when unknown, or None."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    return _CANONICAL.get(text.lower(), text)
