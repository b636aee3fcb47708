"""Manufacturer names from the FLAG ids that start P1 headers and DLMS system titles."""

from __future__ import annotations

# A subset of the FLAG association's register: the manufacturers whose meters are sold
# with the interfaces this library reads.
_FLAG_IDS: dict[str, str] = {
    "AUX": "Ningbo Sanxing",
    "EHL": "EasyMeter",
    "ELL": "Elster",
    "ELS": "Elster",
    "ESY": "EasyMeter",
    "EST": "Sagemcom",
    "FLU": "Fluvius",
    "ISK": "Iskraemeco",
    "KAM": "Kamstrup",
    "KFM": "Kaifa",
    "LGB": "Landis+Gyr",
    "LGF": "Landis+Gyr",
    "LGZ": "Landis+Gyr",
    "NWA": "NWA",
    "SAG": "Sagemcom",
    "SMR": "Sagemcom",
    "XMX": "Landis+Gyr",
    "ZIV": "ZIV",
}


def manufacturer_from_flag(text: str | None) -> str | None:
    """Manufacturer for the FLAG id at the start of `text` (a P1 header or a system title)."""
    if not text or len(text) < 3:
        return None
    return _FLAG_IDS.get(text[:3].upper())
