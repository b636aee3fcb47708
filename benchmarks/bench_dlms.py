"""DLMS/COSEM push decoding: ours (`decode_message`) against dlms-cosem 21.3.2 and gurux-dlms.

Each figure is the CPU time to turn one whole capture (the wire bytes as they arrive, every
frame of it) into OBIS-keyed, scaled values: link framing and its checksums, reassembly,
decryption (and the GCM tag where the frame has one), the data-notification and its A-XDR body.
Ours returns a `Snapshot`; each anchor's result is mapped to the same `{OBIS: value}` dict by
`_obis_values` (scaler applied), a cost counted against the anchor as for us.

Frames (tests/fixtures/dlms/, keys as in dlms_vectors.json there):

* `dlms_netznoe_mbus`: Netz NÖ example, two wired M-Bus frames, 282 B, SC 0x20 (AES-CTR, no tag).
* `dlms_kamstrup_hdlc_tag`: Kamstrup Omnipower, one HDLC frame, 491 B, SC 0x30, EK + AK.
* `dlms_aidon_hdlc`: Aidon 3-phase list, one plain HDLC frame, 581 B.
* `dlms_push_list_hdlc_gbt_tag`: a Landis+Gyr E450/E570 push that opens with its own
  push-object list (Swiss configurations), from the simulator (`SimulatedPushListMeter`, fixed
  keys and time): three HDLC frames of General Block Transfer, SC 0x30, EK + AK; 15 values.
  `dlms_push_list_hdlc_gbt_tag_stream` is the same capture on one running decoder.

Which anchor decodes which frame (each was checked against the published values before timing):

* dlms-cosem 21.3.2 (the last MIT release) decodes the Aidon frame with its public API. It
  cannot decode the Netz NÖ capture: it has no M-Bus framing, and its cipher always strips and
  checks a 12-byte tag, so SC 0x20 frames fail. It cannot decode the Kamstrup frame either: HDLC
  and the tag-checked decryption work, but its A-XDR parser raises NotImplementedError on the
  visible-string (tag 0x0A) that opens the body (`Kamstrup_V0001`).
* dlms-cosem 21.3.2 cannot decode the push-object-list capture: it has no General Block
  Transfer.
* gurux-dlms decodes all four. Netz NÖ in WIRED_MBUS mode needs one M-Bus frame per
  `getData` call (given a whole capture it stops after the first frame: it does not step over
  the checksum and stop byte); we split the capture at the L field for it, and HDLC captures
  at their frame lengths. For the push-object list it returns the body as nested lists; the
  values are mapped to codes through the list in the frame (`_push_list_values`). Caveat: on
  decryption gurux computes the GCM tag but does not compare it (its decrypt path builds the GCM
  stream in encrypt mode), so it accepts a wrong AK: its Kamstrup figure includes the tag's
  cost but not a real tag check. It prints a line per decrypted frame; stdout is sent to a sink
  while it runs (the print stays in its time).

Our figures decode each capture with `decode_message`: a fresh decoder every time, so its
set-up (framers, the keystream context: about 10 us, more with cold caches) is in every
figure. `dlms_netznoe_mbus_stream` is the same capture fed again and again to one running
decoder, as frames reach the integration; gurux's client is built once in every figure, so
this one compares like with like.

`dlms_netznoe_mbus_cosem_assisted` is an extra, clearly partial anchor for the Netz NÖ frame:
dlms-cosem's own APDU, data-notification and A-XDR parsing, with the M-Bus reassembly and the
AES-CTR decryption it lacks written here by hand (a fast lower bound of what dlms-cosem costs).

Method: CPU time (`time.process_time`), garbage collector off while timing (`timeit` does
that), every decoder built once and warmed up; each figure is the mean time per call in the
best of many short repeats (see timing.py). Per-library times go to stderr. The module runs
in about 10 s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import importlib.metadata
import io
import math
from pathlib import Path
import sys
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from dlms_cosem.connection import XDlmsApduFactory
from dlms_cosem.dlms_data import DlmsDataParser
from dlms_cosem.hdlc.frames import UnnumberedInformationFrame
from dlms_cosem.protocol.xdlms import DataNotification, GeneralGlobalCipher
from gurux_dlms import GXByteBuffer, GXReplyData
from gurux_dlms.enums import InterfaceType, Security
from gurux_dlms.secure import GXDLMSSecureClient
from timing import best_us

from custom_components.energy_gateway.meterlib.core.model import Snapshot
from custom_components.energy_gateway.meterlib.dlms import DlmsDecoder, decode_message
from simulators.dlms_meter import SimulatedPushListMeter

ROOT = Path(__file__).resolve().parent.parent
VECTOR_DIR = ROOT / "tests" / "fixtures" / "dlms"
COSEM = f"dlms-cosem {importlib.metadata.version('dlms-cosem')}"
GURUX = f"gurux-dlms {importlib.metadata.version('gurux-dlms')}"
LLC = b"\xe6\xe7\x00"

type Values = dict[str, Any]
type Decode = Callable[[], Values]


@dataclass(frozen=True, slots=True)
class Frame:
    """One capture, its keys and a few published values every decoder must reproduce."""

    name: str
    file: str
    key: bytes | None
    auth_key: bytes | None
    expected: dict[str, float]
    ours_only: dict[str, float] | None = None
    anchors_only: dict[str, float] | None = None


NETZNOE = Frame(
    "dlms_netznoe_mbus",
    "at_netznoe_kaifa_ma309m_evn_doc_example.hex",
    bytes.fromhex("36C66639E48A8CA4D6BC8B282A793BBB"),
    None,
    {"1-0:1.8.0": 12937, "1-0:32.7.0": 233.7, "1-0:13.7.0": 1.0, "1-0:1.7.0": 0},
)
KAMSTRUP = Frame(
    "dlms_kamstrup_hdlc_tag",
    "hdlc_kamstrup_omnipower.hex",
    bytes.fromhex("00112233445566778899AABBCCDDEEFF"),
    bytes.fromhex("FFEEDDCCBBAA99887766554433221100"),
    {"1-1:1.7.0": 1083, "1-1:4.7.0": 718, "1-1:32.7.0": 222, "1-1:72.7.0": 227},
    # Ours applies the Kamstrup list's fixed scaling (energy registers count 10 Wh); the
    # anchors return the raw integers the meter sends.
    ours_only={"1-1:1.8.0": 63074980, "1-1:61.8.0": 26876440, "1-1:31.7.0": 0.57},
    anchors_only={"1-1:1.8.0": 6307498, "1-1:61.8.0": 2687644, "1-1:31.7.0": 57},
)
AIDON = Frame(
    "dlms_aidon_hdlc",
    "hdlc_norway_han_3phase.hex",
    None,
    None,
    {"1-0:1.8.0": 10049926, "1-0:3.7.0": 1507, "1-0:51.7.0": 7.5, "1-0:52.7.0": 249.9},
)


_PUSH_METER = SimulatedPushListMeter(
    key=bytes.fromhex("0F1E2D3C4B5A69788796A5B4C3D2E1F0"),
    auth_key=bytes.fromhex("A5B4C3D2E1F00F1E2D3C4B5A69788796"),
    meter_number="CH1000000042",
    seed=11,
)
_PUSH_CAPTURE = _PUSH_METER.frames(datetime(2024, 6, 12, 10, 0, tzinfo=UTC))
_PUSH_VALUES = {
    code: value for code, value in _PUSH_METER.reported.items() if isinstance(value, float)
}
_PUSH_UNSCALED = ("1-1:1.8.0", "1-1:2.8.0", "1-0:1.7.0", "1-0:2.7.0", "1-0:32.7.0", "1-0:72.7.0")
_PUSH_CURRENTS = ("1-0:31.7.0", "1-0:71.7.0")
PUSH_LIST = Frame(
    "dlms_push_list_hdlc_gbt_tag",
    "",
    _PUSH_METER.key,
    _PUSH_METER.auth_key,
    {code: _PUSH_VALUES[code] for code in _PUSH_UNSCALED},
    # Ours scales the currents by the default table (hundredths of an ampere); the anchor
    # returns the raw integers the meter sends.
    ours_only={code: _PUSH_VALUES[code] for code in _PUSH_CURRENTS},
    anchors_only={code: round(_PUSH_VALUES[code] * 100) for code in _PUSH_CURRENTS},
)
PUSH_LIST_STREAM = "dlms_push_list_hdlc_gbt_tag_stream"
NETZNOE_STREAM = "dlms_netznoe_mbus_stream"


def _capture(frame: Frame) -> bytes:
    if frame is PUSH_LIST:
        return _PUSH_CAPTURE
    return bytes.fromhex((VECTOR_DIR / frame.file).read_text().strip())


# --- mapping a library's decoded body to {OBIS: scaled value} -------------------------------


def _obis_values(items: Sequence[Any], out: Values | None = None) -> Values:
    """Walk a decoded A-XDR body: (OBIS, value[, (scaler, unit)]) runs, flat or nested."""
    if out is None:
        out = {}
    index, count = 0, len(items)
    while index < count:
        item = items[index]
        index += 1
        if isinstance(item, list):
            _obis_values(item, out)
        elif isinstance(item, bytes | bytearray) and len(item) == 6 and index < count:
            value = items[index]
            index += 1
            if index < count:
                scaler_unit = items[index]
                if (
                    isinstance(scaler_unit, list)
                    and len(scaler_unit) == 2
                    and isinstance(scaler_unit[0], int)
                    and isinstance(value, int)
                ):
                    index += 1
                    scaler = scaler_unit[0]
                    value = value / 10**-scaler if scaler < 0 else value * 10**scaler
            out[f"{item[0]}-{item[1]}:{item[2]}.{item[3]}.{item[4]}"] = value
    return out


def _push_list_values(items: Sequence[Any]) -> Values:
    """A body that opens with its push-object list: each attribute-2 value under the code
    its entry gives (raw, as the anchor returns it)."""
    out: Values = {}
    for (_, name, attribute, _), value in zip(items[0], items, strict=True):
        if attribute == 2 and not isinstance(value, list):
            out[f"{name[0]}-{name[1]}:{name[2]}.{name[3]}.{name[4]}"] = value
    return out


# --- dlms-cosem ----------------------------------------------------------------------------


def _cosem_hdlc_plain(data: bytes) -> Decode:
    """dlms-cosem: HDLC UI frame (HCS/FCS checked), LLC, data-notification, A-XDR."""

    def decode() -> Values:
        payload = UnnumberedInformationFrame.from_bytes(data).payload
        if payload[:3] != LLC:
            raise ValueError("no LLC header")
        apdu = XDlmsApduFactory.apdu_from_bytes(payload[3:])
        body = DlmsDataParser().parse(apdu.body)
        return _obis_values([entry.to_python() for entry in body])

    return decode


def _mbus_join(data: bytes) -> bytes:
    """Join the data fields of consecutive M-Bus long frames (hand-written: dlms-cosem has none)."""
    joined = bytearray()
    pos = 0
    while pos < len(data):
        length = data[pos + 1]
        frame = data[pos : pos + length + 6]
        if (
            frame[0] != 0x68
            or frame[2] != length
            or frame[3] != 0x68
            or frame[-1] != 0x16
            or sum(frame[4:-2]) & 0xFF != frame[-2]
        ):
            raise ValueError("bad M-Bus frame")
        joined += frame[9:-2]
        pos += length + 6
    return bytes(joined)


def _cosem_mbus_assisted(data: bytes, key: bytes) -> Decode:
    """dlms-cosem's APDU and A-XDR parsing around a hand-made M-Bus join and AES-CTR."""
    aes = algorithms.AES(key)

    def decode() -> Values:
        cipher = GeneralGlobalCipher.from_bytes(_mbus_join(data))
        counter_block = (
            cipher.system_title + cipher.invocation_counter.to_bytes(4, "big") + b"\0\0\0\2"
        )
        decryptor = Cipher(aes, modes.CTR(counter_block)).decryptor()
        plain = decryptor.update(cipher.ciphered_text) + decryptor.finalize()
        notification = DataNotification.from_bytes(plain)
        body = DlmsDataParser().parse(notification.body)
        return _obis_values([entry.to_python() for entry in body])

    return decode


# --- gurux-dlms ----------------------------------------------------------------------------


def _gurux_client(interface: int, key: bytes | None, auth_key: bytes | None) -> Any:
    client = GXDLMSSecureClient(True, interfaceType=interface)
    if key is not None:
        client.ciphering.security = (
            Security.ENCRYPTION if auth_key is None else Security.AUTHENTICATION_ENCRYPTION
        )
        client.ciphering.blockCipherKey = bytearray(key)
        if auth_key is not None:
            client.ciphering.authenticationKey = bytearray(auth_key)
    return client


def _mbus_frames(data: bytes) -> list[bytes]:
    frames, pos = [], 0
    while pos < len(data):
        end = pos + data[pos + 1] + 6
        frames.append(data[pos:end])
        pos = end
    return frames


def _hdlc_frames(data: bytes) -> list[bytes]:
    frames, pos = [], 0
    while pos < len(data):
        end = pos + (int.from_bytes(data[pos + 1 : pos + 3], "big") & 0x7FF) + 2
        frames.append(data[pos:end])
        pos = end
    return frames


def _gurux(
    data: bytes,
    interface: int,
    key: bytes | None,
    auth_key: bytes | None,
    values: Callable[[Sequence[Any]], Values] = _obis_values,
) -> Decode:
    """gurux-dlms: GXDLMSClient.getData, the push (notify) reply, one frame per call."""
    client = _gurux_client(interface, key, auth_key)
    frames = _mbus_frames(data) if interface == InterfaceType.WIRED_MBUS else _hdlc_frames(data)

    def decode() -> Values:
        reply, notify = GXReplyData(), GXReplyData()
        for frame in frames:
            client.getData(GXByteBuffer(frame), reply, notify)
        if not notify.complete or notify.value is None:
            raise ValueError("gurux returned no notification")
        return values(notify.value)

    return decode


class _Sink(io.TextIOBase):
    """Swallows what gurux prints ("Encryption is applied.") while it is measured."""

    def write(self, text: str) -> int:
        return len(text)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with contextlib.redirect_stdout(_Sink()):
        yield


# --- ours ----------------------------------------------------------------------------------


def _ours(data: bytes, frame: Frame) -> Callable[[], Snapshot]:
    """One capture decoded on its own: a fresh decoder (cipher set-up included) each time."""
    return lambda: decode_message(data, key=frame.key, auth_key=frame.auth_key)


def _ours_stream(data: bytes, frame: Frame) -> Callable[[], Snapshot]:
    """The capture arriving again and again on one running decoder, as on a meter's link.

    (The repeated frame counter only bumps the decoder's replay count.)
    """
    decoder = DlmsDecoder(key=frame.key, auth_key=frame.auth_key)

    def decode() -> Snapshot:
        (snapshot,) = decoder.feed(data)
        if not isinstance(snapshot, Snapshot):
            raise snapshot
        return snapshot

    return decode


def _our_values(snapshot: Snapshot) -> Values:
    return {obis: reading.value for obis, reading in snapshot.readings.items()}


# --- measuring -----------------------------------------------------------------------------


def _check(who: str, frame: Frame, values: Values) -> None:
    extra = frame.ours_only if who == "ours" else frame.anchors_only
    for obis, expected in (frame.expected | (extra or {})).items():
        got = values.get(obis)
        if not isinstance(got, int | float) or not math.isclose(got, expected, abs_tol=1e-9):
            raise AssertionError(f"{who} decodes {frame.name} {obis} as {got!r}, not {expected}")


def _figure(
    frame: Frame, ours: Callable[[], Snapshot], anchors: dict[str, Decode]
) -> dict[str, object]:
    """Check every decoder once, time them all, compare ours with the fastest anchor."""
    snapshot = ours()
    _check("ours", frame, _our_values(snapshot))
    ours_us = best_us(ours)
    times: dict[str, float] = {}
    for label, decode in anchors.items():
        with _quiet():
            values = decode()
            _check(label, frame, values)
            times[label] = best_us(decode)
    detail = "; ".join(f"{label} {us:.1f} us" for label, us in times.items())
    print(f"bench_dlms: {frame.name}: ours {ours_us:.1f} us; {detail}", file=sys.stderr)
    anchor = min(times, key=times.__getitem__)
    return {
        "name": frame.name,
        "unit": "us",
        "ours": round(ours_us, 1),
        "anchor": anchor,
        "anchor_value": round(times[anchor], 1),
    }


def _netznoe(name: str) -> dict[str, object]:
    data = _capture(NETZNOE)
    assert NETZNOE.key is not None
    # dlms-cosem cannot decode this capture (no M-Bus framing, no untagged SC 0x20).
    gurux = {f"{GURUX} WIRED_MBUS": _gurux(data, InterfaceType.WIRED_MBUS, NETZNOE.key, None)}
    if name == NETZNOE.name:
        return _figure(NETZNOE, _ours(data, NETZNOE), gurux)
    if name == NETZNOE_STREAM:
        return {**_figure(NETZNOE, _ours_stream(data, NETZNOE), gurux), "name": name}
    label = f"{COSEM} APDU + A-XDR (M-Bus join, AES-CTR by hand: it has neither)"
    figure = _figure(
        NETZNOE, _ours(data, NETZNOE), {label: _cosem_mbus_assisted(data, NETZNOE.key)}
    )
    return {**figure, "name": name}


def _kamstrup() -> dict[str, object]:
    data = _capture(KAMSTRUP)
    # dlms-cosem cannot decode this frame (visible-string in the body: NotImplementedError).
    anchors = {
        f"{GURUX} HDLC (tag computed, not compared)": _gurux(
            data, InterfaceType.HDLC, KAMSTRUP.key, KAMSTRUP.auth_key
        )
    }
    return _figure(KAMSTRUP, _ours(data, KAMSTRUP), anchors)


def _aidon() -> dict[str, object]:
    data = _capture(AIDON)
    anchors = {
        f"{COSEM} HDLC": _cosem_hdlc_plain(data),
        f"{GURUX} HDLC": _gurux(data, InterfaceType.HDLC, None, None),
    }
    return _figure(AIDON, _ours(data, AIDON), anchors)


def _push_list(name: str) -> dict[str, object]:
    data = _capture(PUSH_LIST)
    # dlms-cosem cannot decode this capture (no General Block Transfer).
    anchors = {
        f"{GURUX} HDLC + GBT (tag computed, not compared)": _gurux(
            data, InterfaceType.HDLC, PUSH_LIST.key, PUSH_LIST.auth_key, _push_list_values
        )
    }
    if name == PUSH_LIST_STREAM:
        return {**_figure(PUSH_LIST, _ours_stream(data, PUSH_LIST), anchors), "name": name}
    return _figure(PUSH_LIST, _ours(data, PUSH_LIST), anchors)


def figures(wanted: Callable[[str], bool]) -> list[dict[str, object]]:
    """The DLMS figures the runner asked for."""
    measures: list[tuple[str, Callable[[], dict[str, object]]]] = [
        (NETZNOE.name, lambda: _netznoe(NETZNOE.name)),
        (NETZNOE_STREAM, lambda: _netznoe(NETZNOE_STREAM)),
        ("dlms_netznoe_mbus_cosem_assisted", lambda: _netznoe("dlms_netznoe_mbus_cosem_assisted")),
        (KAMSTRUP.name, _kamstrup),
        (AIDON.name, _aidon),
        (PUSH_LIST.name, lambda: _push_list(PUSH_LIST.name)),
        (PUSH_LIST_STREAM, lambda: _push_list(PUSH_LIST_STREAM)),
    ]
    return [measure() for name, measure in measures if wanted(name)]
