"""Pull an interface- or database-fed resource (§11 接口交换): a schedule, an engineer or the agency's steward.

`pull_resource` authorizes the actor, reads the source through its connector (every page or chunk landed as received
before anything is published), loads it and returns the typed outcome: a source the hub cannot reach is a `failed`
outcome with a Chinese message, never an exception. `source_changed` answers whether a feed's content moved since its
current snapshot (a declared zero update must not hide a change).
"""

from __future__ import annotations

from govhub.access import Action, authorize
from govhub.catalog.model import DeliveryMethod, Resource
from govhub.config import Settings
from govhub.problems import GovhubError, Problem
from govhub.services.loads import after_load, previous_rows, reconcile
from govhub.states import LoadStatus
from govhub.warehouse.load import LoadOutcome


def pull_resource(settings: Settings, resource: Resource, *, actor: str, via: str = "cli") -> LoadOutcome:
    """Authorize, pull and load; raises `AccessDenied` (recorded) when `actor` may not pull for this agency."""
    if resource.delivery.method is DeliveryMethod.SHEET:
        raise GovhubError(
            Problem("sheet.no_upload", f"「{resource.name}」为填报类资源，需由数据专管员上传填报文件")
        )
    who = authorize(settings, actor, Action.PULL, resource.agency)
    from govhub.expectations.validate import validate_load
    from govhub.warehouse.landing import Landing
    from govhub.warehouse.load import current_cursor, record_refusal, run_load

    reconcile(settings, resource)
    before = previous_rows(settings, resource)
    sink = Landing(settings).sink(resource, received_by=who.name, source=resource.delivery.method.value)
    try:
        extract = _read(settings, resource, since=current_cursor(settings, resource), sink=sink)
        outcome = run_load(settings, resource, extract, receipt=None, sink=sink, validate=validate_load,
                           actor=who.name, trigger=via)  # fmt: skip
    except GovhubError as exc:  # a source the hub cannot reach or read is the hub's failure, not the agency's
        outcome = record_refusal(settings, resource, exc.problems, actor=who.name, trigger=via,
                                 status=LoadStatus.FAILED)  # fmt: skip
    return after_load(settings, resource, outcome, actor=who.name, previous_rows=before)


def _read(settings: Settings, resource: Resource, *, since, sink):  # type: ignore[no-untyped-def]
    if resource.delivery.method is DeliveryMethod.API:
        from govhub.connectors.api import read_api

        return read_api(settings, resource, since=since, sink=sink)
    from govhub.connectors.database import read_database

    return read_database(settings, resource, since=since, sink=sink)


def source_changed(settings: Settings, resource: Resource) -> bool | None:
    """Whether an interface-fed source now holds different content than the current snapshot (None: cannot tell).

    A full verification pull, fingerprinted exactly as snapshots are; nothing is landed or published."""
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
    extract = _read(settings, resource, since=None, sink=NullSink())
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
