"""validate_load: the audit step finds every bad row, says what is wrong in Chinese, and the policy decides."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb

from govhub.expectations.validate import validate_load
from tests.expectations.corpus import (
    PLANTS,
    good_licence,
    licence_resource,
    load_rows,
    make_cn_id,
    planted_rows,
    wrong_last,
)


def test_three_percent_bad_id_numbers_give_row_problems_for_exactly_those_rows(tmp_path: Path) -> None:
    resource = licence_resource()
    rng = random.Random(3)
    rows = [good_licence(rng, i) for i in range(3000)]
    bad_rows = set(rng.sample(range(3000), 90))
    for i in bad_rows:
        rows[i]["legal_person_id"] = wrong_last(rows[i]["legal_person_id"], "0123456789X")
    con = duckdb.connect()
    load_rows(con, resource, rows)
    # the warehouse hands a Parquet file over: validate through read_parquet like it does
    parquet = tmp_path / "staged.parquet"
    con.execute(f"COPY staged TO '{parquet}' (FORMAT parquet)")
    result = validate_load(resource, con, f"read_parquet('{parquet}')")
    assert {p.row for p in result.row_problems} == {i + 2 for i in bad_rows}
    assert all(p.code == "check.cn_id" and p.column == "法定代表人身份证号" for p in result.row_problems)
    assert all(
        p.expected == "18位公民身份号码（半角数字，末位为数字或大写X），校验码正确"
        and "校验码错误" in p.message_zh
        for p in result.row_problems
    )
    assert result.row_problems[0].value == rows[result.row_problems[0].row - 2]["legal_person_id"]
    assert result.table_problems == []
    cn_id = next(r for r in result.expectation_results if r["expectation_type"].endswith("valid_cn_id"))
    assert (cn_id["success"], cn_id["unexpected_count"], cn_id["unexpected_percent"]) == (False, 90, 3.0)


def test_every_planted_error_is_found_on_its_row() -> None:
    resource = licence_resource()
    rows, where = planted_rows(2000)
    con = duckdb.connect()
    result = validate_load(resource, con, load_rows(con, resource, rows))
    found: dict[str, set[int]] = {}
    for p in result.row_problems:
        found.setdefault(p.field, set()).add(p.row)
    for kind, (column, _) in PLANTS.items():
        assert where[kind] <= found.get(column, set()), kind
    expected_bad = set().union(*where.values())
    assert {p.row for p in result.row_problems} == expected_bad
    assert len(result.row_problems) == sum(len(v) for v in where.values())
    codes = {p.code for p in result.row_problems}
    assert {
        "check.pattern",
        "check.required",
        "check.uscc",
        "check.max_length",
        "check.cn_id",
        "check.admin_division",
        "check.mobile",
        "check.phone",
        "check.email",
        "check.postal_code",
        "check.enum",
        "check.range",
        "check.duplicate_key",
    } <= codes
    date_problem = next(
        p for p in result.row_problems if p.field == "legal_person_id" and "19990230" in p.value
    )
    assert "出生日期19990230不是有效日期" in date_problem.message_zh
    # the new identifier rules: each message says what to change
    by_row = {(p.row, p.field): p.message_zh for p in result.row_problems}
    for kind, message in (
        ("id lower-case x", "公民身份号码无效：校验码应为大写X"),
        ("id full-width", "公民身份号码无效：含全角字符，请改为半角"),
    ):
        assert {by_row[(row, "legal_person_id")] for row in where[kind]} == {message}, kind
    assert all(
        by_row[(row, "uscc")].startswith("统一社会信用代码无效：登记管理部门代码“Y”下没有机构类别“3”")
        for row in where["uscc outside the table"]
    )
    assert "第" in str(date_problem) and "法定代表人身份证号" in str(date_problem)


def test_duplicate_keys_are_a_table_problem_and_every_copy_a_row_problem() -> None:
    resource = licence_resource()
    rng = random.Random(9)
    rows = [good_licence(rng, i) for i in range(50)]
    rows[20]["permit_no"] = rows[30]["permit_no"] = rows[10]["permit_no"]
    con = duckdb.connect()
    result = validate_load(resource, con, load_rows(con, resource, rows))
    (table_problem,) = result.table_problems
    assert table_problem.code == "check.duplicate_key" and table_problem.blocking
    assert "3行" in table_problem.message_zh and table_problem.column == "许可证编号"
    assert {p.row for p in result.row_problems if p.code == "check.duplicate_key"} == {12, 22, 32}

    lenient = resource.model_copy(
        update={
            "quality": resource.quality.model_copy(
                update={"block_on_duplicate_keys": False, "max_bad_row_pct": 10}
            )
        }
    )
    result = validate_load(lenient, con, "staged")
    assert not result.table_problems[0].blocking


def test_a_missing_column_is_a_schema_problem_that_blocks() -> None:
    resource = licence_resource()
    rows, _ = planted_rows(30)
    con = duckdb.connect()
    load_rows(con, resource, rows)
    con.execute("CREATE TABLE narrow AS SELECT * EXCLUDE (email) FROM staged")
    result = validate_load(resource, con, "narrow")
    schema = [p for p in result.table_problems if p.code.startswith("check.schema")]
    assert schema and "缺少列：电子邮箱" in schema[0].message_zh
    assert schema[0].blocking and schema[0].category.value == "schema"


def test_a_column_of_the_wrong_type_is_a_schema_problem() -> None:
    resource = licence_resource()
    rows, _ = planted_rows(30)
    con = duckdb.connect()
    load_rows(con, resource, rows)
    con.execute("CREATE TABLE retyped AS SELECT * REPLACE (CAST(staff AS VARCHAR) AS staff) FROM staged")
    result = validate_load(resource, con, "retyped")
    (problem,) = [p for p in result.table_problems if p.code == "check.schema_type"]
    assert problem.column == "从业人数" and problem.value == "VARCHAR" and problem.expected == "BIGINT"


def test_a_tolerant_override_turns_row_problems_into_warnings(tmp_path: Path) -> None:
    from govhub.expectations.evaluate import evaluate_suite
    from govhub.expectations.suites import build_suite

    resource = licence_resource()
    rows, where = planted_rows(500)
    con = duckdb.connect()
    suite = build_suite(
        resource,
        {
            "change": [
                {
                    "type": "expect_column_values_to_be_valid_cn_mobile",
                    "column": "mobile",
                    "kwargs": {"mostly": 0.9},
                }
            ]
        },
    )
    evaluation = evaluate_suite(con, load_rows(con, resource, rows), suite, resource)
    mobile = [p for p in evaluation.row_problems if p.field == "mobile"]
    assert {p.row for p in mobile} == where["bad mobile"] and not any(p.blocking for p in mobile)
    result = next(r for r in evaluation.results if r["expectation_type"].endswith("cn_mobile"))
    assert result["success"] and result["unexpected_count"] == len(where["bad mobile"])


def test_a_million_good_rows_pass_the_whole_suite() -> None:
    """A million rows (generated in DuckDB from 1,000 good ones) raise no problem. How fast: W1 in `make bench`
    (docs/PERFORMANCE.md), not a timer here."""
    resource = licence_resource()
    con = duckdb.connect()
    rng = random.Random(1)
    seed = [good_licence(rng, i) for i in range(1000)]
    load_rows(con, resource, seed, name="seed")
    con.execute(
        "CREATE TABLE big AS SELECT seed.* REPLACE (__row__ + 1000 * k AS __row__, 'JY' || lpad((__row__ + 1000 * k)::VARCHAR, 8, '0') AS permit_no) "
        "FROM seed, range(1000) r(k)"
    )
    result = validate_load(resource, con, "big")
    assert result.row_problems == [] and result.table_problems == []
    assert all(r["success"] and r.get("element_count") == 1_000_000 for r in result.expectation_results)


def test_make_cn_id_helper_is_valid() -> None:
    assert len(make_cn_id(random.Random(0))) == 18
