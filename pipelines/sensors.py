"""Sensors: the inbox of uploaded fill-in sheets (each file loaded exactly once).

(No `from __future__ import annotations`: Dagster reads the resource annotation at definition time.)
"""

import hashlib
import json

import dagster as dg

from govhub.catalog.model import Catalog, DeliveryMethod
from govhub.pipelines.assets import HubResource, IngestConfig, asset_key, op_name


def _file_key(path, stat, inbox) -> str:
    """Identity of one upload: where, what and when — a re-upload of the same name is a new delivery.

    The change time (ctime) is set by the file system when the file is written into the inbox and cannot be carried
    over by a copy that keeps the modification time, so even an identical re-sent file gets a new key (and a new
    run key, which Dagster would otherwise drop as already run)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    written = max(stat.st_mtime_ns, stat.st_ctime_ns)
    return f"{path.relative_to(inbox).as_posix()}:{digest}:{written}"


def build_inbox_sensor(catalog: Catalog) -> dg.SensorDefinition:
    sheets = [r for r in catalog.resources if r.delivery.method is DeliveryMethod.SHEET]

    @dg.sensor(
        name="inbox_sensor",
        minimum_interval_seconds=15,
        default_status=dg.DefaultSensorStatus.RUNNING,
        asset_selection=dg.AssetSelection.assets(*[asset_key(r) for r in sheets]),
        description="每个上传到收件箱（inbox/<机构>/<资源>/）的填报文件恰好加载一次",
    )
    def inbox_sensor(context: dg.SensorEvaluationContext, hub: HubResource):
        from govhub.services.inbox import pending_uploads

        settings = hub.settings()
        cursor = json.loads(context.cursor) if context.cursor else {"seen": []}
        seen = set(cursor["seen"])
        present: set[str] = set()
        requests = []
        for resource in sheets:
            for item in pending_uploads(settings, resource):
                path = item.path
                key = _file_key(path, path.stat(), settings.inbox_dir)
                present.add(key)
                if key in seen:
                    continue
                requests.append(
                    dg.RunRequest(
                        run_key=key,
                        asset_selection=[asset_key(resource)],
                        run_config=dg.RunConfig(
                            # delivered as the person whose inbox folder it is in (the service attributes it)
                            ops={op_name(resource): IngestConfig(upload_path=str(path))}
                        ),
                        tags={
                            "govhub/upload": path.name,
                            "govhub/delivered_by": item.person or "",
                            "govhub/resource": f"{resource.agency}.{resource.id}",
                        },
                    )
                )
        # Processed files leave the inbox, so only keys of files still present need remembering.
        return dg.SensorResult(run_requests=requests, cursor=json.dumps({"seen": sorted(present)}))

    return inbox_sensor
