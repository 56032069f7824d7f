"""One delivery of one resource, end to end: connector → landing → write-audit-publish → ledger.

This is the only ingestion path: the CLI (`govhub ingest`, `govhub upload`), the Dagster assets and the inbox sensor
all call `ingest_resource`. It knows no Dagster; it returns a `LoadOutcome` and never raises for bad input.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from govhub.catalog.model import DeliveryMethod, Resource
from govhub.config import Settings
from govhub.problems import GovhubError, Problem


def inbox_dir(settings: Settings, resource: Resource) -> Path:
    return settings.inbox_dir / resource.agency / resource.id


def pending_uploads(settings: Settings, resource: Resource) -> list[Path]:
    """Sheets waiting in the resource's inbox folder, oldest first (processed ones move to `processed/`)."""
    folder = inbox_dir(settings, resource)
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _archive_upload(settings: Settings, resource: Resource, path: Path) -> None:
    """Move a processed inbox file aside (its bytes are already in landing, so nothing is lost)."""
    folder = inbox_dir(settings, resource)
    if path.parent != folder or not path.exists():
        return
    done = folder / "processed"
    done.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    shutil.move(str(path), done / f"{stamp}-{path.name}")


def _failed(
    settings: Settings,
    resource: Resource,
    problems: list[Problem],
    *,
    actor: str,
    trigger: str,
    status: str,
    receipt=None,
):
    from govhub.warehouse.load import record_refusal

    return record_refusal(
        settings, resource, problems, actor=actor, trigger=trigger, receipt=receipt, status=status
    )


def ingest_resource(
    settings: Settings,
    resource: Resource,
    *,
    upload: Path | None = None,
    actor: str = "system",
    trigger: str = "manual",
):
    """Pull (API, database) or read an uploaded sheet, and run the one write-audit-publish load. Returns a LoadOutcome."""
    from govhub.expectations.validate import audit_key, validate_load
    from govhub.warehouse.landing import Landing
    from govhub.warehouse.load import current_cursor, run_load, zero_update_if_same_file
    from govhub.warehouse.snapshots import current_info

    landing = Landing(settings)
    method = resource.delivery.method
    receipt = None
    previous = current_info(settings, resource)
    key = None  # only a delivered file is recognised again by its audit key
    outcome = None
    try:
        if method is DeliveryMethod.SHEET:
            if upload is None:
                raise GovhubError(
                    Problem(
                        "sheet.no_upload",
                        f"填报类资源「{resource.name}」需要上传填报文件",
                        expected=".xlsx 或 .csv 文件",
                    )
                )
            receipt = landing.land_file(resource, upload, received_by=actor, source=f"upload:{upload.name}")
            key = audit_key(resource)
            # the very file the current snapshot was built from: a zero update without parsing it again
            outcome = zero_update_if_same_file(
                settings, resource, receipt, audit_key=key, actor=actor, trigger=trigger
            )
            if outcome is None:
                from govhub.connectors.sheet import read_sheet

                extract = read_sheet(resource, landing.open_blob(receipt), filename=upload.name)
            sink = None
        else:
            since = current_cursor(settings, resource)
            sink = landing.sink(resource, received_by=actor, source=method.value)
            if method is DeliveryMethod.API:
                from govhub.connectors.api import read_api

                extract = read_api(settings, resource, since=since, sink=sink)
            else:
                from govhub.connectors.database import read_database

                extract = read_database(settings, resource, since=since, sink=sink)
        if outcome is None:
            outcome = run_load(
                settings,
                resource,
                extract,
                receipt=receipt,
                sink=sink,
                validate=validate_load,
                audit_key=key,
                actor=actor,
                trigger=trigger,
            )
    except GovhubError as exc:
        # A refused upload is the agency's (rejected); a source the hub cannot reach is the hub's (failed).
        status = "rejected" if method is DeliveryMethod.SHEET else "failed"
        outcome = _failed(
            settings, resource, exc.problems, actor=actor, trigger=trigger, receipt=receipt, status=status
        )
    if upload is not None and outcome.status == "rejected" and upload.suffix.lower() in (".xlsx", ".csv"):
        _annotate(settings, resource, landing, receipt, upload, outcome)
    if upload is not None:
        _archive_upload(settings, resource, upload)
    _record_in_ledger(settings, resource, outcome, actor)
    _watch(settings, resource, outcome, previous.rows if previous and not previous.initial else None)
    return outcome


def _watch(settings: Settings, resource: Resource, outcome, previous_rows: int | None) -> None:
    """Signals beyond pass/fail: catalog drift (§10) and silent anomalies (far fewer rows, no zero update)."""
    from govhub.governance.alerts import check_volume, raise_alert
    from govhub.governance.drift import flag_drift

    now = dt.datetime.now(dt.UTC)
    flag_drift(settings, resource, outcome.problems, at=now)
    # Volume anomalies are about data that arrived: a publish, or a refusal for having far fewer rows than usual —
    # not a file refused before any row was read (that one has its own report).
    too_few = any(p.code == "load.too_few_rows" for p in outcome.problems)
    if (outcome.status == "published" or too_few) and outcome.rows is not None:
        alert = check_volume(resource, outcome.rows, previous_rows, at=now, period=outcome.load_id)
        if alert is not None:
            raise_alert(settings, alert)


def _annotate(settings: Settings, resource: Resource, landing, receipt, upload: Path, outcome) -> None:
    """Give the agency back its own workbook with every offending cell marked."""
    if receipt is None or not outcome.problems:
        return
    from govhub.connectors.annotate import annotate_workbook

    dest = (
        settings.reports_dir
        / resource.agency
        / resource.id
        / outcome.load_id
        / f"{upload.stem}-错误标注.xlsx"
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        outcome.annotated_path = str(annotate_workbook(landing.open_blob(receipt), outcome.problems, dest))
    except GovhubError:
        outcome.annotated_path = (
            None  # a file we cannot open cannot be annotated; the report still lists problems
        )


def _record_in_ledger(settings: Settings, resource: Resource, outcome, actor: str) -> None:
    """The submission ledger names who delivered (§17: whoever uses it is responsible)."""
    from govhub.governance.ledger import record_load_outcome

    record_load_outcome(settings, resource, {**outcome.to_dict(), "actor": actor}, at=dt.datetime.now(dt.UTC))


def source_changed(settings: Settings, resource: Resource) -> bool | None:
    """Whether an interface-fed source now holds different content than the current snapshot (None: cannot tell).

    Used before accepting a declared zero update (§11): an API or database feed whose content changed cannot be
    zero-updated. A full verification pull, fingerprinted exactly as snapshots are; nothing is published.
    """
    if resource.delivery.method is DeliveryMethod.SHEET:
        return None  # the hub cannot see an agency's spreadsheets before they are uploaded
    import tempfile

    import duckdb
    import pyarrow.parquet as pq

    from govhub.connectors.base import NullSink
    from govhub.warehouse.diff import snapshot_fingerprint, sql_str, table_fingerprint
    from govhub.warehouse.normalize import normalise_batch
    from govhub.warehouse.snapshots import current_info, resource_paths

    info = current_info(settings, resource)
    if info is None or info.initial:
        return None
    if resource.delivery.method is DeliveryMethod.API:
        from govhub.connectors.api import read_api

        extract = read_api(settings, resource, since=None, sink=NullSink())
    else:
        from govhub.connectors.database import read_database

        extract = read_database(settings, resource, since=None, sink=NullSink())
    with tempfile.TemporaryDirectory(prefix="govhub-check-") as tmp:
        path = f"{tmp}/pulled.parquet"
        writer = None
        for batch in extract.batches:
            batch = normalise_batch(resource, batch)
            writer = writer or pq.ParquetWriter(path, batch.schema)
            writer.write_batch(batch)
        if writer is None:
            return info.rows != 0
        writer.close()
        with duckdb.connect() as con:
            pulled = table_fingerprint(con, resource, f"read_parquet({sql_str(path)})")
            folder = resource_paths(settings, resource).snapshots / info.id
            return pulled != snapshot_fingerprint(con, resource, folder, info)
