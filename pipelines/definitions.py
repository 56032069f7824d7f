"""The Dagster code location: everything built from the catalog, global policies applied here in one place.

`dagster dev -m govhub.pipelines.definitions` serves it. Nothing is built at import: Dagster calls `defs()` (the
`@dg.definitions` loader) when it loads the code location, which is the edge where this process's settings are made.
"""

from __future__ import annotations

import dagster as dg

from govhub.catalog.load import load_valid_catalog
from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings, get_settings
from govhub.pipelines.assets import HubResource, build_resource_asset
from govhub.pipelines.events import build_hub_events_sensor
from govhub.pipelines.freshness import build_fresh_checks, build_freshness_sensor, freshness_policy
from govhub.pipelines.notify import build_notify_sensor
from govhub.pipelines.quality import data_docs_job, data_docs_schedule
from govhub.pipelines.schedules import build_schedules
from govhub.pipelines.sensors import build_inbox_sensor
from govhub.pipelines.sharing import build_sharing_clock_sensor
from govhub.pipelines.workspaces import GROUP as WORKSPACES
from govhub.pipelines.workspaces import build_workspace_assets, build_workspaces_sensor


def build_asset(catalog: Catalog, resource: Resource) -> dg.AssetsDefinition:
    """One resource's asset, with the policies that hold for every resource applied here, in one place
    (Dagster freshness from the update cycle; the steward from the agency list)."""
    agency = catalog.agencies.get(resource.agency)
    steward = f"{agency.name} · {agency.steward.name}" if agency else ""
    return build_resource_asset(resource, steward, freshness=freshness_policy(resource.cycle))


def build_assets(catalog: Catalog) -> list[dg.AssetsDefinition]:
    return [build_asset(catalog, r) for r in catalog.resources]


def hub_resource(settings: Settings) -> HubResource:
    return HubResource(home=str(settings.home), catalog=str(settings.catalog_dir))


def build_definitions(settings: Settings) -> dg.Definitions:
    catalog = load_valid_catalog(settings.catalog_dir)
    ingest_all = dg.define_asset_job(
        "ingest_all",
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups(WORKSPACES),
        description="加载全部资源",
    )
    return dg.Definitions(
        assets=[*build_assets(catalog), *build_workspace_assets(catalog)],
        asset_checks=[build_fresh_checks(catalog)],
        jobs=[ingest_all, data_docs_job],
        schedules=[*build_schedules(catalog), data_docs_schedule],
        sensors=[
            build_inbox_sensor(catalog),
            build_freshness_sensor(catalog),
            build_hub_events_sensor(catalog),
            build_sharing_clock_sensor(catalog),
            build_workspaces_sensor(catalog),
            build_notify_sensor(catalog),
        ],
        resources={"hub": hub_resource(settings)},
        executor=executor(settings),
    )


def executor(settings: Settings) -> dg.ExecutorDefinition | None:
    """Dagster's default (one process per step) unless a Celery broker is set: then every step is a task on
    `settings.celery_queue`, run by whichever worker takes it (`celery -A dagster_celery.app worker -Q …`)."""
    if not settings.celery_broker:
        return None
    from dagster_celery import celery_executor

    return celery_executor.configured(
        {
            "broker": settings.celery_broker,
            "backend": settings.celery_backend,
            "config_source": {"task_default_queue": settings.celery_queue},
        }
    )


def ingest_all_job() -> dg.JobDefinition:
    """`ingest_all` from a module-level function: what `dg.reconstructable` hands to Celery workers, which rebuild
    it from their own settings (the same GOVHUB_* environment as the process that launched the run)."""
    return build_definitions(get_settings()).resolve_job_def("ingest_all")


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(get_settings())
