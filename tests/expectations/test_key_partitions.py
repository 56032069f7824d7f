"""Uniqueness checks group their keys one hash partition at a time: the partitioned answer is the whole answer.

A load of 100M rows groups its ID numbers in partitions of `KEY_PARTITION_ROWS`; here the partitions are made tiny
so that 3,000 rows cross dozens of them, and every count and every flagged row must equal what counting in Python
gives (duplicates spread over partitions, NULLs in a compound key grouped as GE groups them).
"""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest

from govhub.expectations import evaluate
from govhub.expectations.suites import build_suite
from tests.expectations.corpus import licence_resource, load_rows, planted_rows


def _planted() -> tuple[duckdb.DuckDBPyConnection, dict, list[dict]]:
    resource = licence_resource(primary_key=["uscc", "permit_no"])
    rows, _ = planted_rows(3000)
    for i in range(100, 3000, 301):  # compound duplicates far apart
        rows[i]["uscc"], rows[i]["permit_no"] = rows[i - 97]["uscc"], rows[i - 97]["permit_no"]
    for i in (500, 501, 502):  # the same partly missing compound key three times
        rows[i]["uscc"], rows[i]["permit_no"] = None, "P-MISSING-USCC"
    for i in (700, 701):  # a wholly missing key: ignored, as GE ignores it
        rows[i]["uscc"], rows[i]["permit_no"] = None, None
    con = duckdb.connect()
    load_rows(con, resource, rows)
    unique_permit = {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "permit_no"}}
    return con, build_suite(resource, {"add": [unique_permit]}), rows


def _expected(rows: list[dict], cols: list[str]) -> set[int]:
    keys = [tuple(r[c] for c in cols) for r in rows]
    seen = Counter(k for k in keys if any(v is not None for v in k))
    return {i + 2 for i, k in enumerate(keys) if any(v is not None for v in k) and seen[k] > 1}


@pytest.mark.parametrize("partition_rows", [1_000_000, 250, 7])
def test_partitioned_uniqueness_equals_counting(monkeypatch: pytest.MonkeyPatch, partition_rows: int) -> None:
    con, suite, rows = _planted()
    monkeypatch.setattr(evaluate, "KEY_PARTITION_ROWS", partition_rows)
    result = evaluate.evaluate_suite(con, "staged", suite)
    checked = 0
    for i, exp in enumerate(suite["expectations"]):
        if exp["type"] not in evaluate.KEY_LEVEL:
            continue
        cols = evaluate._columns_of(exp)
        expected = _expected(rows, cols)
        assert result.results[i]["unexpected_count"] == len(expected), cols
        assert {row for row, _ in result.failures[i]} == expected, cols
        checked += 1
    assert checked == 2  # the compound primary key and the single column
    assert len(_expected(rows, ["uscc", "permit_no"])) >= 20 + 3
    # the temp tables of the duplicated keys are gone
    left = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '__duplicates%'"
    ).fetchone()
    assert left == (0,)
