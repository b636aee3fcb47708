"""Every translation mirrors en.json: same keys, same placeholders, canonical formatting."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest

TRANSLATIONS = (
    Path(__file__).parent.parent / "custom_components" / "energy_gateway" / "translations"
)
EXPECTED_LANGUAGES = {"da", "de", "nb", "nl", "sv"}
LANGUAGES = sorted(path.stem for path in TRANSLATIONS.glob("*.json") if path.stem != "en")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _load(language: str) -> dict[str, Any]:
    return json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted key → string for every leaf of the translation tree."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _markdown_lines(text: str) -> tuple[int, int]:
    """Line breaks and bullet lines: descriptions keep their Markdown layout."""
    return text.count("\n"), sum(line.startswith("- ") for line in text.splitlines())


EN = _flatten(_load("en"))


def test_all_languages_present() -> None:
    """Each meter country's language has a file."""
    assert EXPECTED_LANGUAGES - set(LANGUAGES) == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_keys_as_english(language: str) -> None:
    """No key is missing and none is extra."""
    flat = _flatten(_load(language))
    assert sorted(set(EN) - set(flat)) == []
    assert sorted(set(flat) - set(EN)) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_strings_are_translated_text(language: str) -> None:
    """Every value is a non-empty string."""
    flat = _flatten(_load(language))
    assert [key for key, value in flat.items() if not isinstance(value, str) or not value] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_placeholders_as_english(language: str) -> None:
    """Each string has exactly the placeholders of its English original."""
    flat = _flatten(_load(language))
    mismatched = {
        key: (_placeholders(EN[key]), _placeholders(value))
        for key, value in flat.items()
        if key in EN and _placeholders(EN[key]) != _placeholders(value)
    }
    assert mismatched == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_markdown_layout_as_english(language: str) -> None:
    """Line breaks and bullet lists survive translation."""
    flat = _flatten(_load(language))
    mismatched = [
        key
        for key, value in flat.items()
        if key in EN and _markdown_lines(EN[key]) != _markdown_lines(value)
    ]
    assert mismatched == []


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_canonical_format(language: str) -> None:
    """Files are written by json.dumps with indent 2, sorted keys and real characters."""
    text = (TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")
    expected = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert text == expected
