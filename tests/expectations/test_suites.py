"""Suites are derived from the catalog, trace back to it, and keep hand-written overrides across regeneration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from govhub.catalog.load import load_catalog
from govhub.config import get_settings
from govhub.expectations.evaluate import SUPPORTED
from govhub.expectations.suites import build_suite, overrides_path, write_suites
from govhub.problems import GovhubError
from tests.expectations.corpus import licence_resource

REPO_CATALOG = Path(__file__).resolve().parents[2] / "catalog"


def kinds(suite: dict, column: str) -> list[str]:
    return [e["type"] for e in suite["expectations"] if e["kwargs"].get("column") == column]


def test_suite_of_a_resource_built_in_code_covers_every_catalog_element() -> None:
    suite = build_suite(licence_resource(primary_key=["uscc", "permit_no"]))
    assert suite["name"] == "scjgj.licences"
    first = suite["expectations"][0]
    assert first["type"] == "expect_table_columns_to_match_set"
    assert first["kwargs"]["column_set"][:2] == ["permit_no", "uscc"]
    assert kinds(suite, "permit_no") == [
        "expect_column_values_to_be_in_type_list",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_match_regex",
    ]
    assert "expect_column_values_to_be_valid_uscc" in kinds(suite, "uscc")
    assert "expect_column_values_to_be_valid_cn_id" in kinds(suite, "legal_person_id")
    assert "expect_column_values_to_be_valid_admin_division" in kinds(suite, "town_code")
    assert "expect_column_values_to_be_valid_cn_mobile" in kinds(suite, "mobile")
    assert "expect_column_value_lengths_to_be_between" in kinds(suite, "holder")
    for column in ("phone", "email", "postal_code"):
        assert kinds(suite, column)[-1] == "expect_column_values_to_match_regex"
    by_type = {(e["type"], e["kwargs"].get("column")): e for e in suite["expectations"]}
    assert by_type[("expect_column_values_to_be_between", "staff")]["kwargs"] == {
        "column": "staff",
        "min_value": 0.0,
        "max_value": 5000.0,
    }
    assert (
        by_type[("expect_column_values_to_be_between", "longitude")]["meta"]["catalog"]
        == "fields[11].semantic"
    )
    assert by_type[("expect_column_values_to_be_in_set", "category")]["meta"]["catalog"] == "fields[9].enum"
    assert (
        by_type[("expect_column_values_to_be_in_type_list", "issued_on")]["kwargs"]["type_list"][0] == "DATE"
    )
    last = suite["expectations"][-1]
    assert last["type"] == "expect_compound_columns_to_be_unique"
    assert last["kwargs"] == {"column_list": ["uscc", "permit_no"]}
    assert all(e["meta"]["catalog"] for e in suite["expectations"])
    json.dumps(suite, ensure_ascii=False)  # JSON-able


def test_every_demo_resource_gets_a_suite_the_fast_path_can_evaluate() -> None:
    catalog, problems = load_catalog(REPO_CATALOG)
    assert not problems, problems[:3]
    assert len(catalog.resources) >= 12
    for resource in catalog.resources:
        suite = build_suite(resource)
        assert suite["name"] == f"{resource.agency}.{resource.id}"
        assert {e["type"] for e in suite["expectations"]} <= SUPPORTED
        not_null = {e["kwargs"]["column"] for e in suite["expectations"] if e["type"].endswith("not_be_null")}
        assert not_null == {f.name for f in resource.fields if f.required}
    semantic = {e["type"] for r in catalog.resources for e in build_suite(r)["expectations"]}
    assert {"expect_column_values_to_be_valid_cn_id", "expect_column_values_to_be_valid_uscc"} <= semantic


OVERRIDES = {
    "add": [
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "holder", "regex": "(店|公司|食堂)$"},
            "meta": {"note": "经营者名称须以店、公司或食堂结尾"},
        }
    ],
    "drop": [{"type": "expect_column_values_to_be_in_set", "column": "category"}],
    "change": [
        {"type": "expect_column_values_to_be_valid_cn_mobile", "column": "mobile", "kwargs": {"mostly": 0.95}}
    ],
}


def write_catalog_with_overrides(root: Path) -> None:
    resource = licence_resource()
    (root / "scjgj").mkdir(parents=True)
    agencies = {
        "agencies": [
            {
                "id": "scjgj",
                "name": "松江区市场监管局",
                "uscc": "11310117MB2F12345X",
                "steward": {"name": "李静"},
            }
        ]
    }
    (root / "agencies.yaml").write_text(yaml.safe_dump(agencies, allow_unicode=True), encoding="utf-8")
    data = resource.model_dump(mode="json", by_alias=True, exclude_none=True)
    (root / "scjgj" / "licences.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    path = overrides_path(root, resource)
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(OVERRIDES, allow_unicode=True), encoding="utf-8")


def test_overrides_survive_regeneration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path / "home"))
    write_catalog_with_overrides(tmp_path / "catalog")
    settings = get_settings(catalog=tmp_path / "catalog")
    catalog, problems = load_catalog(settings.catalog_dir)
    assert catalog.resources, problems
    for _ in range(2):  # regenerate twice: the override applies each time, never twice
        (path,) = write_suites(settings, catalog)
        assert path == tmp_path / "home" / "expectations" / "suites" / "scjgj" / "licences.json"
        suite = json.loads(path.read_text(encoding="utf-8"))
        assert "expect_column_values_to_be_in_set" not in kinds(suite, "category")
        mobile = [
            e for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_valid_cn_mobile"
        ]
        assert mobile[0]["kwargs"]["mostly"] == 0.95 and mobile[0]["meta"]["override"] == "change"
        added = [e for e in suite["expectations"] if e["meta"].get("override") == "add"]
        assert len(added) == 1 and added[0]["kwargs"]["regex"] == "(店|公司|食堂)$"
    assert "  " in path.read_text(encoding="utf-8")  # indented, readable JSON
    assert "经营者名称" in path.read_text(encoding="utf-8")


def test_stale_override_is_reported_in_chinese() -> None:
    stale = {"drop": [{"type": "expect_column_values_to_be_in_set", "column": "no_such_field"}]}
    with pytest.raises(GovhubError) as caught:
        build_suite(licence_resource(), stale)
    assert caught.value.problems[0].code == "expectations.override"
    assert "不存在" in caught.value.problems[0].message_zh
