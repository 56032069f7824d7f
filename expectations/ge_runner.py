"""Great Expectations itself, for what the fast path does not do: a second opinion (and, in `docs_site`, Data Docs).

`run_ge` validates a pandas DataFrame against a suite (as produced by `suites.build_suite`) in an ephemeral context.
GE (≈4 s to import) is imported only inside these functions.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

import duckdb

from govhub.catalog.arrow import ROW_COLUMN

if TYPE_CHECKING:
    import pandas as pd

RESULT_KEYS = (
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "missing_count",
    "observed_value",
    "unexpected_index_list",  # only with result_format="COMPLETE": which rows failed
)


def frame_for_ge(con: duckdb.DuckDBPyConnection, relation: str) -> pd.DataFrame:
    """The relation as a DataFrame GE can type-check: without __row__, text as `object` (GE 1.x has no name for
    pandas 3's `str` dtype, so it checks text value by value as Python `str`)."""
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    select = ", ".join(f'"{c}"' for c in columns if c != ROW_COLUMN)
    frame = con.execute(f"SELECT {select} FROM {relation}").df()
    for name in frame.columns:
        if str(frame[name].dtype) == "str":
            frame[name] = frame[name].astype(object)
    return frame


def quiet_ge() -> None:
    """No usage statistics sent; GE's own warnings kept out of our logs."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _context(mode: str = "ephemeral", **kwargs: Any) -> Any:
    quiet_ge()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from govhub.expectations.ge_custom import register

    register()
    context = gx.get_context(mode=mode, **kwargs)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def ge_suite(suite: dict[str, Any], name: str | None = None) -> Any:
    """A `suites.build_suite` suite as GE's `ExpectationSuite` (under `name` when given)."""
    from great_expectations.core.expectation_suite import ExpectationSuite

    expectations = [
        {"type": e["type"], "kwargs": e["kwargs"], "meta": e.get("meta", {})} for e in suite["expectations"]
    ]
    return ExpectationSuite(
        name=name or suite["name"],
        expectations=expectations,
        meta=suite.get("meta"),
        notes=suite.get("notes"),
    )


def _as_dict(result: Any) -> dict[str, Any]:
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    column = kwargs.get("column") or (", ".join(kwargs["column_list"]) if "column_list" in kwargs else None)
    out = {
        "expectation_type": config.type,
        "column": column,
        "success": bool(result.success),
        "kwargs": kwargs,
    }
    out.update({k: result.result[k] for k in RESULT_KEYS if k in (result.result or {})})
    if result.exception_info and result.exception_info.get("raised_exception"):
        out["exception_info"] = result.exception_info
    return out


def _validation_definition(context: Any, suite: dict[str, Any]) -> Any:
    import great_expectations as gx

    batch = context.data_sources.add_pandas("govhub").add_dataframe_asset(suite["name"])
    definition = batch.add_batch_definition_whole_dataframe("whole_load")
    stored = context.suites.add(ge_suite(suite))
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=suite["name"], data=definition, suite=stored)
    )


def run_ge(
    suite: dict[str, Any], df: pd.DataFrame, *, result_format: str = "SUMMARY"
) -> list[dict[str, Any]]:
    """Validate `df` with GE against `suite`; one result per expectation, in suite order, in GE's vocabulary
    (`result_format="COMPLETE"` adds every failing row's index, for value-by-value comparisons)."""
    context = _context()
    validation = _validation_definition(context, suite).run(
        batch_parameters={"dataframe": df}, result_format=result_format
    )
    return in_suite_order(suite, [_as_dict(r) for r in validation.results])


def _same(a: Any, b: Any) -> bool:
    """Kwarg equality as GE stores them (it may turn a list into a set)."""
    if isinstance(a, list | set | tuple) and isinstance(b, list | set | tuple):
        return sorted(map(str, a)) == sorted(map(str, b))
    return a == b


def in_suite_order(suite: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GE reports results in its own order: match each back to the suite's expectation (type + kwargs)."""
    remaining = list(results)
    ordered = []
    for exp in suite["expectations"]:
        for i, r in enumerate(remaining):
            if r["expectation_type"] == exp["type"] and all(
                _same(r["kwargs"][k], v) for k, v in exp["kwargs"].items() if k in r["kwargs"]
            ):
                ordered.append(remaining.pop(i))
                break
        else:
            raise LookupError(f"GE returned no result for {exp['type']} {exp['kwargs']}")
    return ordered
