"""Register maps as data: loading and validating the JSON map files (see maps/SCHEMA.md).

One file per meter family. Built-in maps live in `maps/` beside this module; `load_maps`
also reads the files of user directories. A broken file never stops the others: its problem
is collected as a `MapError` naming the file and the field, and the file is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import itertools
import json
from pathlib import Path
import re
from typing import Final, Literal

from ..core.obis import parse_obis

SCHEMA_ID: Final = "energy-gateway/modbus-map/1"
BUILTIN_DIR: Final = Path(__file__).parent / "maps"
MAX_READ_REGISTERS: Final = 125
"""The protocol's limit for one FC03/FC04 read."""

type WordOrder = Literal["big", "little"]
type FunctionCode = Literal[3, 4]

_MAP_ID: Final = re.compile(r"[a-z0-9_]{1,64}")
_UNITS: Final = frozenset({"W", "kW", "Wh", "kWh", "V", "A", "Hz", "var", "varh", "VA", "VAh"})


class DataType(StrEnum):
    """How the registers of one value are read; the value is the count of registers."""

    U16 = "u16"
    S16 = "s16"
    U32 = "u32"
    S32 = "s32"
    U64 = "u64"
    S64 = "s64"
    F32 = "f32"
    F64 = "f64"
    TEXT = "text"

    @property
    def registers(self) -> int:
        """Registers a value of this type spans (0 for text: the field `count` says)."""
        return _WIDTHS[self]


_WIDTHS: Final = {
    DataType.U16: 1,
    DataType.S16: 1,
    DataType.U32: 2,
    DataType.S32: 2,
    DataType.U64: 4,
    DataType.S64: 4,
    DataType.F32: 2,
    DataType.F64: 4,
    DataType.TEXT: 0,
}


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """One value of a map: where it sits and how to turn its registers into a reading."""

    name: str
    obis: str
    address: int
    """0-based PDU address of the first register."""
    fc: FunctionCode
    data_type: DataType
    count: int
    """Registers the value spans."""
    word_order: WordOrder = "big"
    scale: float = 1.0
    """value = decoded raw * scale."""
    unit: str | None = None

    @property
    def end(self) -> int:
        """First address after this value."""
        return self.address + self.count


@dataclass(frozen=True, slots=True)
class ModelCode:
    """A register whose content names the model, with the codes this family answers."""

    address: int
    fc: FunctionCode
    data_type: DataType
    count: int
    codes: Mapping[str, str]
    """Code as read (decimal for numbers, text prefix for text) → model name."""

    def match(self, code: str) -> str | None:
        """The model name for a code read from the meter, or None."""
        if self.data_type is DataType.TEXT:
            text = code.strip()
            return next((name for key, name in self.codes.items() if text.startswith(key)), None)
        return self.codes.get(code)


@dataclass(frozen=True, slots=True)
class Identification:
    """How a scan recognises this family: model-code register, serial, plausibility probe."""

    model: ModelCode | None = None
    serial: RegisterSpec | None = None
    probe: RegisterSpec | None = None
    """A voltage register a live meter of this family answers with 110/230 V ± 10 %."""
    probe_priority: int = 100
    """Order among the plausibility probes: the lower, the earlier."""


@dataclass(frozen=True, slots=True)
class MeterMap:
    """The register map of one meter family."""

    id: str
    manufacturer: str
    name: str
    registers: tuple[RegisterSpec, ...]
    identification: Identification
    max_registers_per_read: int = MAX_READ_REGISTERS
    read_holes: bool = True
    """True when one read may span registers the map does not list."""
    invalid_all_ones: bool = False
    """True when all-ones raw values (and 0x7FFF… for signed types) mark an invalid value."""
    source: str = ""
    """File the map came from."""


@dataclass(frozen=True, slots=True)
class MapError:
    """A map file that could not be used, with the field at fault."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


@dataclass(slots=True)
class MapCatalogue:
    """Every usable map by id, plus the problems of the files that were left out."""

    maps: dict[str, MeterMap] = field(default_factory=dict)
    errors: list[MapError] = field(default_factory=list)


class MapFieldError(ValueError):
    """A map file breaks the schema at `field`."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field = field_path
        self.message = message


def load_maps(extra_dirs: Iterable[Path | str] = ()) -> MapCatalogue:
    """Load the built-in maps and every `*.json` of `extra_dirs` (a user map replaces the
    built-in map of the same id); errors are collected, never raised. A user directory that
    does not exist is simply empty: it is optional."""
    catalogue = MapCatalogue()
    for directory in (BUILTIN_DIR, *map(Path, extra_dirs)):
        if not directory.exists():
            continue
        if not directory.is_dir():
            catalogue.errors.append(MapError(str(directory), "-", "not a directory"))
            continue
        for path in sorted(directory.glob("*.json")):
            try:
                meter_map = load_map_file(path)
            except MapFieldError as err:
                catalogue.errors.append(MapError(str(path), err.field, err.message))
                continue
            catalogue.maps[meter_map.id] = meter_map
    return catalogue


def load_map_file(path: Path) -> MeterMap:
    """Read and validate one map file; raise `MapFieldError` naming the field at fault."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise MapFieldError("-", f"cannot read: {err.strerror or err}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise MapFieldError("-", f"not valid JSON: {err}") from None
    return parse_map(data, str(path))


def parse_map(data: object, source: str = "") -> MeterMap:
    """Validate a decoded map document; raise `MapFieldError` naming the field at fault."""
    doc = _object(data, "")
    if doc.get("schema") != SCHEMA_ID:
        raise MapFieldError("schema", f"must be {SCHEMA_ID!r}")
    map_id = _string(doc, "id", "")
    if not _MAP_ID.fullmatch(map_id):
        raise MapFieldError("id", "lower-case letters, digits and _ only")
    max_read = _integer(
        doc, "max_registers_per_read", "", 1, MAX_READ_REGISTERS, default=MAX_READ_REGISTERS
    )
    raw_registers = doc.get("registers")
    if not isinstance(raw_registers, list) or not raw_registers:
        raise MapFieldError("registers", "must be a non-empty list")
    registers = tuple(
        _register(item, f"registers[{index}]", text_allowed=False)
        for index, item in enumerate(raw_registers)
    )
    _check_layout(registers, max_read)
    return MeterMap(
        id=map_id,
        manufacturer=_string(doc, "manufacturer", ""),
        name=_string(doc, "name", ""),
        registers=registers,
        identification=_identification(doc.get("identification"), registers),
        max_registers_per_read=max_read,
        read_holes=_boolean(doc, "read_holes", "", default=True),
        invalid_all_ones=_boolean(doc, "invalid_all_ones", "", default=False),
        source=source,
    )


def _check_layout(registers: tuple[RegisterSpec, ...], max_read: int) -> None:
    names: set[str] = set()
    codes: set[str] = set()
    for index, spec in enumerate(registers):
        if spec.name in names:
            raise MapFieldError(f"registers[{index}].name", f"duplicate name {spec.name!r}")
        if spec.obis in codes:  # one reading per code: a second would overwrite the first
            raise MapFieldError(f"registers[{index}].obis", f"duplicate code {spec.obis!r}")
        names.add(spec.name)
        codes.add(spec.obis)
        if spec.count > max_read:
            raise MapFieldError(f"registers[{index}]", "wider than max_registers_per_read")
    ordered = sorted(enumerate(registers), key=lambda item: (item[1].fc, item[1].address))
    for (_, before), (index, after) in itertools.pairwise(ordered):
        if before.fc == after.fc and after.address < before.end:
            raise MapFieldError(
                f"registers[{index}].address", f"overlaps {before.name!r} at {before.address}"
            )


def _identification(data: object, registers: tuple[RegisterSpec, ...]) -> Identification:
    if data is None:
        return Identification()
    doc = _object(data, "identification")
    model = None
    if doc.get("model") is not None:
        model = _model_code(_object(doc["model"], "identification.model"))
    serial = None
    if doc.get("serial") is not None:
        serial_doc = _object(doc["serial"], "identification.serial")
        serial_doc = {"name": "serial", "obis": "0-0:96.1.0", **serial_doc}
        serial = _register(serial_doc, "identification.serial", text_allowed=True)
    probe = None
    if doc.get("probe") is not None:
        probe_name = _string(doc, "probe", "identification")
        probe = next((spec for spec in registers if spec.name == probe_name), None)
        if probe is None or probe.unit != "V":
            raise MapFieldError("identification.probe", "must name a voltage register (unit V)")
    priority = _integer(doc, "probe_priority", "identification", 0, 10_000, default=100)
    return Identification(model=model, serial=serial, probe=probe, probe_priority=priority)


def _model_code(doc: dict[str, object]) -> ModelCode:
    where = "identification.model"
    data_type = _data_type(doc, where)
    count = _count(doc, where, data_type)
    codes = _object(doc.get("codes"), f"{where}.codes")
    if not codes or not all(isinstance(name, str) for name in codes.values()):
        raise MapFieldError(f"{where}.codes", "must map codes to model names")
    return ModelCode(
        address=_integer(doc, "address", where, 0, 0xFFFF),
        fc=_function_code(doc, where),
        data_type=data_type,
        count=count,
        codes={str(code): str(name) for code, name in codes.items()},
    )


def _register(data: object, where: str, *, text_allowed: bool) -> RegisterSpec:
    doc = _object(data, where)
    data_type = _data_type(doc, where)
    if data_type is DataType.TEXT and not text_allowed:
        raise MapFieldError(f"{where}.type", "text is only allowed for identification")
    obis = _string(doc, "obis", where)
    if parse_obis(obis) is None:
        raise MapFieldError(f"{where}.obis", f"not a reduced OBIS code A-B:C.D.E: {obis!r}")
    word_order = doc.get("word_order", "big")
    if word_order not in ("big", "little"):
        raise MapFieldError(f"{where}.word_order", "must be 'big' or 'little'")
    scale = doc.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale:
        raise MapFieldError(f"{where}.scale", "must be a non-zero number")
    unit = doc.get("unit")
    if unit is not None and unit not in _UNITS:
        raise MapFieldError(f"{where}.unit", f"unknown unit {unit!r}")
    count = _count(doc, where, data_type)
    address = _integer(doc, "address", where, 0, 0xFFFF)
    if address + count > 0x10000:
        raise MapFieldError(f"{where}.address", "runs past register 65535")
    return RegisterSpec(
        name=_string(doc, "name", where),
        obis=obis,
        address=address,
        fc=_function_code(doc, where),
        data_type=data_type,
        count=count,
        word_order="little" if word_order == "little" else "big",
        scale=float(scale),
        unit=unit,
    )


def _object(data: object, where: str) -> dict[str, object]:
    if not isinstance(data, dict):
        raise MapFieldError(where or "-", "must be a JSON object")
    return data


def _string(doc: Mapping[str, object], key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise MapFieldError(_path(where, key), "must be a non-empty string")
    return value


def _boolean(doc: Mapping[str, object], key: str, where: str, *, default: bool) -> bool:
    value = doc.get(key, default)
    if not isinstance(value, bool):
        raise MapFieldError(_path(where, key), "must be true or false")
    return value


def _integer(
    doc: Mapping[str, object],
    key: str,
    where: str,
    low: int,
    high: int,
    *,
    default: int | None = None,
) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MapFieldError(_path(where, key), f"must be an integer {low}..{high}")
    return value


def _function_code(doc: Mapping[str, object], where: str) -> FunctionCode:
    value = doc.get("fc")
    if value == 3:
        return 3
    if value == 4:
        return 4
    raise MapFieldError(_path(where, "fc"), "must be 3 (holding) or 4 (input registers)")


def _data_type(doc: Mapping[str, object], where: str) -> DataType:
    try:
        return DataType(str(doc.get("type")))
    except ValueError:
        names = ", ".join(member.value for member in DataType)
        raise MapFieldError(_path(where, "type"), f"must be one of {names}") from None


def _count(doc: Mapping[str, object], where: str, data_type: DataType) -> int:
    if data_type is DataType.TEXT:
        return _integer(doc, "count", where, 1, MAX_READ_REGISTERS)
    if "count" in doc and doc["count"] != data_type.registers:
        raise MapFieldError(_path(where, "count"), f"{data_type} spans {data_type.registers}")
    return data_type.registers


def _path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
