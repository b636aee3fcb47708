"""Key entry: ASCII, hex, 0x prefix, trailing 00, and readable refusals."""

from __future__ import annotations

import pytest

from custom_components.energy_gateway.meterlib.mep import interpret_key, parse_key

ASCII_KEY = "Xtz;~,hVVyOE@KyrOiV+"
HEX_KEY = "58747A3B7E2C685656794F45404B79724F69562B"
KEY_BYTES = b"Xtz;~,hVVyOE@Kyr"


@pytest.mark.parametrize(
    ("text", "form"),
    [
        (ASCII_KEY, "ascii"),
        (ASCII_KEY[:16], "ascii"),
        (f"  {ASCII_KEY}\n", "ascii"),
        (HEX_KEY, "hex"),
        (HEX_KEY.lower(), "hex"),
        (HEX_KEY[:32], "hex"),
        (f"0x{HEX_KEY}", "hex"),
        (f"0X{HEX_KEY}00", "hex"),
        (f"{HEX_KEY}00", "hex"),
    ],
)
def test_accepted_forms(text: str, form: str) -> None:
    assert interpret_key(text) == (KEY_BYTES, form)
    assert parse_key(text) == KEY_BYTES


def test_last_four_ascii_characters_do_not_matter() -> None:
    assert parse_key(ASCII_KEY[:16] + "abcd") == parse_key(ASCII_KEY)


def test_twenty_hex_looking_characters_are_ascii() -> None:
    assert parse_key("0123456789abcdef0123") == b"0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "20 characters"),
        ("short", "this one has 5 characters"),
        (HEX_KEY[:39], "this one has 39 characters"),
        ("0x" + "G" * 40, "hex digits"),
        ("Xtz;~,hVVyOE@KyrOi\u00e9+", "not printable ASCII"),
        ("Xtz;~,hVVyOE@KyrOi\t+", "not printable ASCII"),
    ],
)
def test_refusals_say_why_without_the_key(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_key(text)
    if len(text) > 4:
        assert text.strip() not in str(caught.value)
