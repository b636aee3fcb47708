"""Register maps: every built-in file validates, and broken user files are reported, not raised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custom_components.energy_gateway.meterlib.core import meaning as catalogue
from custom_components.energy_gateway.meterlib.modbus.schema import (
    DataType,
    MapFieldError,
    load_maps,
    parse_map,
)

FAMILIES = {
    "meatrol",
    "eastron_sdm120",
    "eastron_sdm630",
    "eastron_sdm72",
    "carlogavazzi_em24",
    "carlogavazzi_em340",
    "abb_b23_b24",
    "schneider_iem3000",
    "chint_dtsu666",
    "janitza_umg96rm",
    "janitza_b_series",
    "orno_we514_515",
    "orno_we516_517",
    "inepro_pro380",
    "dzg_dvh4013",
}


def _minimal(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "schema": "energy-gateway/modbus-map/1",
        "id": "user_meter",
        "manufacturer": "Acme",
        "name": "Acme AM1",
        "registers": [
            {
                "name": "voltage",
                "obis": "1-0:32.7.0",
                "address": 0,
                "fc": 4,
                "type": "f32",
                "unit": "V",
            },
        ],
    }
    doc.update(changes)
    return doc


def test_builtin_maps_load_without_errors() -> None:
    maps = load_maps()
    assert maps.errors == []
    assert set(maps.maps) == FAMILIES


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_builtin_map_codes_are_known_to_the_catalogue(family: str) -> None:
    meter_map = load_maps().maps[family]
    for spec in meter_map.registers:
        assert catalogue.meaning_of(spec.obis, spec.unit).known, spec.obis
    ident = meter_map.identification
    assert ident.model is not None or ident.probe is not None


def test_identification_of_the_main_families() -> None:
    maps = load_maps().maps
    eastron = maps["eastron_sdm630"].identification
    assert eastron.model is not None
    assert (eastron.model.fc, eastron.model.address) == (3, 0xFC02)
    assert eastron.model.match("112") == "SDM630"
    abb = maps["abb_b23_b24"].identification.model
    assert abb is not None
    assert abb.data_type is DataType.TEXT
    assert abb.match("B23 ") == "B23"
    assert abb.match("X23") is None
    meatrol = maps["meatrol"]
    assert meatrol.identification.serial is not None
    assert meatrol.identification.serial.address == 70
    assert maps["carlogavazzi_em340"].max_registers_per_read == 50


def test_user_map_is_loaded_and_replaces_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "acme.json").write_text(json.dumps(_minimal()))
    maps = load_maps([tmp_path])
    assert maps.errors == []
    assert "user_meter" in maps.maps
    assert set(maps.maps) >= FAMILIES


def test_broken_user_files_are_reported_with_file_and_field(tmp_path: Path) -> None:
    bad_type = _minimal(id="bad_type")
    bad_type["registers"] = [
        {"name": "v", "obis": "1-0:32.7.0", "address": 0, "fc": 4, "type": "float", "unit": "V"}
    ]
    (tmp_path / "a_bad_type.json").write_text(json.dumps(bad_type))
    (tmp_path / "b_not_json.json").write_text("{ nope")
    (tmp_path / "c_good.json").write_text(json.dumps(_minimal(id="good")))
    maps = load_maps([tmp_path])
    assert "good" in maps.maps
    assert "bad_type" not in maps.maps
    by_file = {Path(error.file).name: error for error in maps.errors}
    assert by_file["a_bad_type.json"].field == "registers[0].type"
    assert by_file["b_not_json.json"].field == "-"
    assert "a_bad_type.json: registers[0].type:" in str(by_file["a_bad_type.json"])


def test_missing_user_directory_is_empty_and_a_file_is_an_error(tmp_path: Path) -> None:
    maps = load_maps([tmp_path / "absent"])
    assert maps.errors == []
    assert set(maps.maps) == FAMILIES
    (tmp_path / "file").write_text("")
    maps = load_maps([tmp_path / "file"])
    assert [error.message for error in maps.errors] == ["not a directory"]
    assert set(maps.maps) == FAMILIES


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"schema": "other"}, "schema"),
        ({"id": "Bad Id"}, "id"),
        ({"max_registers_per_read": 126}, "max_registers_per_read"),
        ({"read_holes": "yes"}, "read_holes"),
        ({"registers": []}, "registers"),
        (
            {"registers": [{"name": "v", "obis": "32.7.0", "address": 0, "fc": 4, "type": "f32"}]},
            "registers[0].obis",
        ),
        (
            {
                "registers": [
                    {"name": "v", "obis": "1-0:32.7.0", "address": 0, "fc": 6, "type": "f32"}
                ]
            },
            "registers[0].fc",
        ),
        (
            {
                "registers": [
                    {"name": "v", "obis": "1-0:32.7.0", "address": 70000, "fc": 3, "type": "u16"}
                ]
            },
            "registers[0].address",
        ),
        (
            {
                "registers": [
                    {
                        "name": "v",
                        "obis": "1-0:32.7.0",
                        "address": 0,
                        "fc": 3,
                        "type": "u32",
                        "word_order": "middle",
                    }
                ]
            },
            "registers[0].word_order",
        ),
        (
            {
                "registers": [
                    {
                        "name": "v",
                        "obis": "1-0:32.7.0",
                        "address": 0,
                        "fc": 3,
                        "type": "u32",
                        "scale": 0,
                    }
                ]
            },
            "registers[0].scale",
        ),
        (
            {
                "registers": [
                    {
                        "name": "v",
                        "obis": "1-0:32.7.0",
                        "address": 0,
                        "fc": 3,
                        "type": "u32",
                        "unit": "volts",
                    }
                ]
            },
            "registers[0].unit",
        ),
        (
            {
                "registers": [
                    {
                        "name": "v",
                        "obis": "1-0:32.7.0",
                        "address": 0,
                        "fc": 3,
                        "type": "u32",
                        "count": 4,
                    }
                ]
            },
            "registers[0].count",
        ),
        (
            {
                "registers": [
                    {
                        "name": "v",
                        "obis": "1-0:32.7.0",
                        "address": 0,
                        "fc": 3,
                        "type": "text",
                        "count": 4,
                    }
                ]
            },
            "registers[0].type",
        ),
        (
            {
                "registers": [
                    {"name": "a", "obis": "1-0:32.7.0", "address": 0, "fc": 3, "type": "u32"},
                    {"name": "b", "obis": "1-0:52.7.0", "address": 1, "fc": 3, "type": "u32"},
                ]
            },
            "registers[1].address",
        ),
        (
            {
                "registers": [
                    {"name": "a", "obis": "1-0:32.7.0", "address": 0, "fc": 3, "type": "u32"},
                    {"name": "a", "obis": "1-0:52.7.0", "address": 4, "fc": 3, "type": "u32"},
                ]
            },
            "registers[1].name",
        ),
        (
            {
                "registers": [
                    {"name": "a", "obis": "1-0:32.7.0", "address": 0, "fc": 3, "type": "u32"},
                    {"name": "b", "obis": "1-0:32.7.0", "address": 4, "fc": 3, "type": "u32"},
                ]
            },
            "registers[1].obis",
        ),
        ({"identification": {"probe": "nothing"}}, "identification.probe"),
        (
            {"identification": {"model": {"address": 1, "fc": 3, "type": "u16", "codes": {}}}},
            "identification.model.codes",
        ),
        ({"identification": []}, "identification"),
    ],
)
def test_schema_violations_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(MapFieldError) as caught:
        parse_map(_minimal(**changes), "user.json")
    assert caught.value.field == field


def test_not_an_object() -> None:
    with pytest.raises(MapFieldError):
        parse_map([1, 2], "list.json")
