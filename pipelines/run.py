"""Materialize catalog assets in-process (what `govhub ingest` / `govhub upload` / `govhub demo` use).

Runs go to the hub's own Dagster instance (`<home>/dagster`), so the UI shows every load the CLI made.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings
from govhub.pipelines.assets import IngestConfig, op_name
from govhub.pipelines.definitions import build_asset

DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"


def prepare_dagster_home(settings: Settings) -> Path:
    """A persistent DAGSTER_HOME under the data folder, configured by the project's dagster.yaml unless the
    instance already has its own (an administrator's PostgreSQL storage or limits are never overwritten)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    if DAGSTER_YAML.exists() and not (home / "dagster.yaml").exists():
        shutil.copyfile(DAGSTER_YAML, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _outcome_from(result: dg.ExecuteInProcessResult) -> dict[str, Any] | None:
    for event in result.get_asset_materialization_events():
        value = event.step_materialization_data.materialization.metadata.get("outcome")
        if value is not None:
            return value.data
    for event in result.all_events:
        if event.is_step_failure:
            failure = event.step_failure_data
            data = failure.user_failure_data
            if data and "outcome" in data.metadata:
                return data.metadata["outcome"].data
            return {
                "status": "failed",
                "errors": [failure.error.message.strip() if failure.error else "unknown error"],
            }
    return None


def materialize_resource(
    settings: Settings,
    catalog: Catalog,
    resource: Resource,
    *,
    upload: Path | None = None,
    actor: str = "cli",
) -> dict[str, Any]:
    """Run one resource's asset in-process; the load outcome as a dict (status, rows, inserted …, problems)."""
    prepare_dagster_home(settings)
    asset = build_asset(catalog, resource)
    config = IngestConfig(upload_path=str(upload) if upload else None, actor=actor)
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [asset],
            instance=instance,
            raise_on_error=False,
            # The CLI renders outcomes itself; Dagster's console log (with stack traces) stays in the run's event log.
            run_config=dg.RunConfig(
                ops={op_name(resource): config}, loggers={"console": {"config": {"log_level": "CRITICAL"}}}
            ),
            tags={"govhub/trigger": "cli", "govhub/actor": actor},
        )
    outcome = _outcome_from(result) or {"status": "failed", "errors": ["no outcome recorded"]}
    outcome.setdefault("agency", resource.agency)
    outcome.setdefault("resource", resource.id)
    outcome["code"] = resource.code
    return outcome


def materialize_many(
    settings: Settings,
    catalog: Catalog,
    resources: list[Resource],
    *,
    actor: str = "cli",
    on_done: Callable[[Resource, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    from govhub.catalog.model import DeliveryMethod
    from govhub.services.ingest import pending_uploads

    outcomes = []
    for resource in resources:
        if resource.delivery.method is DeliveryMethod.SHEET and not pending_uploads(settings, resource):
            outcome = {
                "agency": resource.agency,
                "resource": resource.id,
                "code": resource.code,
                "status": "no_upload",
            }
        else:
            outcome = materialize_resource(settings, catalog, resource, actor=actor)
        outcomes.append(outcome)
        if on_done:
            on_done(resource, outcome)
    return outcomes
