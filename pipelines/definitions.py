"""The Dagster code location: everything built from the catalog, global policies applied here in one place.

`dagster dev -m govhub.pipelines.definitions` serves it; `govhub ingest` materializes the same assets in-process.
"""

from __future__ import annotations

import logging

import dagster as dg

from govhub.catalog.load import load_catalog
from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings, get_settings
from govhub.pipelines.assets import build_resource_asset
from govhub.pipelines.freshness import build_fresh_checks, build_freshness_sensor, freshness_policy
from govhub.pipelines.quality import data_docs_job, data_docs_schedule
from govhub.pipelines.schedules import build_schedules
from govhub.pipelines.sensors import build_inbox_sensor

log = logging.getLogger(__name__)


def load_valid_catalog(settings: Settings) -> Catalog:
    """The catalog's valid entries; invalid ones are logged and left out rather than taking the code location down."""
    catalog, problems = load_catalog(settings.catalog_dir)
    for p in problems:
        log.warning("catalog problem (entry left out): %s", p)
    return catalog


def build_asset(catalog: Catalog, resource: Resource) -> dg.AssetsDefinition:
    """One resource's asset, with the policies that hold for every resource applied here, in one place
    (Dagster freshness from the update cycle; the steward from the agency list)."""
    agency = catalog.agencies.get(resource.agency)
    steward = f"{agency.name} · {agency.steward.name}" if agency else ""
    return build_resource_asset(resource, steward, freshness=freshness_policy(resource.cycle))


def build_assets(catalog: Catalog) -> list[dg.AssetsDefinition]:
    return [build_asset(catalog, r) for r in catalog.resources]


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or get_settings()
    catalog = load_valid_catalog(settings)
    assets = build_assets(catalog)
    ingest_all = dg.define_asset_job(
        "ingest_all", selection=dg.AssetSelection.all(), description="加载全部资源"
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=[build_fresh_checks(catalog)],
        jobs=[ingest_all, data_docs_job],
        schedules=[*build_schedules(catalog), data_docs_schedule],
        sensors=[build_inbox_sensor(catalog), build_freshness_sensor(catalog)],
    )


defs = build_definitions()
