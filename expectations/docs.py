"""Data Docs for the whole hub: Great Expectations' HTML report of every resource's suite and current snapshot.

One site, `reports/data_docs/`, whose index links every resource's suite page and its latest validation result.
`build_hub_data_docs` renders every resource (and drops the pages of resources gone from the catalog);
`build_resource_docs` renders just the given ones and updates the index, leaving the others' pages as they are —
for a sensor after a load. Both cost GE's import (≈4 s, once per process) plus a fraction of a second per resource,
so they run as their own step (`govhub quality docs`, the Dagster `data_docs` job), never inside a load: a load's
audit is the one-pass DuckDB evaluation. Builds take turns on a file lock (the index is shared).

This module does not import GE; `docs_site` does, when a build runs.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings
from govhub.locks import file_lock

# the characters GE's file stores refuse in a name, or read as a folder separator (".")
_NAME_SAFE = str.maketrans({".": "·", "/": "／", "\\": "＼"})


@dataclass
class ResourceDocs:
    """What a build did for one resource."""

    code: str
    name: str
    suite: str  # the suite's name in Data Docs: 实有人口（101010001）
    status: str = "pending"  # validated | no_data | failed
    success: bool | None = None
    evaluated: int = 0
    unsuccessful: int = 0
    rows: int | None = None
    snapshot_id: str | None = None
    suite_page: str | None = None
    validation_page: str | None = None
    seconds: float = 0.0
    message_zh: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary_zh(self) -> str:
        """One line for the CLI and Dagster's log: 户籍人口基本信息（101001001/000001）：通过 27/27 项（0.3 秒）."""
        if self.status == "validated":
            verdict = (
                f"通过 {self.evaluated}/{self.evaluated} 项"
                if self.success
                else f"未通过 {self.unsuccessful} 项（共 {self.evaluated} 项）"
            )
        else:
            verdict = self.message_zh or self.status
        return f"{self.name}（{self.code}）：{verdict}（{self.seconds:g} 秒）"


@dataclass
class DocsBuild:
    """A build's outcome: the index page and every resource rendered."""

    index: Path
    resources: list[ResourceDocs] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # suites of resources no longer in the catalog
    reports_index: Path | None = None  # the reports front page, when rewritten after (services.reports_index)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": str(self.index),
            "resources": [r.to_dict() for r in self.resources],
            "removed": self.removed,
            "reports_index": str(self.reports_index) if self.reports_index else None,
            "seconds": self.seconds,
        }


# (resources done so far, resources in this build, the one just done)
Progress = Callable[[int, int, ResourceDocs], None]


def data_docs_dir(settings: Settings) -> Path:
    return settings.reports_dir / "data_docs"


def data_docs_index(settings: Settings) -> Path:
    return data_docs_dir(settings) / "index.html"


def ge_store_dir(settings: Settings) -> Path:
    """GE's suites and latest validation results behind the site (JSON; outside the served reports folder)."""
    return settings.expectations_dir / "gx"


def docs_suite_name(resource: Resource) -> str:
    """The suite's name in Data Docs — page titles, index, file names: the catalog's Chinese name and code."""
    return f"{resource.name}（{resource.code}）".translate(_NAME_SAFE)


def suite_page(settings: Settings, resource: Resource) -> Path:
    return data_docs_dir(settings) / "expectations" / f"{docs_suite_name(resource)}.html"


def validation_page(settings: Settings, resource: Resource) -> Path | None:
    """The page of the resource's latest validation result (validations/<suite>/<run>/<time>/<batch>.html)."""
    pages = sorted(
        (data_docs_dir(settings) / "validations" / docs_suite_name(resource)).glob("*/*/*.html"),
        key=lambda p: p.parent.name,  # the run time, as GE writes it: 20261127T123251.676042Z
    )
    return pages[-1] if pages else None


@dataclass
class LatestValidation:
    page: Path
    validated_at: dt.datetime  # UTC
    success: bool | None  # None when GE's stored result cannot be read


def latest_validation(settings: Settings, resource: Resource) -> LatestValidation | None:
    """The resource's latest validation page, when it was validated and whether it passed — read from the files,
    without GE (for the reports site's index)."""
    page = validation_page(settings, resource)
    if page is None:
        return None
    at = dt.datetime.strptime(page.parent.name, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=dt.UTC)
    stored = ge_store_dir(settings) / page.relative_to(data_docs_dir(settings)).with_suffix(".json")
    try:
        success = bool(json.loads(stored.read_text(encoding="utf-8"))["success"])
    except (OSError, ValueError, KeyError):
        success = None
    return LatestValidation(page, at, success)


@contextmanager
def _site_lock(settings: Settings) -> Iterator[None]:
    """One build at a time per hub: the index and the stores are shared by all."""
    with file_lock(ge_store_dir(settings) / "docs.lock"):
        yield


def build_hub_data_docs(
    settings: Settings, catalog: Catalog, on_progress: Progress | None = None
) -> DocsBuild:
    """Render every resource of the catalog and the index; suites of resources gone from the catalog are removed."""
    return _build(settings, catalog, list(catalog.resources), on_progress, prune=True)


def build_resource_docs(
    settings: Settings, catalog: Catalog, resources: list[Resource], on_progress: Progress | None = None
) -> DocsBuild:
    """Validate and render just `resources` (e.g. after their loads) and update the index; other pages stay."""
    return _build(settings, catalog, resources, on_progress, prune=False)


def _build(
    settings: Settings,
    catalog: Catalog,
    resources: list[Resource],
    on_progress: Progress | None,
    *,
    prune: bool,
) -> DocsBuild:
    import duckdb

    from govhub.expectations.docs_site import DocsSite  # GE: ≈4 s, once per process (outside the lock)
    from govhub.expectations.offline_docs import localize_site

    started = time.monotonic()
    resources = list({r.code: r for r in resources}.values())  # each once, however often it was named
    with _site_lock(settings):
        site = DocsSite(settings, catalog)
        build = DocsBuild(index=data_docs_index(settings))
        if prune:
            build.removed = site.prune({docs_suite_name(r) for r in catalog.resources})
        with duckdb.connect() as con:
            for resource in resources:
                build.resources.append(site.render(resource, con))
                if on_progress:
                    on_progress(len(build.resources), len(resources), build.resources[-1])
        build.index = site.build_index()
        localize_site(data_docs_dir(settings))  # no CDN: government networks often have no internet
    build.seconds = round(time.monotonic() - started, 2)
    return build
