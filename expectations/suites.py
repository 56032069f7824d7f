"""Expectation suites derived from the catalog, in Great Expectations 1.x JSON, plus hand-written overrides.

A suite is plain data (`{"name", "expectations": [{"type", "kwargs", "meta"}], "meta"}`): the fast DuckDB evaluator
and GE itself both read it, so no GE import is needed here. Each generated expectation's `meta.catalog` names the
catalog element it came from (e.g. `fields[3].pattern`), so a failing check can be traced back to the YAML line.

Overrides survive regeneration: `<catalog dir>/_expectations/<agency>/<resource>.yaml` holds

    add:    [{type: ..., kwargs: {...}, meta: {...}}]      # extra expectations
    drop:   [{type: ..., column: ...}]                       # generated ones to leave out
    change: [{type: ..., column: ..., kwargs: {mostly: 0.99}}]  # kwargs merged into a generated one

`column` may be omitted for table-level expectations; `columns` names a compound key.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from govhub.catalog.model import Catalog, CatalogField, FieldType, Resource, SemanticType
from govhub.config import Settings
from govhub.problems import GovhubError, Problem

OVERRIDES_DIR = "_expectations"

# Names both engines understand: DuckDB's column type and the pandas dtypes a DuckDB result becomes.
TYPE_LISTS: dict[FieldType, list[str]] = {
    FieldType.STRING: ["VARCHAR", "str"],
    FieldType.INTEGER: ["BIGINT", "int64", "Int64Dtype"],
    FieldType.NUMBER: ["DOUBLE", "float64", "Float64Dtype"],
    FieldType.BOOLEAN: ["BOOLEAN", "bool", "BooleanDtype"],
    FieldType.DATE: ["DATE", "datetime64[us]", "datetime64[ns]"],
    FieldType.DATETIME: ["TIMESTAMP", "datetime64[us]", "datetime64[ns]"],
}

# Semantic types checked by a custom expectation (see ge_custom.py / identifiers_sql.py).
CUSTOM_EXPECTATIONS: dict[SemanticType, str] = {
    SemanticType.CN_ID: "expect_column_values_to_be_valid_cn_id",
    SemanticType.USCC: "expect_column_values_to_be_valid_uscc",
    SemanticType.ADMIN_DIVISION: "expect_column_values_to_be_valid_admin_division",
    SemanticType.MOBILE: "expect_column_values_to_be_valid_cn_mobile",
}

# Semantic types checked by a regex ([0-9] rather than \d: RE2 and Python agree on it).
SEMANTIC_REGEX: dict[SemanticType, str] = {
    SemanticType.PHONE: r"^(1[3-9][0-9]{9}|(0[1-9][0-9]{1,3}-?)?[2-9][0-9]{6,7}(-[0-9]{1,6})?|[48]00-?[0-9]{3}-?[0-9]{4})$",
    SemanticType.EMAIL: r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$",
    SemanticType.POSTAL_CODE: r"^[0-9]{6}$",
}

SEMANTIC_RANGE: dict[SemanticType, tuple[float, float]] = {
    SemanticType.LONGITUDE: (-180.0, 180.0),
    SemanticType.LATITUDE: (-90.0, 90.0),
}


def suite_name(resource: Resource) -> str:
    return f"{resource.agency}.{resource.id}"


def _expectation(kind: str, kwargs: dict[str, Any], element: str, **meta: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"catalog": element, **meta}}


def _field_expectations(i: int, f: CatalogField) -> list[dict[str, Any]]:
    at = f"fields[{i}]"
    col = {"column": f.name}
    out = [
        _expectation(
            "expect_column_values_to_be_in_type_list", {**col, "type_list": TYPE_LISTS[f.type]}, f"{at}.type"
        )
    ]
    if f.required:
        out.append(_expectation("expect_column_values_to_not_be_null", dict(col), f"{at}.required"))
    if f.enum:
        values: list[Any] = list(f.enum)
        if f.type is FieldType.INTEGER:
            values = [int(v) for v in f.enum]
        out.append(
            _expectation("expect_column_values_to_be_in_set", {**col, "value_set": values}, f"{at}.enum")
        )
    low, high = f.min, f.max
    if low is None and high is None and f.semantic in SEMANTIC_RANGE:
        low, high = SEMANTIC_RANGE[f.semantic]
    if (low is not None or high is not None) and f.type in (FieldType.INTEGER, FieldType.NUMBER):
        element = f"{at}.min/max" if f.min is not None or f.max is not None else f"{at}.semantic"
        out.append(
            _expectation(
                "expect_column_values_to_be_between", {**col, "min_value": low, "max_value": high}, element
            )
        )
    if f.max_length is not None:
        out.append(
            _expectation(
                "expect_column_value_lengths_to_be_between",
                {**col, "min_value": None, "max_value": f.max_length},
                f"{at}.max_length",
            )
        )
    if f.pattern:
        out.append(
            _expectation("expect_column_values_to_match_regex", {**col, "regex": f.pattern}, f"{at}.pattern")
        )
    if f.semantic in CUSTOM_EXPECTATIONS:
        out.append(
            _expectation(
                CUSTOM_EXPECTATIONS[f.semantic], dict(col), f"{at}.semantic", semantic=f.semantic.value
            )
        )
    elif f.semantic in SEMANTIC_REGEX and f.type is FieldType.STRING:
        regex = SEMANTIC_REGEX[f.semantic]
        out.append(
            _expectation(
                "expect_column_values_to_match_regex",
                {**col, "regex": regex},
                f"{at}.semantic",
                semantic=f.semantic.value,
            )
        )
    return out


def generated_expectations(resource: Resource) -> list[dict[str, Any]]:
    """The expectations the catalog entry implies, in a stable order (table first, then field by field, then key)."""
    out = [
        _expectation(
            "expect_table_columns_to_match_set",
            {"column_set": resource.field_names, "exact_match": True},
            "fields",
        )
    ]
    for i, f in enumerate(resource.fields):
        out.extend(_field_expectations(i, f))
    pk = list(resource.primary_key)
    if len(pk) == 1:
        out.append(_expectation("expect_column_values_to_be_unique", {"column": pk[0]}, "primary_key"))
    elif pk:
        out.append(_expectation("expect_compound_columns_to_be_unique", {"column_list": pk}, "primary_key"))
    return out


def _target(entry: dict[str, Any]) -> tuple[str, Any]:
    cols = entry.get("columns") or entry.get("column_list")
    return (entry["type"], tuple(cols) if cols else entry.get("column"))


def _expectation_target(exp: dict[str, Any]) -> tuple[str, Any]:
    kw = exp["kwargs"]
    return (exp["type"], tuple(kw["column_list"]) if "column_list" in kw else kw.get("column"))


def _override_problem(resource: Resource, message: str, entry: Any) -> Problem:
    return Problem(
        code="expectations.override",
        message_zh=f"资源「{resource.name}」的校验规则覆盖文件有误：{message}",
        value=json.dumps(entry, ensure_ascii=False, default=str),
        expected="add / drop / change 条目，指明 type 与 column（或 columns）",
    )


def apply_overrides(
    resource: Resource, expectations: list[dict[str, Any]], overrides: dict[str, Any]
) -> list[dict[str, Any]]:
    """Drop, change and add expectations as the override file says; an entry that matches nothing is an error."""
    out = copy.deepcopy(expectations)
    problems: list[Problem] = []
    unknown = set(overrides) - {"add", "drop", "change"}
    if unknown:
        problems.append(_override_problem(resource, f"未知的键 {sorted(unknown)}", overrides))
    for entry in overrides.get("drop") or []:
        before = len(out)
        out = [e for e in out if _expectation_target(e) != _target(entry)]
        if len(out) == before:
            problems.append(
                _override_problem(resource, "要删除的规则在生成的规则中不存在（目录可能已变更）", entry)
            )
    for entry in overrides.get("change") or []:
        matches = [e for e in out if _expectation_target(e) == _target(entry)]
        if not matches:
            problems.append(
                _override_problem(resource, "要修改的规则在生成的规则中不存在（目录可能已变更）", entry)
            )
        for e in matches:
            e["kwargs"].update(entry.get("kwargs") or {})
            e["meta"]["override"] = "change"
    for entry in overrides.get("add") or []:
        if not isinstance(entry, dict) or "type" not in entry or not isinstance(entry.get("kwargs"), dict):
            problems.append(_override_problem(resource, "新增规则须有 type 和 kwargs", entry))
            continue
        out.append(
            {
                "type": entry["type"],
                "kwargs": dict(entry["kwargs"]),
                "meta": {**(entry.get("meta") or {}), "override": "add"},
            }
        )
    if problems:
        raise GovhubError(problems)
    return out


def overrides_path(catalog_dir: Path, resource: Resource) -> Path:
    return Path(catalog_dir) / OVERRIDES_DIR / resource.agency / f"{resource.id}.yaml"


def load_overrides(catalog_dir: Path, resource: Resource) -> dict[str, Any] | None:
    """The resource's hand-written overrides, or None when it has none."""
    path = overrides_path(catalog_dir, resource)
    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise GovhubError(_override_problem(resource, f"{path} 不是有效的 YAML：{exc}", None)) from exc
    if data is None:
        return None
    if not isinstance(data, dict):
        raise GovhubError(_override_problem(resource, f"{path} 应为映射（add/drop/change）", data))
    return data


def catalog_dir_of(resource: Resource) -> Path | None:
    """The catalog folder a resource was loaded from (`<dir>/<agency>/<resource>.yaml`)."""
    return resource.source_file.parent.parent if resource.source_file else None


def build_suite(resource: Resource, overrides: dict[str, Any] | Path | None = None) -> dict[str, Any]:
    """The resource's GE 1.x suite as JSON-able data; `overrides` is a parsed override mapping or a catalog folder."""
    if isinstance(overrides, Path):
        overrides = load_overrides(overrides, resource)
    expectations = generated_expectations(resource)
    if overrides:
        expectations = apply_overrides(resource, expectations, overrides)
    return {
        "name": suite_name(resource),
        "expectations": expectations,
        "meta": {
            "govhub": {
                "resource_code": resource.code,
                "resource_name": resource.name,
                "fingerprint": resource.fingerprint,
                "generated_from": str(resource.source_file) if resource.source_file else None,
                "overrides": bool(overrides),
            }
        },
        "notes": f"由资源目录自动生成：{resource.name}（{resource.code}）",
    }


def suite_path(settings: Settings, resource: Resource) -> Path:
    return settings.home / "expectations" / "suites" / resource.agency / f"{resource.id}.json"


def write_suites(settings: Settings, catalog: Catalog) -> list[Path]:
    """Regenerate every resource's suite (with its overrides) as readable JSON under <home>/expectations/suites/."""
    written = []
    for resource in catalog.resources:
        suite = build_suite(resource, load_overrides(settings.catalog_dir, resource))
        path = suite_path(settings, resource)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(suite, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
