"""What a decoder saw of a message's framing and security, for diagnostics and the UI.

Shared by every family that frames or ciphers its messages (DLMS M-Bus and HDLC pushes, encrypted
P1), and carried by errors, so that a failed message can still be described to the user.
"""

from __future__ import annotations

from typing import NamedTuple

FRAMING_NAMES = {"mbus": "M-Bus", "hdlc": "HDLC", "raw": "raw APDU"}


class FrameInfo(NamedTuple):
    """What the decoder saw of a message, for diagnostics and the UI."""

    framing: str
    """`mbus`, `hdlc` or `raw`."""
    encrypted: bool
    security_control: int | None
    system_title: bytes | None
    manufacturer: str | None
    """From the system title's FLAG id (KFM Kaifa, SAG Sagemcom, LGZ Landis+Gyr, ...)."""
    frame_counter: int | None
    tag_verified: bool
    """True only when the GCM tag was checked with the authentication key."""

    def describe(self) -> str:
        """One line for messages: `M-Bus frame, security control 0x21, system title ...`."""
        parts = [f"{FRAMING_NAMES.get(self.framing, self.framing)} frame"]
        if self.security_control is not None:
            parts.append(f"security control 0x{self.security_control:02X}")
        if self.system_title is not None:
            title = f"system title {title_text(self.system_title)}"
            parts.append(f"{title} ({self.manufacturer})" if self.manufacturer else title)
        if self.frame_counter is not None:
            parts.append(f"frame counter {self.frame_counter}")
        return ", ".join(parts)


def title_text(title: bytes) -> str:
    """A system title as text when it is printable ASCII, else as upper-case hex."""
    if all(0x20 <= byte < 0x7F for byte in title):
        return title.decode("ascii")
    return title.hex().upper()
