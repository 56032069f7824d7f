"""Data Docs for the whole hub: Great Expectations' HTML report of every resource's current snapshot.

Rendering costs GE's import (~4 s) plus ~1.5 s per resource, so it runs as its own step (`govhub quality docs`,
the Dagster `data_docs` job), never inside a load: a load's audit is the one-pass DuckDB evaluation.
"""

from __future__ import annotations

from pathlib import Path

from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings


def data_docs_index(settings: Settings) -> Path:
    return settings.reports_dir / "data_docs" / "index.html"


def build_hub_data_docs(
    settings: Settings, catalog: Catalog, resources: list[Resource] | None = None
) -> Path:
    """Validate each resource's current snapshot with GE and render the Data Docs site; returns its index page."""
    import duckdb

    from govhub.expectations.ge_runner import build_data_docs
    from govhub.expectations.offline_docs import localize_site
    from govhub.warehouse.diff import sql_str
    from govhub.warehouse.snapshots import current_info, data_glob, resource_paths

    index = data_docs_index(settings)
    with duckdb.connect() as con:
        for resource in resources or catalog.resources:
            info = current_info(settings, resource)
            if info is None or info.initial:
                continue
            folder = resource_paths(settings, resource).snapshots / info.id
            index = build_data_docs(
                settings, resource, con, f"read_parquet({sql_str(data_glob(folder))})", localize=False
            )
    if index.exists():
        localize_site(index.parent)  # once for the whole site, not once per resource
    return index
