"""The audit step of write → audit → publish: validate a staged load and say whether it may be published.

`validate_load` is the warehouse's hook: suite from the catalog (+ overrides) → one DuckDB pass → row problems
(quarantine), table problems (schema, duplicate keys) and GE-style results. The warehouse's load applies the resource's
quality policy to them and records the one verdict (`govhub.warehouse.verdict`) every entry point shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from govhub.catalog.model import Resource
from govhub.expectations.evaluate import Evaluation, evaluate_suite
from govhub.expectations.row_problems import label_of
from govhub.expectations.suites import build_suite, catalog_dir_of, load_overrides
from govhub.problems import Problem

DUPLICATE_KEY = "check.duplicate_key"


@dataclass
class ValidationResult:
    row_problems: list[Problem] = field(default_factory=list)
    table_problems: list[Problem] = field(default_factory=list)
    expectation_results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def quarantined_rows(self) -> set[int]:
        """Rows with at least one blocking problem."""
        return {p.row for p in self.row_problems if p.blocking and p.row is not None}


def suite_for(resource: Resource, catalog_dir: Path | None = None) -> dict[str, Any]:
    """The resource's suite with the overrides found next to its catalog entry."""
    folder = catalog_dir or catalog_dir_of(resource)
    return build_suite(resource, load_overrides(folder, resource) if folder else None)


def audit_key(resource: Resource, catalog_dir: Path | None = None) -> str:
    """A hash of everything the audit of a delivery depends on besides its data: the resource's whole catalog entry
    (fields, rules, quality policy) and its suite with overrides. Equal keys: the same file audits the same way."""
    import hashlib
    import json

    blob = json.dumps(
        {"resource": resource.model_dump(mode="json"), "suite": suite_for(resource, catalog_dir)},
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _schema_problems(resource: Resource, results: list[dict[str, Any]]) -> list[Problem]:
    out = []
    blocking = resource.quality.block_on_schema_mismatch
    for r in results:
        if r["expectation_type"] == "expect_table_columns_to_match_set" and not r["success"]:
            mismatch = r.get("details", {}).get("mismatched", {})
            missing = "、".join(label_of(resource, c) for c in mismatch.get("missing", []))
            extra = "、".join(mismatch.get("unexpected", []))
            text = "；".join(
                x for x in (f"缺少列：{missing}" if missing else "", f"多出列：{extra}" if extra else "") if x
            )
            out.append(
                Problem(
                    code="check.schema",
                    message_zh=f"数据列与资源目录不一致（{text}）",
                    value="、".join(r.get("observed_value", [])),
                    expected="、".join(f.label for f in resource.fields),
                    blocking=blocking,
                )
            )
        elif r["expectation_type"] == "expect_column_values_to_be_in_type_list" and not r["success"]:
            column = r["column"]
            out.append(
                Problem(
                    code="check.schema_type",
                    message_zh="列的数据类型与资源目录不一致" if "exception_info" not in r else "缺少该列",
                    column=label_of(resource, column),
                    field=column,
                    value=str(r.get("observed_value")) if r.get("observed_value") else None,
                    expected="、".join(t for t in r["kwargs"]["type_list"] if t.isupper()),
                    blocking=blocking,
                )
            )
    return out


def _duplicate_key_problems(
    resource: Resource, suite: dict[str, Any], evaluation: Evaluation
) -> list[Problem]:
    out = []
    for i, exp in enumerate(suite["expectations"]):
        result = evaluation.results[i]
        if exp.get("meta", {}).get("catalog") != "primary_key" or result.get("success", True):
            continue
        labels = "、".join(label_of(resource, c) for c in resource.primary_key)
        count = result.get("unexpected_count") or 0
        out.append(
            Problem(
                code=DUPLICATE_KEY,
                message_zh=f"主键（{labels}）重复：{count}行的主键与其他行相同",
                column=labels,
                field=",".join(resource.primary_key),
                value=", ".join(str(v) for v in result.get("partial_unexpected_list", [])[:10]) or None,
                expected="每个主键只出现一次",
                blocking=resource.quality.block_on_duplicate_keys,
            )
        )
    return out


def validate_load(
    resource: Resource, con: duckdb.DuckDBPyConnection, relation: str, *, rows: int | None = None
) -> ValidationResult:
    """Validate the staged rows in `relation` (catalog columns + __row__) against the resource's suite; `rows`:
    how many there are, when the caller knows (else counted when a check needs it)."""
    suite = suite_for(resource)
    evaluation = evaluate_suite(con, relation, suite, resource, n_rows=rows)
    table_problems = _schema_problems(resource, evaluation.results) + _duplicate_key_problems(
        resource, suite, evaluation
    )
    results = [
        {
            k: r.get(k)
            for k in ("expectation_type", "column", "success", "unexpected_count", "unexpected_percent")
        }
        | {
            k: r[k]
            for k in ("element_count", "missing_count", "observed_value", "partial_unexpected_list", "meta")
            if k in r
        }
        for r in evaluation.results
    ]
    return ValidationResult(
        row_problems=evaluation.row_problems, table_problems=table_problems, expectation_results=results
    )
