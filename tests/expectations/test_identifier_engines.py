"""The four engines of the identifier checks give the same verdict for every value of a generated corpus (valid
numbers, near misses, lower-case and full-width forms, every USCC head of the GB 32100 table): the scalar rules
(row messages), the vectorised NumPy functions, the same as DuckDB functions in SQL, and the Great Expectations
custom expectations. GE costs ≈4 s to import, hence `slow`."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from govhub.expectations import identifier_arrays as arrays
from govhub.expectations import identifiers_sql as ids
from govhub.expectations.ge_runner import run_ge
from tests.expectations.corpus import identifier_corpus

pytestmark = pytest.mark.slow

ENGINES = {
    # column: (GE expectation, scalar rule, vectorised function, SQL expression)
    "cn_id": (
        "expect_column_values_to_be_valid_cn_id",
        ids.cn_id_reason,
        arrays.cn_id_valid,
        ids.cn_id_valid_sql,
    ),
    "uscc": ("expect_column_values_to_be_valid_uscc", ids.uscc_reason, arrays.uscc_valid, ids.uscc_valid_sql),
}


def _sql_verdicts(values: list[str], expression) -> list[bool]:
    con = duckdb.connect()
    ids.register_checks(con)
    con.register("corpus", pa.table({"value": pa.array(values, pa.string()), "i": range(len(values))}))
    return [r[0] for r in con.execute(f"SELECT {expression('value')} FROM corpus ORDER BY i").fetchall()]


def test_scalar_numpy_sql_and_ge_agree_value_by_value() -> None:
    cn_ids, usccs = identifier_corpus()
    columns = {"cn_id": cn_ids, "uscc": usccs}
    for column, (expectation, reason, vectorised, sql) in ENGINES.items():
        values = columns[column]
        suite = {
            "name": f"engines_{column}",
            "expectations": [{"type": expectation, "kwargs": {"column": column}}],
        }
        frame = pd.DataFrame({column: pd.Series(values, dtype=object)})
        (ge,) = run_ge(suite, frame, result_format="COMPLETE")
        failing = set(ge["unexpected_index_list"])
        by_ge = [i not in failing for i in range(len(values))]
        by_scalar = [reason(v) is None for v in values]
        assert vectorised(pa.array(values)).to_pylist() == by_scalar, column
        assert _sql_verdicts(values, sql) == by_scalar, column
        assert by_ge == by_scalar, column
        # the corpus exercises both verdicts and the new rules
        assert 0.2 < sum(by_scalar) / len(values) < 0.8
    assert any(v.endswith("x") for v in cn_ids) and any("Ｘ" in v for v in cn_ids)
