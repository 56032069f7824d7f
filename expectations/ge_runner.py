"""Great Expectations itself, for what the fast path does not do: a second opinion and human-readable Data Docs.

`run_ge` validates a pandas DataFrame against a suite (as produced by `suites.build_suite`) in an ephemeral context.
`build_data_docs` validates a staged relation and renders GE's HTML Data Docs under `<home>/reports/data_docs/`.
GE (≈4 s to import) is imported only inside these functions.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from govhub.catalog.arrow import ROW_COLUMN
from govhub.catalog.model import Resource
from govhub.config import Settings

if TYPE_CHECKING:
    import pandas as pd

SITE_NAME = "govhub_data_docs"
RESULT_KEYS = ("element_count", "unexpected_count", "unexpected_percent", "missing_count", "observed_value")


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


def _quiet() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _context(mode: str = "ephemeral", **kwargs: Any) -> Any:
    _quiet()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from govhub.expectations.ge_custom import register

    register()
    context = gx.get_context(mode=mode, **kwargs)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _ge_suite(suite: dict[str, Any]) -> Any:
    from great_expectations.core.expectation_suite import ExpectationSuite

    expectations = [
        {"type": e["type"], "kwargs": e["kwargs"], "meta": e.get("meta", {})} for e in suite["expectations"]
    ]
    return ExpectationSuite(
        name=suite["name"], expectations=expectations, meta=suite.get("meta"), notes=suite.get("notes")
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
    ge_suite = context.suites.add(_ge_suite(suite))
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=suite["name"], data=definition, suite=ge_suite)
    )


def run_ge(suite: dict[str, Any], df: pd.DataFrame) -> list[dict[str, Any]]:
    """Validate `df` with GE against `suite`; one result per expectation, in suite order, in GE's vocabulary."""
    context = _context()
    validation = _validation_definition(context, suite).run(
        batch_parameters={"dataframe": df}, result_format="SUMMARY"
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


def build_data_docs(
    settings: Settings,
    resource: Resource,
    con: duckdb.DuckDBPyConnection,
    relation: str,
    suite: dict[str, Any] | None = None,
    *,
    localize: bool = True,
) -> Path:
    """Validate `relation` with GE and render Data Docs under <home>/reports/data_docs/; returns the index page.
    `localize=False` leaves the pages pointing at CDNs, for a caller rendering many resources that localizes the
    site once at the end (`offline_docs.localize_site`)."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    from govhub.expectations.validate import suite_for

    suite = suite or suite_for(resource)
    site_dir = settings.reports_dir / "data_docs"
    site_dir.mkdir(parents=True, exist_ok=True)
    context = _context()
    context.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    definition = _validation_definition(context, suite)
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite['name']}.audit",
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="data_docs", site_names=[SITE_NAME])],
            result_format="SUMMARY",
        )
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
        checkpoint.run(batch_parameters={"dataframe": frame_for_ge(con, relation)})
    context.build_data_docs(site_names=[SITE_NAME])
    from govhub.expectations.offline_docs import localize_site

    if localize:
        localize_site(site_dir)  # no CDN: government networks often have no internet
    return site_dir / "index.html"
