"""The Chinese-identifier checks as Great Expectations 1.x custom `ColumnMapExpectation`s.

    ExpectColumnValuesToBeValidCnId          expect_column_values_to_be_valid_cn_id
    ExpectColumnValuesToBeValidUscc          expect_column_values_to_be_valid_uscc
    ExpectColumnValuesToBeValidAdminDivision expect_column_values_to_be_valid_admin_division
    ExpectColumnValuesToBeValidCnMobile      expect_column_values_to_be_valid_cn_mobile

Importing this module is cheap: GE (≈4 s) is imported and the classes are defined — which registers them with GE —
on first access to one of the names above or on `register()`. Values are judged by the same scalar rules as the
DuckDB fast path (`identifiers_sql.*_reason`), so both engines agree value by value. Data Docs state each rule, and
what was found, in Chinese (`ge_render_zh`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from govhub.expectations import identifiers_sql as ids

# class name -> (metric name, scalar rule: reason or None, the rule as Data Docs state it)
CHECKS: dict[str, tuple[str, Callable[[str], str | None], str]] = {
    "ExpectColumnValuesToBeValidCnId": (
        "column_values.valid_cn_id",
        ids.cn_id_reason,
        "公民身份号码格式与校验码正确（GB 11643）",
    ),
    "ExpectColumnValuesToBeValidUscc": (
        "column_values.valid_uscc",
        ids.uscc_reason,
        "统一社会信用代码格式、登记管理部门与机构类别、校验码正确（GB 32100）",
    ),
    "ExpectColumnValuesToBeValidAdminDivision": (
        "column_values.valid_admin_division",
        ids.admin_division_reason,
        "行政区划代码存在（6 位县级或松江区 9 位街镇）",
    ),
    "ExpectColumnValuesToBeValidCnMobile": (
        "column_values.valid_cn_mobile",
        ids.mobile_reason,
        "为大陆手机号码",
    ),
}


def _define(
    class_name: str, metric_name: str, reason: Callable[[str], str | None], description: str
) -> tuple[type, type]:
    import pandas as pd
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics.map_metric_provider import (
        ColumnMapMetricProvider,
        column_condition_partial,
    )

    from govhub.expectations.ge_render_zh import chinese_renderers

    def valid(cls: Any, column: pd.Series, **kwargs: Any) -> pd.Series:
        return column.map(lambda v: reason(str(v)) is None).astype(bool)

    metric = type(
        f"{class_name}Metric",
        (ColumnMapMetricProvider,),
        {
            "condition_metric_name": metric_name,
            "_pandas": column_condition_partial(engine=PandasExecutionEngine)(valid),
        },
    )
    expectation = type(
        class_name,
        (ColumnMapExpectation,),
        {
            "__doc__": f"Expect column values to be valid: {description}.",
            "__module__": __name__,
            "map_metric": metric_name,
            "success_keys": ("mostly",),
            "library_metadata": {"tags": ["govhub", "china"], "contributors": ["govhub"]},
            **chinese_renderers(description),
        },
    )
    return expectation, metric


@functools.cache
def register() -> dict[str, type]:
    """Import GE, define and register the custom expectations (and the Chinese renderers of the built-in ones the
    suites use); returns them by class name."""
    from govhub.expectations.ge_render_zh import register_builtin_renderers

    classes = {}
    for name, (metric_name, reason, description) in CHECKS.items():
        classes[name], _ = _define(name, metric_name, reason, description)
    register_builtin_renderers()
    return classes


def __getattr__(name: str) -> type:
    if name in CHECKS:
        return register()[name]
    raise AttributeError(name)
