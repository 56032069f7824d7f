"""`hub_events_sensor`: what happened outside Dagster, shown on the assets (every load visible in the UI).

Loads made by the CLI, the portal or the demo, and zero updates declared anywhere, are recorded by the services in the
hub's event log; this sensor reads the log from its cursor and reports each one on its asset without a run — a
publish or automatic zero update as a materialization, a refused or failed delivery as an observation — with the
load's three checks exactly as the load's audit decided them. Loads made by Dagster runs are reported by the run
itself and skipped here — except a publish reconciled after its run was killed (`warehouse/journal.py`). Every tick that saw loads also asks for one `data_docs` run over just those resources, so
Data Docs follow the loads (GE costs seconds to import: never inside a load). (No `from __future__ import
annotations`: Dagster reads the resource annotation.)
"""

import json
from typing import Any

import dagster as dg

from govhub.catalog.model import Catalog
from govhub.pipelines.assets import VIA_PREFIX, HubResource, check_evaluations, outcome_metadata
from govhub.pipelines.quality import data_docs_job

LOAD_EVENTS = "load.*"
ZERO_UPDATE_EVENT = "zero_update.declared"
BATCH = 500  # events read per tick (the cursor carries on next tick)


def load_events(event: Any, known: set[str], settings: Any) -> list[Any]:
    """The asset events one `load.*` event stands for (none for Dagster's own runs or unknown resources)."""
    payload = event.payload
    own_run = str(payload.get("trigger", "")).startswith(VIA_PREFIX)
    if event.subject not in known or (own_run and not payload.get("reconciled")):
        return []  # a Dagster run reports its own load — unless it was killed first, and the load reconciled later
    key = dg.AssetKey(event.subject.split("/"))
    outcome = {**payload, "actor": event.actor}
    metadata = outcome_metadata(settings, outcome) | {
        "event_id": event.id,
        "via": str(payload.get("trigger", "")),
    }
    description = f"{payload.get('status')}（{event.actor}，{payload.get('trigger', '')}）"
    if payload.get("status") in ("published", "zero_update"):
        main: Any = dg.AssetMaterialization(asset_key=key, description=description, metadata=metadata)
    else:
        main = dg.AssetObservation(asset_key=key, description=description, metadata=metadata)
    verdict = payload.get("verdict")
    return [main, *(check_evaluations(key, verdict) if verdict else [])]


def zero_update_event(event: Any, known: set[str]) -> list[Any]:
    if event.subject not in known:
        return []
    return [
        dg.AssetMaterialization(
            asset_key=dg.AssetKey(event.subject.split("/")),
            description=f"零更新（{event.payload.get('period')}），报送人 {event.actor}",
            metadata={"status": "zero_update_declared", "period": event.payload.get("period") or "",
                      "by": event.actor, "event_id": event.id},
        )
    ]  # fmt: skip


def docs_request(resources: list[str], event_id: int) -> dg.RunRequest:
    """One Data Docs run over the resources just loaded (keyed by the last event seen: asked for once)."""
    config = {"ops": {"build_data_docs_op": {"config": {"resources": resources}}}}
    return dg.RunRequest(
        run_key=f"data-docs-after-{event_id}", run_config=config, tags={"govhub/trigger": "loads"}
    )


def build_hub_events_sensor(catalog: Catalog) -> dg.SensorDefinition:
    known = {f"{r.agency}/{r.id}" for r in catalog.resources}

    @dg.sensor(
        name="hub_events_sensor",
        minimum_interval_seconds=15,
        default_status=dg.DefaultSensorStatus.RUNNING,
        job=data_docs_job,
        description="把 Dagster 之外（命令行、门户、演示）完成的加载和零更新申报显示在对应资产上",
    )
    def hub_events_sensor(context: dg.SensorEvaluationContext, hub: HubResource):
        from govhub.events import list_events

        settings = hub.settings()
        cursor = json.loads(context.cursor) if context.cursor else {"event_id": 0}
        asset_events: list[Any] = []
        events = list_events(
            settings, after_id=cursor["event_id"], limit=BATCH, kinds=[LOAD_EVENTS, ZERO_UPDATE_EVENT]
        )
        for event in events:
            if event.kind == ZERO_UPDATE_EVENT:
                asset_events += zero_update_event(event, known)
            else:
                asset_events += load_events(event, known, settings)
        last = max([cursor["event_id"], *(e.id for e in events)])
        loaded = sorted({e.subject for e in events if e.kind.startswith("load.") and e.subject in known})
        requests = [docs_request(loaded, last)] if loaded else []
        return dg.SensorResult(
            asset_events=asset_events, run_requests=requests, cursor=json.dumps({"event_id": last})
        )

    return hub_events_sensor
