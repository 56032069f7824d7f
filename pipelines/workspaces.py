"""Per-agency workspaces in Dagster (§14): an asset per agency, rebuilt when something in its scope changes.

`workspaces/<agency>` depends on the resources every build of it reads (the agency's own and other agencies' base
resources shared unconditionally: lineage in the UI); grants come and go at run time, so `workspaces_sensor` reads
the event log and asks for a rebuild of exactly the agencies a publish or a grant change concerns. Queries never wait
for it: every read path brings the workspace to today's scope itself (`services.workspaces.ensure_current`).
(No `from __future__ import annotations`: Dagster reads the resource annotation at definition time.)
"""

import datetime as dt
import json
from typing import Any

import dagster as dg

from govhub.catalog.model import Catalog, Resource, ShareType
from govhub.pipelines.assets import HubResource, asset_key

GROUP = "workspaces"
EVENTS = ["load.published", "grant.*"]


def workspace_key(agency: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, agency])


def _shared_base(resource: Resource) -> bool:
    return resource.resource_class.is_base and resource.share.type is ShareType.UNCONDITIONAL


def agencies(catalog: Catalog) -> list[str]:
    return sorted(a.id for a in catalog.agencies.values() if not a.coordinator)


def build_workspace_assets(catalog: Catalog) -> list[dg.AssetsDefinition]:
    out = []
    for agency in agencies(catalog):
        reads = [asset_key(r) for r in catalog.resources if r.agency == agency or _shared_base(r)]
        out.append(_workspace_asset(catalog, agency, reads))
    return out


def _workspace_asset(catalog: Catalog, agency: str, reads: list[dg.AssetKey]) -> dg.AssetsDefinition:
    name = catalog.agencies[agency].display_name

    @dg.asset(key=workspace_key(agency), deps=reads, group_name=GROUP, kinds={"duckdb"},
              description=f"{name}的工作区：本单位资源、普遍共享的基础资源和生效中的共享授权（§14）")  # fmt: skip
    def _asset(context: dg.AssetExecutionContext, hub: HubResource) -> dg.MaterializeResult:
        from govhub.services.workspaces import build

        settings = hub.settings()
        done = build(settings, catalog, agency, actor="system:dagster", reason=f"dagster:{context.run_id}")
        return dg.MaterializeResult(metadata={
            "tables": dg.MetadataValue.json(done.tables), "bytes": done.bytes,
            "duration_s": round(done.duration_s, 3), "path": dg.MetadataValue.path(str(done.path)),
        })  # fmt: skip

    return _asset


def affected_agencies(catalog: Catalog, settings: Any, event: Any, today: dt.date) -> set[str]:
    """Whose workspace an event changes: a publish — the owner, everyone if it is a base resource shared
    unconditionally, the holders of live grants on it; a grant change — its consumer."""
    from govhub.governance.grants import list_grants

    everyone = set(agencies(catalog))
    if event.kind.startswith("grant."):
        return {event.agency} & everyone
    try:
        resource = catalog.resource(event.subject)
    except KeyError:
        return set()
    if _shared_base(resource):
        return everyone
    holders = {g.consumer for g in list_grants(settings, provider=resource.agency, live_on=today)
               if g.resource == resource.id}  # fmt: skip
    return ({resource.agency} | holders) & everyone


def build_workspaces_sensor(catalog: Catalog) -> dg.SensorDefinition:
    @dg.sensor(
        name="workspaces_sensor",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        asset_selection=dg.AssetSelection.assets(*[workspace_key(a) for a in agencies(catalog)]),
        description="资源发布或共享授权变化时，重建受影响部门的工作区",
    )
    def workspaces_sensor(context: dg.SensorEvaluationContext, hub: HubResource):
        from govhub.clock import today_in_beijing
        from govhub.events import list_events

        settings = hub.settings()
        cursor = json.loads(context.cursor) if context.cursor else {"event_id": 0}
        events = list_events(settings, after_id=cursor["event_id"], kinds=EVENTS, limit=500)
        if not events:
            return dg.SkipReason("nothing published, no grant changed")
        today = today_in_beijing()
        wanted: set[str] = set()
        for event in events:
            wanted |= affected_agencies(catalog, settings, event, today)
        last = events[-1].id
        requests = [dg.RunRequest(run_key=f"workspaces-{last}",
                                  asset_selection=[workspace_key(a) for a in sorted(wanted)])] if wanted else []  # fmt: skip
        return dg.SensorResult(run_requests=requests, cursor=json.dumps({"event_id": last}))

    return workspaces_sensor
