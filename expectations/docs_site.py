"""The Data Docs site of the hub, as GE builds it: one context, one site, every resource in it.

The site's index lists what GE's stores hold, so the stores outlive a build: suites and validation results live as
GE's own JSON under `<home>/expectations/gx/` (filesystem stores in an ephemeral context — nothing else of GE's is
kept: data sources and validation definitions are rebuilt per process). A resource's build replaces its suite and
its validation result (only the latest is kept), renders its two pages and leaves every other page alone; the index
is rendered once per build from the stores, and pages whose source is gone are removed by GE as it does.
Importing this module imports GE (≈4 s): `docs.py` does so only when a build runs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import warnings
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.exceptions import GreatExpectationsError
from great_expectations.render.renderer.site_builder import SiteBuilder

from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings
from govhub.expectations.docs import (
    ResourceDocs,
    data_docs_dir,
    docs_suite_name,
    ge_store_dir,
    suite_page,
    validation_page,
)
from govhub.expectations.ge_runner import frame_for_ge, ge_suite, quiet_ge
from govhub.expectations.validate import suite_for
from govhub.problems import GovhubError
from govhub.warehouse.diff import sql_str
from govhub.warehouse.snapshots import SnapshotInfo, current_info, data_glob, resource_paths

SITE_NAME = "政务数据资源共享平台"
VIEWS = "govhub.expectations.docs_views"
DATASOURCE = "govhub"


def _filesystem(folder: Path) -> dict[str, Any]:
    return {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)}


def context_config(settings: Settings) -> DataContextConfig:
    """Suites and validation results on disk (the index is built from them); the rest in memory."""
    root = ge_store_dir(settings)
    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        stores={
            "expectations_store": {
                "class_name": "ExpectationsStore",
                "store_backend": _filesystem(root / "suites"),
            },
            "validation_results_store": {
                "class_name": "ValidationResultsStore",
                "store_backend": _filesystem(root / "validations"),
            },
            "checkpoint_store": {
                "class_name": "CheckpointStore",
                "store_backend": {"class_name": "InMemoryStoreBackend"},
            },
            "validation_definition_store": {
                "class_name": "ValidationDefinitionStore",
                "store_backend": {"class_name": "InMemoryStoreBackend"},
            },
        },
        analytics_enabled=False,
        progress_bars={"globally": False},
    )


def site_config(settings: Settings) -> dict[str, Any]:
    """GE's SiteBuilder with govhub's Chinese views (`docs_views`), no calls to action, no profiling section."""
    view = {"module_name": VIEWS, "class_name": "PageView"}
    return {
        "site_name": SITE_NAME,
        "store_backend": _filesystem(data_docs_dir(settings)),
        "show_how_to_buttons": False,
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "renderer": {"module_name": VIEWS, "class_name": "IndexPageRenderer"},
            "view": {"module_name": VIEWS, "class_name": "IndexPageView"},
        },
        "site_section_builders": {
            "expectations": {
                "renderer": {"module_name": VIEWS, "class_name": "SuitePageRenderer"},
                "view": view,
            },
            "validations": {
                "renderer": {"module_name": VIEWS, "class_name": "ValidationPageRenderer"},
                "view": view,
            },
            "profiling": "None",
        },
    }


class DocsSite:
    """One GE context and site builder for a whole build (however many resources it renders)."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        from govhub.expectations.ge_custom import register

        quiet_ge()
        register()
        self.settings = settings
        self.catalog = catalog
        self.context = gx.get_context(project_config=context_config(settings), mode="ephemeral")
        self.builder = SiteBuilder(data_context=self.context, **site_config(settings))
        self.datasource = self.context.data_sources.add_pandas(DATASOURCE)

    def _validation_keys(self, name: str) -> list[ValidationResultIdentifier]:
        return [
            k
            for k in self.context.validation_results_store.list_keys()
            if k.expectation_suite_identifier.name == name
        ]

    def prune(self, keep: set[str]) -> list[str]:
        """Remove the suites (and their results) of resources no longer in the catalog; returns their names."""
        gone = sorted(k.name for k in self.context.expectations_store.list_keys() if k.name not in keep)
        for name in gone:
            for key in self._validation_keys(name):
                self.context.validation_results_store.remove_key(key)
            self.context.suites.delete(name)
        return gone

    def render(self, resource: Resource, con: duckdb.DuckDBPyConnection) -> ResourceDocs:
        """Store the resource's suite, validate its current snapshot (if it has one), render its pages."""
        started = time.monotonic()
        name = docs_suite_name(resource)
        outcome = ResourceDocs(code=resource.code, name=resource.name, suite=name)
        try:
            suite = self.context.suites.add_or_update(ge_suite(suite_for(resource), name))
        except GovhubError as exc:  # an override file in error: this resource's pages stay as they were
            outcome.status, outcome.message_zh = "failed", f"校验规则有误，页面未更新：{exc}"[:300]
            return outcome
        for key in self._validation_keys(name):  # the latest result only: the index shows what holds now
            self.context.validation_results_store.remove_key(key)
        identifiers: list[Any] = [ExpectationSuiteIdentifier(name=name)]
        info = current_info(self.settings, resource)
        if info is None or info.initial:
            outcome.status = "no_data"
            outcome.message_zh = "尚无已发布的数据，仅生成校验规则页"
        else:
            try:
                self._validate(resource, suite, info, con, outcome)
                identifiers += self._validation_keys(name)
            except (duckdb.Error, OSError, GovhubError, GreatExpectationsError) as exc:
                outcome.status = "failed"
                outcome.message_zh = f"校验当前快照失败：{exc}"[:300]
        for section in self.builder.site_section_builders.values():
            section.build(resource_identifiers=identifiers)
        outcome.suite_page = str(suite_page(self.settings, resource))
        page = validation_page(self.settings, resource)
        outcome.validation_page = str(page) if page else None
        outcome.seconds = round(time.monotonic() - started, 2)
        return outcome

    def _validate(
        self,
        resource: Resource,
        suite: Any,
        info: SnapshotInfo,
        con: duckdb.DuckDBPyConnection,
        outcome: ResourceDocs,
    ) -> None:
        asset_name = self._asset_name(resource)
        asset = self.datasource.add_dataframe_asset(asset_name)
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(
                name=resource.code, data=asset.add_batch_definition_whole_dataframe("snapshot"), suite=suite
            )
        )
        folder = resource_paths(self.settings, resource).snapshots / info.id
        frame = frame_for_ge(con, f"read_parquet({sql_str(data_glob(folder))})")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
            result = definition.run(
                batch_parameters={"dataframe": frame},
                result_format="SUMMARY",
                run_id=RunIdentifier(run_name=info.id, run_time=dt.datetime.now(dt.UTC)),
            )
        # GE's pages read the asset's name from batch_spec, which its DataFrame assets leave without it ("None")
        result.meta["batch_spec"] = {**(result.meta.get("batch_spec") or {}), "data_asset_name": asset_name}
        for key in self._validation_keys(docs_suite_name(resource)):
            self.context.validation_results_store.set(key, result)
        stats = result.statistics
        outcome.status = "validated"
        outcome.snapshot_id = info.id
        outcome.rows = len(frame)
        outcome.success = bool(result.success)
        outcome.evaluated = int(stats.get("evaluated_expectations") or 0)
        outcome.unsuccessful = int(stats.get("unsuccessful_expectations") or 0)

    def _asset_name(self, resource: Resource) -> str:
        """松江区公安分局·hjrk: who delivers it, and the resource's id."""
        agency = self.catalog.agencies.get(resource.agency)
        return f"{agency.display_name if agency else resource.agency}·{resource.id}"

    def build_index(self) -> Path:
        """GE's static files and the index, from everything the stores hold (pages without a source are removed)."""
        self.builder.target_store.copy_static_assets()
        self.builder.site_index_builder.build()
        for root in (ge_store_dir(self.settings), data_docs_dir(self.settings)):
            _remove_empty_folders(root)
        return data_docs_dir(self.settings) / "index.html"


def _remove_empty_folders(root: Path) -> None:
    """The folders of replaced results and removed suites. (GE means to remove them with each key, but its test of
    an emptied folder is `not Path(...).iterdir()`, which is never true.)"""
    for folder, _subfolders, files in os.walk(root, topdown=False):
        if folder != str(root) and not files and not os.listdir(folder):
            os.rmdir(folder)
