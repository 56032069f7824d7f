"""THE EQUIVALENCE TEST: Great Expectations and the one-pass DuckDB evaluator agree on every expectation.

Also: the custom identifier expectations register with GE and state their rules in Chinese (the Data Docs site is
tested in test_docs.py). GE costs ≈4 s to import and a few seconds to validate, hence `slow`.
"""

from __future__ import annotations

import duckdb
import pytest

from govhub.expectations.evaluate import evaluate_suite
from govhub.expectations.ge_runner import frame_for_ge, run_ge
from govhub.expectations.suites import build_suite
from tests.expectations.corpus import licence_resource, load_rows, planted_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def planted() -> tuple[duckdb.DuckDBPyConnection, dict]:
    resource = licence_resource(primary_key=["uscc", "permit_no"])
    rows, _ = planted_rows(3000)
    rows[40]["uscc"], rows[40]["permit_no"] = (
        rows[41]["uscc"],
        rows[41]["permit_no"],
    )  # a compound-key duplicate
    con = duckdb.connect()
    load_rows(con, resource, rows)
    suite = build_suite(
        resource,
        {
            "add": [
                {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "permit_no"}},
                {
                    "type": "expect_column_values_to_be_valid_cn_mobile",
                    "kwargs": {"column": "phone", "mostly": 0.5},
                },
            ]
        },
    )
    return con, suite


def test_ge_and_the_fast_path_agree_on_every_expectation(
    planted: tuple[duckdb.DuckDBPyConnection, dict],
) -> None:
    con, suite = planted
    fast = evaluate_suite(con, "staged", suite).results
    ge = run_ge(suite, frame_for_ge(con, "staged"))
    assert len(ge) == len(fast) == len(suite["expectations"])
    failures = 0
    for f, g in zip(fast, ge, strict=True):
        what = (f["expectation_type"], f["column"])
        assert g["expectation_type"] == f["expectation_type"] and g["column"] == f["column"]
        assert "exception_info" not in g, (what, g["exception_info"])
        assert f["success"] == g["success"], what
        if "unexpected_count" in g:
            assert f["unexpected_count"] == g["unexpected_count"], what
            if "missing_count" in g and "missing_count" in f:
                assert f["missing_count"] == g["missing_count"], what
        failures += not g["success"]
    # the planted errors make every kind of row expectation fail somewhere
    assert failures >= 17


def test_custom_expectations_register_with_ge() -> None:
    from great_expectations.expectations.registry import get_expectation_impl

    from govhub.expectations import ge_custom

    ge_custom.register()
    assert (
        get_expectation_impl("expect_column_values_to_be_valid_cn_id")
        is ge_custom.ExpectColumnValuesToBeValidCnId
    )
    assert (
        get_expectation_impl("expect_column_values_to_be_valid_uscc").__name__
        == "ExpectColumnValuesToBeValidUscc"
    )


def test_custom_expectations_state_their_rule_in_chinese() -> None:
    """GE's prescriptive renderers (the legacy one its pages use, and the atomic summary) say what the check means,
    in Chinese, with the tolerated share when `mostly` is set; the pages themselves are tested in test_docs.py."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.registry import get_renderer_impl
    from great_expectations.render import LegacyRendererType

    from govhub.expectations import ge_custom

    kind = "expect_column_values_to_be_valid_cn_id"
    cls = ge_custom.register()["ExpectColumnValuesToBeValidCnId"]
    legacy = get_renderer_impl(kind, LegacyRendererType.PRESCRIPTIVE).renderer
    config = ExpectationConfiguration(type=kind, kwargs={"column": "id_number", "mostly": 0.95})
    [block] = legacy(configuration=config)
    rule = "$column 列：公民身份号码格式与校验码正确（GB 11643），至少 $mostly_pct% 的非空值符合"
    assert block.string_template["template"] == rule and block.string_template["params"]["mostly_pct"] == "95"
    strict = cls(column="id_number")
    strict.render()
    [summary] = strict.rendered_content
    assert summary.value.template == "$column 列：公民身份号码格式与校验码正确（GB 11643）（空值不检查）"
