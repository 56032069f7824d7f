"""One Dagster asset per catalog resource: thin glue over `govhub.services.ingest.ingest_resource`.

(No `from __future__ import annotations` here: Dagster reads the config annotation at definition time.)
The asset's checks are emitted in the same step as the load (write, audit, publish): the audit has already decided
whether the snapshot was published, so a blocking check that fails here means nothing was published.
"""

from typing import Any

import dagster as dg

from govhub.catalog.model import DeliveryMethod, Resource

KIND_BY_METHOD = {DeliveryMethod.API: "api", DeliveryMethod.DATABASE: "sql", DeliveryMethod.SHEET: "excel"}
CHECK_SCHEMA = "schema_matches_catalog"
CHECK_KEYS = "primary_key_unique"
CHECK_ROWS = "rows_within_quality_policy"


class IngestConfig(dg.Config):
    """Run configuration of a resource's asset."""

    upload_path: str | None = None  # a sheet to load; without it, a sheet asset loads its pending inbox files
    actor: str = "dagster"


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


def check_results(outcome: Any) -> list[dg.AssetCheckResult]:
    """Check results from a load outcome's problems (the audit already ran inside the load)."""
    codes = [p.code for p in outcome.problems]
    schema_bad = [
        c
        for c in codes
        if c.startswith(("sheet.missing_column", "sheet.unknown_column", "db.missing_column", "schema"))
    ]
    dup_bad = [c for c in codes if "duplicate_key" in c]
    bad_pct = 100.0 * outcome.quarantined / outcome.rows if outcome.rows else 0.0
    rows_ok = outcome.status in ("published", "zero_update")
    return [
        dg.AssetCheckResult(
            check_name=CHECK_SCHEMA, passed=not schema_bad, metadata={"problems": len(schema_bad)}
        ),
        dg.AssetCheckResult(
            check_name=CHECK_KEYS, passed=not dup_bad, metadata={"duplicate_rows": len(dup_bad)}
        ),
        dg.AssetCheckResult(
            check_name=CHECK_ROWS,
            passed=rows_ok,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"quarantined_rows": outcome.quarantined, "bad_row_pct": round(bad_pct, 3)},
        ),
    ]


def outcome_metadata(outcome: Any) -> dict[str, Any]:
    """What a person wants to see on the asset page after a load."""
    meta: dict[str, Any] = {
        "status": outcome.status,
        "dagster/row_count": outcome.rows,
        "inserted": outcome.inserted,
        "updated": outcome.updated,
        "deleted": outcome.deleted,
        "unchanged": outcome.unchanged,
        "quarantined": outcome.quarantined,
        "held": outcome.held,
        "snapshot_id": outcome.snapshot_id or "",
        "landing_sha256": outcome.landing_sha256 or "",
        "duration_s": round(outcome.duration_s, 3),
        "load_id": outcome.load_id,
        "outcome": dg.JsonMetadataValue(outcome.to_dict()),
    }
    if outcome.preview:
        meta["preview"] = dg.MetadataValue.md(_markdown_preview(outcome.preview))
    from govhub.config import get_settings
    from govhub.pipelines.quality import data_docs_url

    meta["data_docs"] = dg.MetadataValue.url(data_docs_url(get_settings()))
    if outcome.report_path:
        meta["report"] = dg.MetadataValue.path(str(outcome.report_path))
    if outcome.problems:
        meta["problems"] = dg.MetadataValue.md("\n".join(f"- {p}" for p in outcome.problems[:50]))
    return meta


def _delivery_metadata(upload: Any, outcome: Any) -> dict[str, Any]:
    return outcome_metadata(outcome) | ({"upload": upload.name} if upload is not None else {})


def _deliveries_table(outcomes: list[tuple[Any, Any]]) -> str:
    """Every load of a run that took several pending sheets, in the order they were loaded."""
    lines = ["| # | file | status | rows | problems | load |", "|---|---|---|---|---|---|"]
    for i, (upload, o) in enumerate(outcomes, 1):
        name = upload.name if upload is not None else "—"
        lines.append(f"| {i} | {name} | {o.status} | {o.rows} | {o.problem_count} | {o.load_id} |")
    return "\n".join(lines)


def _markdown_preview(rows: list[dict[str, Any]]) -> str:
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(r.get(h, "")) for h in headers) + " |" for r in rows[:10]]
    return "\n".join(lines)


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
    def _load(context: dg.AssetExecutionContext, config: IngestConfig):
        from pathlib import Path

        from govhub.config import get_settings
        from govhub.services.ingest import ingest_resource, pending_uploads

        settings = get_settings()
        if resource.delivery.method is DeliveryMethod.SHEET:
            if config.upload_path and not Path(config.upload_path).is_file():
                # A stale request: that file was already loaded (or replaced) and has left the inbox.
                name = Path(config.upload_path).name
                raise dg.Failure(description=f"上传文件“{name}”已不在收件箱中（已被处理或被新的上传替换）")
            uploads = (
                [Path(config.upload_path)] if config.upload_path else pending_uploads(settings, resource)
            )
            if not uploads:
                raise dg.Failure(description=f"「{resource.name}」没有待处理的填报文件（收件箱为空）")
        else:
            uploads = [None]
        outcomes = []
        for upload in uploads:
            outcome = ingest_resource(
                settings, resource, upload=upload, actor=config.actor, trigger=context.run_id
            )
            outcomes.append((upload, outcome))
            context.log.info(f"{resource.agency}/{resource.id}: {outcome.status} ({outcome.rows} rows)")
        for upload, earlier in outcomes[
            :-1
        ]:  # each delivery of the run shows on the asset, not just the last
            context.log_event(
                dg.AssetObservation(asset_key=key, metadata=_delivery_metadata(upload, earlier))
            )
        upload, outcome = outcomes[-1]
        metadata = _delivery_metadata(upload, outcome)
        if len(outcomes) > 1:
            metadata["deliveries"] = dg.MetadataValue.md(_deliveries_table(outcomes))
        yield from check_results(outcome)  # the checks describe what is current after the run: the last load
        if outcome.status not in ("published", "zero_update"):
            raise dg.Failure(
                description=f"{resource.name}: {outcome.status}; "
                + "；".join(str(p) for p in outcome.problems[:5]),
                metadata=metadata,
            )
        yield dg.MaterializeResult(
            metadata=metadata, data_version=dg.DataVersion(outcome.snapshot_id or "initial")
        )

    return _load
