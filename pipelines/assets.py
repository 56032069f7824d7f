"""One Dagster asset per catalog resource: thin glue over the services every other entry point calls.

(No `from __future__ import annotations` here: Dagster reads the config annotation at definition time.)
A run pulls the resource (`pull_resource`) or loads its sheets (`upload_sheet` / the inbox, each authorized as the
person who delivered it). The audit already decided inside the load whether the snapshot was published; the asset's
checks only display that one verdict (`govhub.warehouse.verdict`), so a blocking check that fails here means nothing
was published. Loads made outside Dagster (CLI, portal) reach the same asset through `hub_events_sensor`.
"""

from pathlib import Path
from typing import Any

import dagster as dg

from govhub.catalog.model import DeliveryMethod, Resource
from govhub.config import Settings, get_settings

KIND_BY_METHOD = {DeliveryMethod.API: "api", DeliveryMethod.DATABASE: "sql", DeliveryMethod.SHEET: "excel"}
CHECK_SCHEMA = "schema_matches_catalog"
CHECK_KEYS = "primary_key_unique"
CHECK_ROWS = "rows_within_quality_policy"
VIA_PREFIX = "dagster:"  # a load's trigger when a Dagster run made it (the events sensor leaves those alone)


class HubResource(dg.ConfigurableResource):
    """The hub a code location serves: its data and catalog folders; everything else from the environment of the
    process that runs (the edge where settings are made)."""

    home: str
    catalog: str

    def settings(self) -> Settings:
        return get_settings(self.home, self.catalog)


class IngestConfig(dg.Config):
    """Run configuration of a resource's asset."""

    upload_path: str | None = None  # a sheet to load; without it, a sheet asset loads its pending inbox files
    actor: str = ""  # who runs it; default: the schedule for scheduled runs, else "system:dagster"


def asset_key(resource: Resource) -> dg.AssetKey:
    return dg.AssetKey([resource.agency, resource.id])


def op_name(resource: Resource) -> str:
    return f"{resource.agency}__{resource.id}"


def _definition_metadata(resource: Resource, steward: str) -> dict[str, Any]:
    columns = [
        dg.TableColumn(
            name=f.name,
            type=f.type.value,
            description=f"{f.label}" + (f" · {f.semantic.value}" if f.semantic else ""),
            constraints=dg.TableColumnConstraints(
                nullable=not f.required, unique=resource.primary_key == [f.name]
            ),
        )
        for f in resource.fields
    ]
    return {
        "资源名称": resource.name,
        "资源代码": resource.code,
        "资源分类": resource.resource_class.label,
        "共享类型": resource.share.type.label,
        "共享条件": resource.share.conditions or resource.share.legal_basis or "",
        "更新周期": resource.cycle.label,
        "提供方式": resource.delivery.method.value,
        "数据管理员": steward,
        "主键": ", ".join(resource.primary_key),
        "dagster/column_schema": dg.TableSchema(columns=columns),
    }


def _check_specs(resource: Resource, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(CHECK_SCHEMA, asset=key, blocking=resource.quality.block_on_schema_mismatch,
                          description="delivered columns match the catalog's fields"),
        dg.AssetCheckSpec(CHECK_KEYS, asset=key, blocking=resource.quality.block_on_duplicate_keys,
                          description=f"primary key ({', '.join(resource.primary_key)}) is unique"),
        dg.AssetCheckSpec(CHECK_ROWS, asset=key, blocking=True,
                          description=f"bad rows ≤ {resource.quality.max_bad_row_pct}% (quarantined, never dropped)"),
    ]  # fmt: skip


def check_evaluations(key: dg.AssetKey, verdict: dict[str, Any]) -> list[dg.AssetCheckEvaluation]:
    """The load's recorded verdict (`AuditVerdict.to_dict()`) as the asset's three checks."""
    out = []
    for name, part in ((CHECK_SCHEMA, "schema"), (CHECK_KEYS, "keys"), (CHECK_ROWS, "rows")):
        check = verdict[part]
        severity = dg.AssetCheckSeverity.ERROR if check["blocking"] else dg.AssetCheckSeverity.WARN
        metadata: dict[str, Any] = {"problems": check["problems"]}
        if part == "rows":
            metadata["bad_row_pct"] = verdict["bad_row_pct"]
        out.append(dg.AssetCheckEvaluation(asset_key=key, check_name=name, passed=check["passed"], severity=severity,
                                           description=check["note_zh"], metadata=metadata))  # fmt: skip
    return out


def outcome_metadata(settings: Settings, outcome: dict[str, Any]) -> dict[str, Any]:
    """What a person wants to see on the asset page after a load (from the outcome as recorded)."""
    meta: dict[str, Any] = {
        "status": outcome["status"],
        "dagster/row_count": outcome.get("rows") or 0,
        **{
            k: outcome.get(k) or 0
            for k in ("inserted", "updated", "deleted", "unchanged", "quarantined", "held")
        },
        "snapshot_id": outcome.get("snapshot_id") or "",
        "landing_sha256": outcome.get("landing_sha256") or "",
        "duration_s": round(outcome.get("duration_s") or 0.0, 3),
        "load_id": outcome.get("load_id") or "",
        "actor": outcome.get("actor") or "",
        "outcome": dg.JsonMetadataValue(outcome),
        "data_docs": dg.MetadataValue.url(settings.reports_url_for("data_docs/index.html")),
    }
    if outcome.get("preview"):
        meta["preview"] = dg.MetadataValue.md(_markdown_preview(outcome["preview"]))
    if outcome.get("report_path"):
        meta["report"] = dg.MetadataValue.path(str(outcome["report_path"]))
    if outcome.get("problems"):
        meta["problems"] = dg.MetadataValue.md("\n".join(f"- {p}" for p in outcome["problems"][:50]))
    return meta


def _deliveries_table(outcomes: list[tuple[Any, Any]]) -> str:
    """Every load of a run that took several pending sheets, in the order they were loaded."""
    lines = ["| # | file | status | rows | problems | load |", "|---|---|---|---|---|---|"]
    for i, (upload, o) in enumerate(outcomes, 1):
        name = upload.name if upload is not None else "—"
        lines.append(f"| {i} | {name} | {o.status.label} | {o.rows} | {o.problem_count} | {o.load_id} |")
    return "\n".join(lines)


def _markdown_preview(rows: list[dict[str, Any]]) -> str:
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(r.get(h, "")) for h in headers) + " |" for r in rows[:10]]
    return "\n".join(lines)


def _display(outcome: Any) -> dict[str, Any]:
    data = outcome.to_dict()
    data["problems"] = [str(p) for p in outcome.problems]
    return data


def run_actor(context: dg.AssetExecutionContext, config: IngestConfig) -> str:
    """Who a run acts as: its config's actor, else the schedule that launched it, else a manual Dagster launch."""
    if config.actor:
        return config.actor
    return "system:schedule" if context.run.tags.get("dagster/schedule_name") else "system:dagster"


def _load(settings: Settings, resource: Resource, config: IngestConfig, actor: str, via: str) -> list[tuple]:
    """The loads one run makes, as (upload path or None, outcome); refusals of the actor are outcomes too."""
    from govhub.problems import AccessDenied
    from govhub.services.inbox import inbox_dir
    from govhub.services.loads import refused
    from govhub.services.pull import pull_resource
    from govhub.services.upload import deliver_inbox, upload_sheet

    if resource.delivery.method is not DeliveryMethod.SHEET:
        try:
            return [(None, pull_resource(settings, resource, actor=actor, via=via))]
        except AccessDenied as exc:
            return [(None, refused(resource, exc.problems))]
    if config.upload_path:
        path = Path(config.upload_path)
        # a stale request: that file was already loaded (or replaced) and left the inbox
        if not path.is_file():
            raise dg.Failure(description=f"上传文件“{path.name}”已不在收件箱中（已被处理或被新的上传替换）")
        # an inbox file: delivered by the person whose folder it is
        if inbox_dir(settings, resource) in path.parents:
            return deliver_inbox(settings, resource, via=via, only=path)
        try:
            return [(path, upload_sheet(settings, resource, path, actor=actor, via=via))]
        except AccessDenied as exc:
            return [(path, refused(resource, exc.problems))]
    loads = deliver_inbox(settings, resource, via=via)
    if not loads:
        raise dg.Failure(description=f"「{resource.name}」没有待处理的填报文件（收件箱为空）")
    return loads


def build_resource_asset(
    resource: Resource, steward: str = "", *, freshness: dg.FreshnessPolicy | None = None
) -> dg.AssetsDefinition:
    """The asset for one catalog resource (key `agency/resource`, grouped by agency)."""
    key = asset_key(resource)
    tags = {
        "govhub/delivery": resource.delivery.method.value,
        "govhub/share_type": resource.share.type.value,
        "govhub/class": resource.resource_class.value,
        "govhub/cycle": resource.cycle.value,
    }

    @dg.asset(
        key=key,
        op_tags={"govhub/resource": f"{resource.agency}.{resource.id}"},
        group_name=resource.agency,
        kinds={KIND_BY_METHOD[resource.delivery.method], "parquet"},
        tags=tags,
        description=f"{resource.name}（{resource.code}）：{resource.summary}",
        metadata=_definition_metadata(resource, steward),
        check_specs=_check_specs(resource, key),
        freshness_policy=freshness,
    )
    def _asset(context: dg.AssetExecutionContext, config: IngestConfig, hub: HubResource):
        settings = hub.settings()
        loads = _load(settings, resource, config, run_actor(context, config), f"{VIA_PREFIX}{context.run_id}")
        for _, outcome in loads:
            context.log.info(f"{resource.agency}/{resource.id}: {outcome.status.value} ({outcome.rows} rows)")
        for upload, earlier in loads[:-1]:  # each delivery of the run shows on the asset, not just the last
            metadata = outcome_metadata(settings, _display(earlier)) | (
                {"upload": upload.name} if upload else {}
            )
            context.log_event(dg.AssetObservation(asset_key=key, metadata=metadata))
        upload, outcome = loads[-1]
        metadata = outcome_metadata(settings, _display(outcome)) | ({"upload": upload.name} if upload else {})
        if len(loads) > 1:
            metadata["deliveries"] = dg.MetadataValue.md(_deliveries_table(loads))
        if outcome.verdict is not None:  # the checks describe what is current after the run: the last load
            for evaluation in check_evaluations(key, outcome.verdict.to_dict()):
                yield dg.AssetCheckResult(check_name=evaluation.check_name, passed=evaluation.passed,
                                          severity=evaluation.severity, description=evaluation.description,
                                          metadata=evaluation.metadata)  # fmt: skip
        if not outcome.status.current_confirmed:
            raise dg.Failure(
                description=f"{resource.name}：{outcome.status.label}；"
                + "；".join(str(p) for p in outcome.problems[:5]),
                metadata=metadata,
            )
        yield dg.MaterializeResult(
            metadata=metadata, data_version=dg.DataVersion(outcome.snapshot_id or "initial")
        )

    return _asset
