"""Every broken catalog names the file, the resource and the element, in plain words."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from govhub.catalog.load import CatalogInvalid, load_catalog, require_catalog

from .conftest import AGENCIES, RESOURCE, write_catalog


def test_the_fixture_catalog_is_valid(tmp_path: Path) -> None:
    catalog = require_catalog(write_catalog(tmp_path))
    assert [r.code for r in catalog.resources] == ["101001001/000001"]
    assert catalog.resource("gaj/household").field("id_number").label == "公民身份号码"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return mutate


_DELETE = object()

BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("malformed_code", _set("code", "10100/1"), "code", "不是“类项目[细目]/顺序码”形式的资源代码"),
    ("code_class_mismatch", _set("code", "102001001/000001"), "code", "资源代码应以 101 开头"),
    (
        "conditional_without_conditions",
        _set("share.conditions", _DELETE),
        "share.conditions",
        "须写明共享条件",
    ),
    (
        "not_shared_without_legal_basis",
        _set("share", {"type": "not_shared"}),
        "share.legal_basis",
        "须写明禁止共享的法律",
    ),
    (
        "primary_key_unknown_field",
        _set("primary_key", ["id_no"]),
        "primary_key[0]",
        "主键中的“id_no”不是本资源的信息项",
    ),
    ("primary_key_not_required", _set("primary_key", ["gender"]), "primary_key[0]", "必须为必填"),
    (
        "unknown_semantic_type",
        _set("fields.0.semantic", "passport"),
        "fields[0].semantic",
        "取值“passport”无效",
    ),
    ("unknown_agency", _set("agency", "xyz"), "agency", "机构“xyz”不在 agencies.yaml 中"),
    ("unknown_share_type", _set("share.type", "sometimes"), "share.type", "取值“sometimes”无效"),
    ("unknown_cycle", _set("cycle", "hourly"), "cycle", "取值“hourly”无效"),
    ("enum_without_values", _set("fields.2.enum", _DELETE), "fields[2].enum", "没有列出可选值"),
    ("duplicate_field", _set("fields.1.name", "id_number"), "fields[1].name", "重复"),
    ("semantic_type_mismatch", _set("fields.3.type", "string"), "fields[3].type", "数据类型应为 date"),
    (
        "field_wider_than_resource",
        _set("fields.1.share", "unconditional"),
        "fields[1].share",
        "不能比所属资源",
    ),
    ("missing_element", _set("summary", _DELETE), "summary", "必填，但没有填写"),
    ("misspelt_element", _set("cylce", "monthly"), "cylce", "不是目录元素"),
    (
        "api_without_settings",
        _set("delivery", {"method": "api"}),
        "delivery.api",
        "下填写连接设置",
    ),
    ("bad_field_name", _set("fields.1.name", "Name"), "fields[1].name", "不是有效的名称"),
    ("bad_regex", _set("fields.1.pattern", "(["), "fields[1].pattern", "正则表达式）有误"),
    ("changed_before_published", _set("changed_on", "2023-01-01"), "changed_on", "早于首次发布日期"),
]


@pytest.mark.parametrize(("case", "mutate", "element", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_catalog_names_file_resource_and_element(
    tmp_path: Path, case: str, mutate: Callable[[dict[str, Any]], None], element: str, words: str
) -> None:
    data = copy.deepcopy(RESOURCE)
    mutate(data)
    _, problems = load_catalog(write_catalog(tmp_path, data))
    matching = [p for p in problems if p.element == element and words in p.message]
    assert matching, f"{case}: expected {element!r} ~ {words!r}, got {[str(p) for p in problems]}"
    assert all(p.file == "gaj/household.yaml" and p.resource == data.get("code") for p in matching)


def test_invalid_agency_uscc_is_named(tmp_path: Path) -> None:
    agencies = copy.deepcopy(AGENCIES)
    agencies["agencies"][0]["uscc"] = "11310117002425083A"
    _, problems = load_catalog(write_catalog(tmp_path, agencies=agencies))
    assert any(
        p.file == "agencies.yaml" and p.element == "agencies[0].uscc" and "校验码" in p.message
        for p in problems
    )


def test_duplicate_codes_across_files_are_reported(tmp_path: Path) -> None:
    write_catalog(tmp_path)
    other = copy.deepcopy(RESOURCE) | {"id": "household_copy"}
    (tmp_path / "gaj" / "household_copy.yaml").write_text(
        yaml.safe_dump(other, allow_unicode=True), encoding="utf-8"
    )
    catalog, problems = load_catalog(tmp_path)
    assert any(p.element == "code" and "已被 gaj/household.yaml 使用" in p.message for p in problems)
    assert catalog.resources == [] or all(r.code != other["code"] for r in catalog.resources[1:])


def test_unreadable_yaml_is_reported_not_raised(tmp_path: Path) -> None:
    write_catalog(tmp_path)
    (tmp_path / "gaj" / "broken.yaml").write_text("code: [unclosed\n", encoding="utf-8")
    _, problems = load_catalog(tmp_path)
    assert any(p.file == "gaj/broken.yaml" and "不是有效的 YAML 文件" in p.message for p in problems)


def test_a_date_that_does_not_exist_is_reported_not_raised(tmp_path: Path) -> None:
    """Found by fuzz/fuzz_catalog.py: PyYAML's date constructor raises ValueError (no YAMLError) on 2018-13-09."""
    write_catalog(tmp_path)
    (tmp_path / "gaj" / "bad-date.yaml").write_text("id: x\npublished_on: 2018-13-09\n", encoding="utf-8")
    _, problems = load_catalog(tmp_path)
    messages = " ".join(p.message for p in problems if p.file == "gaj/bad-date.yaml")
    assert "不是有效的 YAML 文件" in messages and "不存在的日期" in messages and "month" not in messages


def test_a_pattern_whose_repetition_overflows_is_reported_not_raised(tmp_path: Path) -> None:
    """Found by fuzz/fuzz_catalog.py: re.compile("a{99999999999}") raises OverflowError, not re.error."""
    data = copy.deepcopy(RESOURCE)
    data["fields"][0]["pattern"] = "^[0-9]{99999999999}$"
    write_catalog(tmp_path, data)
    _, problems = load_catalog(tmp_path)
    assert any(p.element.endswith(".pattern") and "格式规则" in p.message for p in problems)


def test_require_catalog_raises_with_every_problem(tmp_path: Path) -> None:
    data = copy.deepcopy(RESOURCE)
    data["code"] = "bad"
    data["cycle"] = "hourly"
    with pytest.raises(CatalogInvalid) as info:
        require_catalog(write_catalog(tmp_path, data))
    assert {p.element for p in info.value.problems} >= {"cycle"}


def test_todo_elements_are_refused_with_a_message_for_the_agency(tmp_path: Path) -> None:
    data = copy.deepcopy(RESOURCE)
    data["cycle"] = "TODO: monthly?"
    _, problems = load_catalog(write_catalog(tmp_path, data))
    assert [(p.element, "仍为 TODO" in p.message) for p in problems] == [("cycle", True)]
