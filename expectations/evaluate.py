"""The fast path: a suite's expectations evaluated in one DuckDB pass, reported in GE's vocabulary.

Every row-level expectation becomes a boolean SQL expression `unexpected` (TRUE only for a non-missing value that
fails, as GE counts it) and `missing`; one SELECT computes them per row and aggregates them. Only if something failed,
a second query fetches the failing rows (all of them: quarantine needs every one; the per-expectation report keeps
the first `PARTIAL_LIMIT` values, as GE's `partial_unexpected_list`). Table-level expectations (column set, column
types) are answered from the relation's schema.

GE semantics kept: NULLs are "missing", not unexpected (except for not-null), `unexpected_percent` is over
non-missing values, `mostly` compares the fraction of non-missing values that pass, uniqueness flags every copy.

Uniqueness: the pass asks each row whether its key is among the duplicated keys. Up to `KEY_PARTITION_ROWS` rows
those are a subquery of the pass; beyond, they are found before it, one hash partition of the keys at a time, into
a temp table: a `GROUP BY` over 100M ID numbers inside the pass held more than DuckDB could spill under a 1 GB
limit (docs/PERFORMANCE.md, "Scale"); a partition's aggregate holds at most a few million keys whatever the size
of the load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from govhub.catalog.arrow import ROW_COLUMN
from govhub.catalog.model import Resource
from govhub.duck import first_row
from govhub.expectations import identifiers_sql as ids
from govhub.problems import GovhubError, Problem

PARTIAL_LIMIT = 20
# keys grouped at once by a uniqueness check: 4M 18-character ID numbers aggregate in ≈0.3 GB
KEY_PARTITION_ROWS = 4_000_000


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A SQL literal for a value from a suite (strings, numbers, booleans)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _text(col: str) -> str:
    return f"CAST({quote(col)} AS VARCHAR)"


def _between(expr: str, kw: dict[str, Any]) -> str:
    parts = []
    if kw.get("min_value") is not None:
        parts.append(f"{expr} {'>' if kw.get('strict_min') else '>='} {literal(kw['min_value'])}")
    if kw.get("max_value") is not None:
        parts.append(f"{expr} {'<' if kw.get('strict_max') else '<='} {literal(kw['max_value'])}")
    return " AND ".join(parts) or "TRUE"


def _number(col: str, types: dict[str, str]) -> str:
    numeric = types.get(col, "").startswith(
        ("BIGINT", "INTEGER", "DOUBLE", "FLOAT", "DECIMAL", "HUGEINT", "SMALLINT")
    )
    return quote(col) if numeric else f"TRY_CAST({quote(col)} AS DOUBLE)"


# type -> (valid-value SQL builder given (column, kwargs, column types)) for the column map expectations
_VALID: dict[str, Callable[[str, dict[str, Any], dict[str, str]], str]] = {
    "expect_column_values_to_be_in_set": lambda c, kw, t: (
        f"{quote(c)} IN ({', '.join(literal(v) for v in kw['value_set']) or 'NULL'})"
    ),
    "expect_column_values_to_be_between": lambda c, kw, t: _between(_number(c, t), kw),
    "expect_column_value_lengths_to_be_between": lambda c, kw, t: _between(f"length({_text(c)})", kw),
    "expect_column_values_to_match_regex": lambda c, kw, t: (
        f"regexp_matches({_text(c)}, {literal(kw['regex'])})"
    ),
    "expect_column_values_to_not_match_regex": lambda c, kw, t: (
        f"NOT regexp_matches({_text(c)}, {literal(kw['regex'])})"
    ),
    "expect_column_values_to_be_valid_cn_id": lambda c, kw, t: ids.cn_id_valid_sql(_text(c)),
    "expect_column_values_to_be_valid_uscc": lambda c, kw, t: ids.uscc_valid_sql(_text(c)),
    "expect_column_values_to_be_valid_admin_division": lambda c, kw, t: ids.admin_division_valid_sql(
        _text(c)
    ),
    "expect_column_values_to_be_valid_cn_mobile": lambda c, kw, t: ids.mobile_valid_sql(_text(c)),
}
TABLE_LEVEL = {"expect_table_columns_to_match_set", "expect_column_values_to_be_in_type_list"}
KEY_LEVEL = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
NOT_NULL = "expect_column_values_to_not_be_null"
SUPPORTED = frozenset(_VALID) | TABLE_LEVEL | KEY_LEVEL | {NOT_NULL}


@dataclass
class Evaluation:
    """GE-style results (one dict per expectation, suite order) and the failing rows of row-level expectations."""

    results: list[dict[str, Any]]
    # expectation index -> [(row, {column: value as text})] for every unexpected row
    failures: dict[int, list[tuple[int, dict[str, str | None]]]] = field(default_factory=dict)
    row_problems: list[Problem] = field(default_factory=list)


@dataclass
class _RowCheck:
    index: int
    columns: list[str]
    unexpected: str  # SQL, TRUE for an unexpected row
    missing: str | None  # SQL, TRUE for a row GE leaves out as missing


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name -> DuckDB type name, in order: the relation bound, not run (0.2 ms where a DESCRIBE took 0.5;
    a type's `str` is DESCRIBE's name for it, DECIMAL(p,s), TIMESTAMP WITH TIME ZONE, lists and structs alike)."""
    bound = con.sql(f"SELECT * FROM {relation}")
    return {name: str(kind) for name, kind in zip(bound.columns, bound.types, strict=True)}


def _columns_of(exp: dict[str, Any]) -> list[str]:
    kw = exp["kwargs"]
    return list(kw["column_list"]) if "column_list" in kw else ([kw["column"]] if "column" in kw else [])


def _row_check(index: int, exp: dict[str, Any], types: dict[str, str], duplicates: str | None) -> _RowCheck:
    kind, kw, cols = exp["type"], exp["kwargs"], _columns_of(exp)
    if kind == NOT_NULL:
        return _RowCheck(index, cols, f"{quote(cols[0])} IS NULL", None)
    if kind in KEY_LEVEL:
        key, present = _key(cols)
        # a struct's NULL fields compare equal, as GROUP BY groups them
        return _RowCheck(
            index,
            cols,
            f"(({present}) AND coalesce({key} IN (SELECT __key FROM {duplicates}), FALSE))",
            f"NOT ({present})",
        )
    valid = _VALID[kind](cols[0], kw, types)
    return _RowCheck(
        index,
        cols,
        f"({quote(cols[0])} IS NOT NULL AND NOT coalesce({valid}, FALSE))",
        f"{quote(cols[0])} IS NULL",
    )


def _key(cols: list[str]) -> tuple[str, str]:
    """The SQL of a uniqueness check's key (a column, or a struct of several) and of "the key is present"."""
    key = quote(cols[0]) if len(cols) == 1 else f"struct_pack({', '.join(quote(c) for c in cols)})"
    return key, " OR ".join(f"{quote(c)} IS NOT NULL" for c in cols)


def _duplicates(
    con: duckdb.DuckDBPyConnection, relation: str, index: int, cols: list[str], n_rows: int
) -> tuple[str, str | None]:
    """The keys that occur more than once, as (a relation to select `__key` from, the temp table to drop after).
    Up to `KEY_PARTITION_ROWS` rows a subquery the pass runs itself; beyond, a temp table filled one hash partition
    of the keys at a time."""
    key, present = _key(cols)
    parts = -(-n_rows // KEY_PARTITION_ROWS)

    def grouped(part: str = "") -> str:
        return (
            f"SELECT {key} AS __key FROM {relation} WHERE ({present}){part} GROUP BY ALL HAVING count(*) > 1"
        )

    if parts <= 1:
        return f"({grouped()})", None
    table = f"__duplicates_{index}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {grouped(f' AND hash({key}) % {parts} = 0')}")
    for part in range(1, parts):
        con.execute(f"INSERT INTO {table} {grouped(f' AND hash({key}) % {parts} = {part}')}")
    return table, table


def _success(unexpected: int, nonmissing: int, mostly: float | None) -> bool:
    if mostly is None or mostly >= 1:
        return unexpected == 0
    return nonmissing == 0 or (nonmissing - unexpected) / nonmissing >= mostly


def _pct(part: int, whole: int) -> float | None:
    return part / whole * 100 if whole else None


def _table_result(exp: dict[str, Any], types: dict[str, str], n_rows: int) -> dict[str, Any]:
    kw = exp["kwargs"]
    if exp["type"] == "expect_table_columns_to_match_set":
        observed = [c for c in types if c != ROW_COLUMN]
        expected = list(kw["column_set"])
        extra = [c for c in observed if c not in expected]
        missing = [c for c in expected if c not in observed]
        success = not missing and (not extra or not kw.get("exact_match", True))
        details = {"mismatched": {"unexpected": extra, "missing": missing}} if extra or missing else {}
        return {"success": success, "observed_value": observed, "details": details}
    col = kw["column"]
    observed = types[col]
    success = observed in kw["type_list"]
    # a column of the right type has no value of another type (GE counts them for pandas object columns)
    return {"success": success, "observed_value": observed} | ({"unexpected_count": 0} if success else {})


def _base_result(exp: dict[str, Any]) -> dict[str, Any]:
    kw = exp["kwargs"]
    column = kw.get("column") or (", ".join(kw["column_list"]) if "column_list" in kw else None)
    return {"expectation_type": exp["type"], "column": column, "kwargs": kw, "meta": exp.get("meta", {})}


def _check_supported(suite: dict[str, Any]) -> None:
    unsupported = sorted({e["type"] for e in suite["expectations"]} - SUPPORTED)
    if unsupported:
        raise GovhubError(
            Problem(
                code="expectations.unsupported",
                message_zh=f"校验套件「{suite['name']}」含有快速校验不支持的规则类型",
                value="、".join(unsupported),
                expected="、".join(sorted(SUPPORTED)),
            )
        )


def evaluate_suite(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    suite: dict[str, Any],
    resource: Resource | None = None,
    *,
    n_rows: int | None = None,
) -> Evaluation:
    """Evaluate `suite` over `relation` in one pass; with `resource`, also turn failing rows into Problems. `n_rows`:
    the relation's row count when the caller knows it (the uniqueness checks need it; else counted)."""
    _check_supported(suite)
    ids.register_checks(con)
    types = relation_columns(con, relation)
    results: list[dict[str, Any]] = [_base_result(e) for e in suite["expectations"]]
    checks: list[_RowCheck] = []
    duplicates: list[str] = []
    for i, exp in enumerate(suite["expectations"]):
        absent = [c for c in _columns_of(exp) if c not in types]
        if absent:
            results[i].update(
                success=False,
                exception_info={
                    "raised_exception": True,
                    "exception_message": f"列缺失：{', '.join(absent)}",
                },
            )
        elif exp["type"] in KEY_LEVEL:
            n_rows = first_row(con, f"SELECT count(*) FROM {relation}")[0] if n_rows is None else n_rows
            source, temp = _duplicates(con, relation, i, _columns_of(exp), n_rows)
            duplicates += [temp] if temp else []
            checks.append(_row_check(i, exp, types, source))
        elif exp["type"] not in TABLE_LEVEL:
            checks.append(_row_check(i, exp, types, None))

    try:
        evaluation = _one_pass(con, relation, suite, types, results, checks)
    finally:
        for table in duplicates:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    if resource is not None:
        from govhub.expectations.row_problems import row_problems

        evaluation.row_problems = row_problems(resource, suite, evaluation)
    return evaluation


def _one_pass(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    suite: dict[str, Any],
    types: dict[str, str],
    results: list[dict[str, Any]],
    checks: list[_RowCheck],
) -> Evaluation:
    row_expr = quote(ROW_COLUMN) if ROW_COLUMN in types else "row_number() OVER ()"

    flags = ", ".join(f"{c.unexpected} AS u{c.index}, {c.missing or 'FALSE'} AS m{c.index}" for c in checks)
    inner = f"SELECT {row_expr} AS __row__{', ' + flags if flags else ''} FROM {relation}"
    aggregates = ", ".join(f"count_if(u{c.index}), count_if(m{c.index})" for c in checks)
    counts = first_row(con, f"SELECT count(*){', ' + aggregates if aggregates else ''} FROM ({inner})")
    n_rows = counts[0]

    for i, exp in enumerate(suite["expectations"]):
        if exp["type"] in TABLE_LEVEL and "exception_info" not in results[i]:
            results[i].update(_table_result(exp, types, n_rows), element_count=n_rows)
    for k, check in enumerate(checks):
        unexpected, missing = counts[1 + 2 * k], counts[2 + 2 * k]
        kw = suite["expectations"][check.index]["kwargs"]
        nonmissing = n_rows - missing
        results[check.index].update(
            success=_success(unexpected, nonmissing, kw.get("mostly")),
            element_count=n_rows,
            unexpected_count=unexpected,
            unexpected_percent=_pct(unexpected, nonmissing),
            missing_count=missing,
            missing_percent=_pct(missing, n_rows),
        )

    evaluation = Evaluation(results=results)
    failing = [c for c in checks if results[c.index]["unexpected_count"]]
    if failing:
        evaluation.failures = _fetch_failures(con, relation, row_expr, failing)
        for c in failing:
            rows = evaluation.failures[c.index]
            results[c.index]["partial_unexpected_list"] = [_joined(v) for _, v in rows[:PARTIAL_LIMIT]]
            results[c.index]["partial_unexpected_index_list"] = [r for r, _ in rows[:PARTIAL_LIMIT]]
    return evaluation


def _joined(values: dict[str, str | None]) -> str | None:
    return next(iter(values.values())) if len(values) == 1 else " / ".join(str(v) for v in values.values())


def _fetch_failures(
    con: duckdb.DuckDBPyConnection, relation: str, row_expr: str, failing: list[_RowCheck]
) -> dict[int, list[tuple[int, dict[str, str | None]]]]:
    columns = list(dict.fromkeys(c for check in failing for c in check.columns))
    values = ", ".join(f"{_text(c)} AS v{j}" for j, c in enumerate(columns))
    flags = ", ".join(f"{c.unexpected} AS u{c.index}" for c in failing)
    where = " OR ".join(f"u{c.index}" for c in failing)
    sql = f"SELECT * FROM (SELECT {row_expr} AS __row__, {flags}, {values} FROM {relation}) WHERE {where} ORDER BY __row__"
    out: dict[int, list[tuple[int, dict[str, str | None]]]] = {c.index: [] for c in failing}
    position = {c: 1 + len(failing) + j for j, c in enumerate(columns)}
    for row in con.execute(sql).fetchall():
        for k, check in enumerate(failing):
            if row[1 + k]:
                out[check.index].append((row[0], {c: row[position[c]] for c in check.columns}))
    return out
