"""The one write-audit-publish path for a load of one resource.

write:   stream the extract's batches, normalised to catalog types, into the staged rows (with `__row__`): kept in
         memory as Arrow up to `settings.stage_memory_bytes`, streamed into a staged Parquet file beyond (bounded memory)
audit:   run the validation hook and the connector's problems; quarantine rows with blocking problems; apply the
         resource's quality policy (blocking table problems, bad-row share, empty or shrunken loads)
publish: build the new snapshot (incremental extracts are upserted onto the current one by primary key), compare its
         fingerprint with the current one (identical → zero update, nothing written), else diff and switch `current`.

Everything happens under the resource's lock, in `_staging/<load_id>/`, which is removed however the load ends; the
previous snapshot stays current unless the new one is published whole. A rejected load is an outcome, not an
exception. Every outcome is recorded (`hub/_meta/loads/`, the event log).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from govhub.catalog.arrow import ROW_COLUMN, arrow_schema
from govhub.catalog.model import Resource
from govhub.config import Settings
from govhub.connectors.base import Extract
from govhub.connectors.diagnosis import Diagnosis, diagnose
from govhub.duck import first_row, shared_cursor
from govhub.problems import GovhubError, Problem
from govhub.states import LoadStatus
from govhub.warehouse import journal
from govhub.warehouse.diff import (
    HASH_VERSION,
    DiffCounts,
    columns_of,
    diff_hashes,
    quote,
    snapshot_fingerprint,
    snapshot_hashes,
    sql_str,
    stored_hashes_usable,
    write_row_hashes,
)
from govhub.warehouse.landing import LandingSink, Receipt
from govhub.warehouse.meta import (
    DISK_FULL,
    disk_full,
    iso,
    new_load_id,
    next_snapshot_id,
    pause_point,
    process_alive,
    utc_now,
    write_meta,
)
from govhub.warehouse.normalize import conform_sql, normalise_batch
from govhub.warehouse.reports import report_dir, write_problem_report
from govhub.warehouse.snapshots import (
    CHANGES_FILE,
    DATA_FILE,
    HASHES_FILE,
    PARQUET_OPTIONS,
    SnapshotInfo,
    current_cursor,
    current_info,
    data_glob,
    new_staging,
    publish,
    recover,
    resource_lock,
    resource_paths,
)
from govhub.warehouse.verdict import AuditVerdict


class Validate(Protocol):
    """The audit's validation hook: checks the staged `relation` (catalog columns + `__row__`, `rows` rows — the
    load counted them while staging, so the hook need not) and returns its row and table problems."""

    def __call__(
        self, resource: Resource, con: duckdb.DuckDBPyConnection, relation: str, *, rows: int
    ) -> Any: ...


DISPLAY_PROBLEMS = 200  # problems carried in the outcome; the report keeps all
PREVIEW_ROWS = 10
STAGE_ROWS = 128_000  # rows buffered per staged row group: bounded memory, few row groups
# staged.parquet lives for one load and is read 3-4 times: lz4 writes 25% faster than zstd and reads 25% faster
# (1M rows: 0.38 vs 0.50 s written, 0.17 vs 0.24 s per hashing pass), at 1.6x the transient size
STAGE_COMPRESSION = "lz4"
STAGED_VIEW = "govhub_staged"  # the in-memory staged rows as registered on the load's connection

__all__ = ["LoadOutcome", "current_cursor", "record_refusal", "run_load", "zero_update_if_same_file"]


@dataclass
class LoadOutcome:
    load_id: str
    agency: str
    resource: str
    status: LoadStatus
    rows: int = 0  # rows delivered
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    quarantined: int = 0
    held: int = 0  # keys whose delivered row was quarantined and whose previous version was kept
    snapshot_id: str | None = None  # the published one (zero update: the current one it confirmed)
    previous_snapshot_id: str | None = None
    landing_sha256: str | None = None
    duration_s: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    report_path: str | None = None
    preview: list[dict[str, Any]] = field(default_factory=list)
    expectation_results: list[dict[str, Any]] = field(default_factory=list)
    annotated_path: str | None = None  # the agency's workbook with errors marked (set by the upload service)
    verdict: AuditVerdict | None = None  # the audit's three checks, set once when the load ends

    def to_dict(self) -> dict[str, Any]:
        """A shallow dict (serialised straight away; `asdict`'s deep copy of the results cost ≈3 ms per call)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["status"] = self.status.value
        data["problems"] = [p.to_dict() for p in self.problems]
        data["verdict"] = self.verdict.to_dict() if self.verdict else None
        # an explicit marker: `problems` lists what is shown; all `problem_count` are in the report
        data["problems_shown"] = len(self.problems)
        data["problems_truncated"] = self.problem_count > len(self.problems)
        for name in ("preview", "expectation_results"):
            data[name] = list(data[name])
        return data


class _Rejected(Exception):
    """Internal: the delivered data cannot be published; carries the problems for the outcome."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problems")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


_THREAD = threading.local()


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A fresh cursor (own temp tables and registrations, gone when it closes) on this thread's DuckDB database for
    the hub: opening a database costs ≈15 ms, a cursor < 1 ms, which matters for a hub of many small loads."""
    key = (os.getpid(), str(settings.hub_dir))
    cached = getattr(_THREAD, "database", None)
    if cached is None or cached[0] != key:
        if cached is not None and cached[0][0] == os.getpid():
            cached[1].close()  # one database per thread: a process serving another hub drops the previous one
        _THREAD.database = cached = (key, _open_database(settings))
    return shared_cursor(cached[1])


def _open_database(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the loads' memory limit, spilling to `hub/_spill/<pid>-<thread>/` (DuckDB cannot
    change its spill folder once used, so it is the process's, not a load's); spill folders of dead processes go."""
    spill = settings.hub_dir / "_spill"
    if spill.is_dir():
        for folder in spill.iterdir():
            if not process_alive(int(folder.name.split("-")[0]) if folder.name[:1].isdigit() else 0):
                shutil.rmtree(folder, ignore_errors=True)
    # DuckDB makes only the last folder: a fresh hub's first spill failed
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = {sql_str(settings.duckdb_memory_limit)}")
    if settings.duckdb_threads:
        con.execute(f"SET threads = {int(settings.duckdb_threads)}")
    con.execute(f"SET temp_directory = {sql_str(spill / f'{os.getpid()}-{threading.get_native_id()}')}")
    return con


@dataclass
class _Load:
    settings: Settings
    resource: Resource
    extract: Extract
    receipt: Receipt | None
    validate: Validate | None
    actor: str
    trigger: str
    load_id: str
    work: Path
    outcome: LoadOutcome
    sink: LandingSink | None = None
    audit_key: str | None = None
    bad_rows: int = 0  # distinct row numbers with a blocking problem (the `bad_rows` temp table when > 0)
    first_staged: pa.RecordBatch | None = None  # the first normalised rows, for the preview
    staged_table: pa.Table | None = None  # the staged rows when they fit in memory (else staged.parquet)
    table_problems: list[Problem] = field(default_factory=list)
    row_problems: list[Problem] = field(default_factory=list)
    # causes said once per column (connectors.diagnosis)
    diagnosis: Diagnosis = field(default_factory=Diagnosis)
    notes: list[Problem] = field(default_factory=list)  # about the load itself, not the data (e.g. it waited)
    # the current snapshot when the load began (read once, under the lock), and the journal entry `begin` wrote
    previous: SnapshotInfo | None = None
    begun: dict[str, Any] = field(default_factory=dict)

    @property
    def staged(self) -> str:
        if self.staged_table is not None:
            return STAGED_VIEW
        return f"read_parquet({sql_str(self.work / 'staged.parquet')})"

    @property
    def candidate(self) -> Path:
        return self.work / "snapshot"

    # write ------------------------------------------------------------------------------------------------------

    def stage(self) -> int:
        """Stream the extract into the staged rows, normalised; returns rows delivered. Rows stay in memory until
        they pass `settings.stage_memory_bytes` (a 1M-row sheet ≈ 130 MB: no staged file to write and read 3-4
        times), then everything goes to staged.parquet in `STAGE_ROWS` row groups."""
        policy = self.resource.quality
        schema = arrow_schema(self.resource, with_row=True)
        rows, pending, pending_rows, pending_bytes = 0, [], 0, 0  # pending: not yet written (all, in memory)
        writer: pq.ParquetWriter | None = None
        try:
            for batch in self.extract.batches:  # a GovhubError here is the source's failure → failed
                self._check_columns(batch.schema.names, strict=policy.block_on_schema_mismatch)
                try:
                    normalised = normalise_batch(self.resource, batch, first_row=rows + 1, allow_missing=True)
                except GovhubError as exc:
                    raise _Rejected(exc.problems) from exc
                if self.first_staged is None and normalised.num_rows:
                    self.first_staged = normalised.slice(0, PREVIEW_ROWS)
                rows += normalised.num_rows
                pending.append(normalised)
                pending_rows += normalised.num_rows
                pending_bytes += normalised.nbytes
                if writer is None and pending_bytes <= self.settings.stage_memory_bytes:
                    if rows // STAGE_ROWS != (rows - normalised.num_rows) // STAGE_ROWS:
                        pause_point("staging")
                    continue
                if writer is None:  # past the budget: from now on the rows stream to a file
                    writer = pq.ParquetWriter(
                        self.work / "staged.parquet", schema, compression=STAGE_COMPRESSION
                    )
                if pending_rows >= STAGE_ROWS:
                    writer.write_table(pa.Table.from_batches(pending, schema))
                    pending, pending_rows = [], 0
                    pause_point("staging")
            if writer is None:
                self.staged_table = pa.Table.from_batches(pending, schema)
            elif pending:
                writer.write_table(pa.Table.from_batches(pending, schema))
        finally:
            if writer is not None:
                writer.close()
        return rows

    def _check_columns(self, names: list[str], *, strict: bool) -> None:
        missing = [f for f in self.resource.fields if f.name not in names]
        known = {p.field for p in self.table_problems if p.code == "load.schema_mismatch"}
        found = [
            Problem(
                code="load.schema_mismatch",
                message_zh=f"交付的数据缺少目录规定的信息项「{f.label}」",
                column=f.label,
                field=f.name,
                expected=f"包含信息项「{f.label}」({f.name})",
                blocking=strict,
            )
            for f in missing
            if f.name not in known
        ]
        if found and strict:
            raise _Rejected(found)
        self.table_problems.extend(found)

    def close_sink(self) -> None:
        """Land the manifest of a pulled input (also for a failed pull: what arrived is kept)."""
        if self.sink is not None and self.receipt is None:
            self.receipt = self.sink.close()
            self.outcome.landing_sha256 = self.receipt.sha256

    # audit ------------------------------------------------------------------------------------------------------

    def audit(self, con: duckdb.DuckDBPyConnection, rows: int) -> int:
        """Validation hook + connector problems; quarantine; policy. Returns the number of good rows."""
        result = self.validate(self.resource, con, self.staged, rows=rows) if self.validate else None
        read_failed = [p for p in self.extract.problems if p.row is not None]
        if result is not None:
            self.row_problems += _not_empty_but_unreadable(result.row_problems, read_failed)
            self.table_problems += list(result.table_problems)
            self.outcome.expectation_results = _unreadable_not_null(result.expectation_results, read_failed)
        self.row_problems += read_failed
        self.table_problems += [p for p in self.extract.problems if p.row is None]
        if self.validate is None:
            self.table_problems += self._duplicate_keys(con)
        self.diagnosis = diagnose(self.resource, self.row_problems)
        quarantined = self._quarantine(con)
        self.outcome.quarantined = quarantined
        good = rows - quarantined
        self._apply_policy(rows, quarantined, good)
        return good

    def _duplicate_keys(self, con: duckdb.DuckDBPyConnection) -> list[Problem]:
        """Without a validation hook the load still refuses an ambiguous primary key (the diff depends on it)."""
        keys = ", ".join(quote(k) for k in self.resource.primary_key)
        dups = con.execute(
            f"SELECT {keys}, count(*) FROM {self.staged} GROUP BY ALL HAVING count(*) > 1 LIMIT 20"
        ).fetchall()
        labels = "、".join(self.resource.field(k).label for k in self.resource.primary_key)
        return [
            Problem(
                code="load.duplicate_key",
                message_zh=f"主键（{labels}）重复出现 {d[-1]} 次",
                value="|".join(str(v) for v in d[:-1]),
                expected="主键唯一",
                blocking=self.resource.quality.block_on_duplicate_keys,
            )
            for d in dups
        ]

    def _quarantine(self, con: duckdb.DuckDBPyConnection) -> int:
        bad = sorted({p.row for p in self.row_problems if p.blocking and p.row is not None})
        self.bad_rows = len(bad)
        if not bad:
            return 0  # nothing to set aside: no table, no query
        con.register("bad_rows_arrow", pa.table({ROW_COLUMN: pa.array(bad, pa.int64())}))
        con.execute("CREATE TEMP TABLE bad_rows AS SELECT * FROM bad_rows_arrow")
        con.unregister("bad_rows_arrow")
        folder = report_dir(self.settings, self.resource, self.load_id)
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT s.* FROM {self.staged} s SEMI JOIN bad_rows USING ({ROW_COLUMN}) ORDER BY {ROW_COLUMN}) "
            f"TO {sql_str(folder / 'quarantine.parquet')} ({PARQUET_OPTIONS})"
        )
        return first_row(con, f"SELECT count(*) FROM read_parquet({sql_str(folder / 'quarantine.parquet')})")[
            0
        ]

    def _apply_policy(self, rows: int, quarantined: int, good: int) -> None:
        policy = self.resource.quality
        blocking = [p for p in self.table_problems if p.blocking]
        if blocking:
            raise _Rejected([])
        pct = 100.0 * quarantined / rows if rows else 0.0
        if pct > policy.max_bad_row_pct:
            raise _Rejected(
                [
                    Problem(
                        code="load.too_many_bad_rows",
                        message_zh=f"有问题的记录 {quarantined} 条，占 {pct:.2f}%，超过允许的 {policy.max_bad_row_pct}%，本次数据未发布",
                        value=f"{pct:.2f}%",
                        expected=f"不超过 {policy.max_bad_row_pct}%",
                    )
                ]
            )
        if good == 0 and self.extract.mode != "incremental":
            raise _Rejected([Problem(code="load.no_good_rows", message_zh="没有可以发布的记录")])
        previous = self.previous
        if (
            self.extract.mode == "full"
            and previous is not None
            and not previous.initial
            and previous.rows > 0
            and good < policy.min_rows_ratio * previous.rows
        ):
            raise _Rejected(
                [
                    Problem(
                        code="load.too_few_rows",
                        message_zh=f"本次 {good} 条记录，不足上次发布的 {previous.rows} 条的 {policy.min_rows_ratio:.0%}，疑似数据不完整，未发布",
                        value=str(good),
                        expected=f"至少 {int(policy.min_rows_ratio * previous.rows)} 条",
                    )
                ]
            )

    # publish ----------------------------------------------------------------------------------------------------

    def _current_rows(self, con: duckdb.DuckDBPyConnection, prev_folder: Path) -> str:
        """The previous snapshot's rows conformed to the catalog's current columns and types, as a subquery."""
        current = f"read_parquet({sql_str(data_glob(prev_folder))})"
        return f"(SELECT {conform_sql(self.resource, columns_of(con, current))} FROM {current})"

    def good_relation(self, con: duckdb.DuckDBPyConnection, prev_folder: Path | None) -> str:
        """The rows to publish: the delivered good rows, plus — for a full delivery — the previous version of every
        key whose delivered row was quarantined, so one bad cell never makes a record vanish from the hub."""
        if self.bad_rows == 0:
            return f"(SELECT * EXCLUDE ({ROW_COLUMN}) FROM {self.staged})"
        good = f"(SELECT s.* EXCLUDE ({ROW_COLUMN}) FROM {self.staged} s ANTI JOIN bad_rows USING ({ROW_COLUMN}))"
        # an upsert keeps the previous rows anyway
        if prev_folder is None or self.extract.mode == "incremental":
            return good
        keys = ", ".join(quote(k) for k in self.resource.primary_key)
        current = self._current_rows(con, prev_folder)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE held AS SELECT c.* FROM "
            f"{current} c "
            f"SEMI JOIN (SELECT {keys} FROM {self.staged} s SEMI JOIN bad_rows USING ({ROW_COLUMN})) q USING ({keys}) "
            f"ANTI JOIN (SELECT {keys} FROM {good}) g USING ({keys})"
        )
        self.outcome.held = first_row(con, "SELECT count(*) FROM held")[0]
        return f"(SELECT * FROM {good} UNION ALL BY NAME SELECT * FROM held)" if self.outcome.held else good

    def build_and_publish(self, con: duckdb.DuckDBPyConnection) -> None:
        previous = self.previous
        paths = resource_paths(self.settings, self.resource)
        prev_folder = paths.snapshot(previous.id) if previous else None
        self.outcome.previous_snapshot_id = previous.id if previous else None
        good = self.good_relation(con, prev_folder)
        hashes = self.candidate / HASHES_FILE
        data = self.candidate / DATA_FILE
        upsert = self.extract.mode == "incremental" and previous is not None
        if upsert:
            self._write_upserted(con, good, prev_folder, data)
            fingerprint = write_row_hashes(con, self.resource, f"read_parquet({sql_str(data)})", hashes)
        else:  # the one hashing pass writes (key, row_hash); their fingerprint decides an identical re-delivery
            fingerprint = write_row_hashes(
                con, self.resource, good, hashes, available=self.resource.field_names
            )
        if previous is not None and fingerprint == snapshot_fingerprint(
            con, self.resource, prev_folder, previous
        ):
            return self._zero_update(previous, fingerprint)
        if not upsert:
            con.execute(f"COPY (SELECT * FROM {good}) TO {sql_str(data)} ({PARQUET_OPTIONS})")
        pause_point("parquet_written")
        old = (
            snapshot_hashes(con, self.resource, prev_folder, previous)
            if previous
            else f"(SELECT * FROM read_parquet({sql_str(hashes)}) LIMIT 0)"
        )
        counts = diff_hashes(
            con,
            self.resource,
            f"read_parquet({sql_str(hashes)})",
            old,
            self.candidate / CHANGES_FILE,
            rows=int(fingerprint.split(":")[0]),
            previous_rows=previous.rows
            if previous and stored_hashes_usable(self.resource, previous)
            else None,
        )
        info = SnapshotInfo(
            id=next_snapshot_id(previous.id if previous else None),
            agency=self.resource.agency,
            resource=self.resource.id,
            rows=counts.rows,
            fingerprint=fingerprint,
            hash_version=HASH_VERSION,
            hash_columns=self.resource.field_names,
            created_at=iso(utc_now()),
            previous_id=previous.id if previous else None,
            landing_sha256=self.receipt.sha256 if self.receipt else None,
            cursor=self.extract.cursor,
            load_id=self.load_id,
            inserted=counts.inserted,
            updated=counts.updated,
            deleted=counts.deleted,
            unchanged=counts.unchanged,
            catalog_fingerprint=self.resource.fingerprint,
            extra=self._provenance(),
        )
        diff = self._diff_record(counts, info.id, previous)
        info.load = journal.publishing(
            self.begun,
            {"snapshot_id": info.id, "previous_snapshot_id": info.previous_id, "diff": diff,
             "cursor": self.extract.cursor, "rows": self.outcome.rows, "quarantined": self.outcome.quarantined,
             "held": self.outcome.held, **{k: getattr(counts, k) for k in ("inserted", "updated", "deleted", "unchanged")}},
        )  # fmt: skip
        pause_point("before_publish")
        publish(self.settings, self.resource, self.candidate, info)
        write_meta(self.settings, "diffs", self.load_id, diff)
        self._set_counts(counts)
        self.outcome.status = LoadStatus.PUBLISHED
        self.outcome.snapshot_id = info.id

    def _provenance(self) -> dict[str, Any]:
        """What an identical re-upload of the same file needs to be recognised without parsing it again."""
        if self.receipt is None or self.receipt.kind != "file" or self.audit_key is None:
            return {}
        clean = not (
            self.outcome.quarantined or self.outcome.held or self.table_problems or self.row_problems
        )
        return {"delivery": "file", "audit_key": self.audit_key, "clean": clean, "mode": self.extract.mode}

    def _write_upserted(
        self, con: duckdb.DuckDBPyConnection, good: str, prev_folder: Path, dest: Path
    ) -> None:
        """Current snapshot minus the delivered keys, plus the delivered rows."""
        current = self._current_rows(con, prev_folder)
        keys = ", ".join(quote(k) for k in self.resource.primary_key)
        con.execute(
            f"COPY (SELECT * FROM {current} c "
            f"ANTI JOIN (SELECT {keys} FROM {good}) d USING ({keys}) "
            f"UNION ALL BY NAME SELECT * FROM {good}) TO {sql_str(dest)} ({PARQUET_OPTIONS})"
        )

    def _zero_update(
        self, previous: SnapshotInfo | None, fingerprint: str | None, reason: str = "identical_content"
    ) -> None:
        rows = previous.rows if previous else 0
        self.outcome.status = LoadStatus.ZERO_UPDATE
        self.outcome.snapshot_id = previous.id if previous else None
        self.outcome.unchanged = rows
        self._record_diff(DiffCounts(rows, rows, 0, 0, 0, rows, True), None, previous)
        write_meta(
            self.settings,
            "zero_updates",
            self.load_id,
            {
                "load_id": self.load_id,
                "agency": self.resource.agency,
                "resource": self.resource.id,
                "snapshot_id": previous.id if previous else None,
                "fingerprint": fingerprint,
                "landing_sha256": self.receipt.sha256 if self.receipt else None,
                "reason": reason,
                "actor": self.actor,
                "trigger": self.trigger,
                "recorded_at": iso(utc_now()),
            },
        )

    def _record_diff(
        self, counts: DiffCounts, snapshot_id: str | None, previous: SnapshotInfo | None
    ) -> None:
        write_meta(self.settings, "diffs", self.load_id, self._diff_record(counts, snapshot_id, previous))

    def _diff_record(
        self, counts: DiffCounts, snapshot_id: str | None, previous: SnapshotInfo | None
    ) -> dict[str, Any]:
        return {
            "load_id": self.load_id,
            "agency": self.resource.agency,
            "resource": self.resource.id,
            "snapshot_id": snapshot_id,
            "base_snapshot_id": previous.id if previous else None,
            **counts.to_dict(),
            "created_at": iso(utc_now()),
        }

    def _set_counts(self, counts: DiffCounts) -> None:
        o = self.outcome
        o.inserted, o.updated, o.deleted, o.unchanged = (
            counts.inserted,
            counts.updated,
            counts.deleted,
            counts.unchanged,
        )

    def preview(self) -> None:
        """The first rows as staged (rows are staged in delivery order, so these are the lowest `__row__`s)."""
        rows = self.first_staged.to_pylist() if self.first_staged is not None else []
        self.outcome.preview = [{n: _jsonable(v) for n, v in r.items()} for r in rows]


def run_load(
    settings: Settings,
    resource: Resource,
    extract: Extract,
    *,
    receipt: Receipt | None,
    sink: LandingSink | None = None,
    validate: Validate | None = None,
    audit_key: str | None = None,
    actor: str,
    trigger: str,
) -> LoadOutcome:
    """Write, audit and publish one load; never leaves a half-published resource. See the module docstring.

    `receipt` is the landed input (an uploaded file); for pulled inputs pass the `sink` the connector lands its raw
    pieces into instead: it is closed once the batches are exhausted and its manifest receipt becomes the load's.
    `audit_key` identifies everything the audit depends on besides the data (catalog entry, suite): stored with a
    snapshot published from a file, it lets `zero_update_if_same_file` recognise an identical re-upload.
    """
    started = time.monotonic()
    load_id = new_load_id()
    outcome = LoadOutcome(
        load_id=load_id,
        agency=resource.agency,
        resource=resource.id,
        status=LoadStatus.FAILED,
        landing_sha256=receipt.sha256 if receipt else None,
    )
    started_at = iso(utc_now())
    queued: list[float] = []  # when this load began to wait for another load of the resource
    with resource_lock(settings, resource, on_wait=lambda: queued.append(time.monotonic())):
        recover(settings, resource)
        previous = current_info(settings, resource)
        journal.reconcile(settings, resource, current=previous)
        work = resource_paths(settings, resource).staging / load_id
        job = _Load(
            settings,
            resource,
            extract,
            receipt,
            validate,
            actor,
            trigger,
            load_id,
            work,
            outcome,
            sink,
            audit_key,
        )
        # told, not hidden: the user waited for someone else's load of the resource, then this one ran
        if queued:
            waited = time.monotonic() - queued[0]
            job.notes.append(
                Problem(
                    "load.waited",
                    f"同一资源的另一次载入正在进行，本次已排队等待 {waited:.1f} 秒，待其完成后执行",
                    value=f"{waited:.1f}s",
                )
            )
        try:
            job.begun = journal.begin(
                settings,
                resource,
                {"load_id": load_id, "actor": actor, "trigger": trigger, "started_at": started_at,
                 "pid": os.getpid(), "landing_sha256": outcome.landing_sha256, "mode": extract.mode,
                 "source": extract.source},
            )  # fmt: skip
            new_staging(settings, resource, load_id)
            job.previous = previous
            _run(job)
        except _Rejected as exc:
            outcome.status = LoadStatus.REJECTED
            job.table_problems += exc.problems
        except BaseException as exc:
            # failed after the switch: the publish stands, on the record
            if journal.went_live(settings, resource):
                return _recorded_from_journal(job, exc)
            outcome.status = LoadStatus.FAILED
            if isinstance(exc, GovhubError):
                job.table_problems += exc.problems
            elif disk_full(exc):  # not a bug: the hub's volume is full; the previous snapshot is untouched
                job.table_problems.append(DISK_FULL)
            else:  # a bug or an interrupt: record it, keep the previous snapshot, re-raise
                job.table_problems.append(
                    Problem(
                        code="load.internal_error",
                        message_zh="系统内部错误，本次数据未发布，请联系管理员",
                        value=repr(exc)[:300],
                    )
                )
                if EVENT_DEFERRED not in _finish(job, started, started_at).problems:
                    journal.end(settings, resource)
                raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        finished = _finish(job, started, started_at)
        if EVENT_DEFERRED not in finished.problems:  # else kept: the event is written from it later
            journal.end(settings, resource)
    return finished


def _after_switch(exc: BaseException) -> list[Problem]:
    """What a failure after the switch is to the load's record: the publish stands, this is why its record is late
    (an interrupt: nothing more to say)."""
    if isinstance(exc, GovhubError):  # e.g. the object store refused the snapshot: said in its own words
        return list(exc.problems)
    if disk_full(exc):
        return [Problem("load.disk_full", "数据中心磁盘空间不足，发布后的记录未能写完；请联系管理员清理空间")]
    if isinstance(exc, Exception):
        return [
            Problem(
                "load.internal_error", "发布后的步骤出现系统内部错误，请联系管理员", value=repr(exc)[:300]
            )
        ]
    return []


def _recorded_from_journal(job: _Load, exc: BaseException) -> LoadOutcome:
    """A load that failed after its snapshot became current (an interrupt, a full disk, an object store refusing
    what follows the switch): recorded from its journal as published — with its actor, marked `reconciled` — never
    as a failed load whose live snapshot a later identical delivery would take for a zero update. An interrupt
    still interrupts; when the record cannot be written either, the journal stays for the next load or
    `govhub status`."""
    try:
        (record,) = journal.reconcile(job.settings, job.resource, _after_switch(exc))
    except Exception:
        raise exc from None
    if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: recorded, and still an interrupt
        raise exc
    outcome = job.outcome
    outcome.status = LoadStatus.PUBLISHED
    for key in journal.RECORD_KEYS:
        setattr(outcome, key, record.get(key, 0))
    outcome.snapshot_id, outcome.previous_snapshot_id = (
        record["snapshot_id"],
        record.get("previous_snapshot_id"),
    )
    outcome.problems = [Problem.from_dict(p) for p in record["problems"]]
    outcome.problem_count = len(outcome.problems)
    outcome.verdict = AuditVerdict.of(
        outcome.status,
        outcome.problems,
        rows=outcome.rows,
        quarantined=outcome.quarantined,
        max_bad_row_pct=job.resource.quality.max_bad_row_pct,
    )
    return outcome


def _run(job: _Load) -> None:
    rows = job.stage()
    job.close_sink()
    job.outcome.rows = rows
    job.preview()
    with _connect(job.settings) as con:
        if rows == 0:
            _empty(job)
            return
        if job.staged_table is not None:
            con.register(STAGED_VIEW, job.staged_table)
        pause_point("audit")
        job.audit(con, rows)
        job.build_and_publish(con)


def _empty(job: _Load) -> None:
    """Nothing delivered: an incremental pull with nothing new is a zero update; a full delivery is rejected."""
    if job.extract.mode != "incremental":
        raise _Rejected(
            [Problem(code="load.empty", message_zh="交付的数据没有任何记录，未发布", expected="至少一条记录")]
        )
    previous = job.previous
    job.outcome.previous_snapshot_id = previous.id if previous else None
    job._zero_update(previous, previous.fingerprint if previous else None)


def _not_empty_but_unreadable(checked: list[Problem], read_failed: list[Problem]) -> list[Problem]:
    """The checks' row problems, less "必填项为空" on a cell that was not empty but could not be read: the reader's
    problem says what is wrong there (the value and what to enter); the row is quarantined by it all the same."""
    unreadable = {(p.row, p.field) for p in read_failed if p.code.startswith("type.")}
    if not unreadable:
        return list(checked)
    return [p for p in checked if not (p.code == "check.required" and (p.row, p.field) in unreadable)]


def _unreadable_not_null(results: list[dict[str, Any]], read_failed: list[Problem]) -> list[dict[str, Any]]:
    """The suite's results as the report says them: a required cell that was not empty but could not be read is
    not counted as empty by "not null" (its reader's problem says what it is) — counted apart, as
    `unreadable_count`, so nothing disappears."""
    cells = {(p.row, p.field) for p in read_failed if p.code.startswith("type.") and p.field}
    unreadable = Counter(field for _, field in cells)
    out = []
    for r in results:
        n = unreadable.get(r.get("column") or "", 0)
        if (
            n
            and r.get("expectation_type") == "expect_column_values_to_not_be_null"
            and r.get("unexpected_count")
        ):
            empty = max(int(r["unexpected_count"]) - n, 0)
            whole = r.get("element_count") or 0
            r = {**r, "unexpected_count": empty, "unreadable_count": min(n, int(r["unexpected_count"])),
                 "unexpected_percent": empty / whole * 100 if whole else None, "success": empty == 0,
                 "partial_unexpected_list": (r.get("partial_unexpected_list") or [])[:empty]}  # fmt: skip
        out.append(r)
    return out


def _finish(job: _Load, started: float, started_at: str) -> LoadOutcome:
    """Report, load record and event for every outcome."""
    outcome = job.outcome
    if job.sink is not None and job.sink.parts:
        job.close_sink()
    problems = job.table_problems + job.diagnosis.notes + job.row_problems
    # shown: every table problem and cause, then the rows no cause explains (the report and workbook keep them all)
    shown = job.table_problems + job.diagnosis.notes + job.diagnosis.unexplained(job.row_problems)
    outcome.verdict = AuditVerdict.of(
        outcome.status,
        problems,
        rows=outcome.rows,
        quarantined=outcome.quarantined,
        max_bad_row_pct=job.resource.quality.max_bad_row_pct,
    )
    outcome.problem_count = len(problems) + len(job.notes)
    outcome.problems = shown[:DISPLAY_PROBLEMS] + job.notes
    outcome.duration_s = round(time.monotonic() - started, 3)
    if problems or outcome.quarantined:
        folder = report_dir(job.settings, job.resource, job.load_id)
        summary = {k: v for k, v in outcome.to_dict().items() if k not in ("problems", "preview")}
        with _unless_disk_full(outcome):
            write_problem_report(folder, problems, summary)
            outcome.report_path = str(folder)
    record = {
        **outcome.to_dict(),
        "problems": [p.to_dict() for p in outcome.problems],
        "actor": job.actor,
        "trigger": job.trigger,
        "mode": job.extract.mode,
        "source": job.extract.source,
        "cursor": job.extract.cursor,
        "started_at": started_at,
        "finished_at": iso(utc_now()),
    }
    pause_point("before_record")
    with _unless_disk_full(outcome):
        write_meta(job.settings, "loads", job.load_id, record)
    pause_point("before_event")
    try:
        _event(job, outcome)
    except GovhubError as exc:  # the store is down: the outcome stands, the journal keeps it for the event
        if not any(p.code == "store.unreachable" for p in exc.problems):
            raise
        outcome.problems.append(EVENT_DEFERRED)
    return outcome


EVENT_DEFERRED = Problem(
    code="load.event_deferred",
    message_zh="工作流数据库暂时无法连接，本次结果尚未写入事件日志；数据库恢复后，下次载入该资源或运行 govhub status 时自动补记",
    blocking=False,
)


@contextmanager
def _unless_disk_full(outcome: LoadOutcome) -> Iterator[None]:
    """A record that cannot be written on a full volume is skipped (the event log, in the workflow store, still
    tells the outcome); any other failure is raised."""
    try:
        yield
    except OSError as exc:
        if not disk_full(exc):
            raise
        if DISK_FULL not in outcome.problems:
            outcome.problems.append(DISK_FULL)


def _event(job: _Load, outcome: LoadOutcome) -> None:
    from govhub.events import record_event  # lazy: the event log pulls in the workflow store

    payload = {
        k: v for k, v in outcome.to_dict().items() if k not in ("problems", "preview", "expectation_results")
    }
    payload["problems"] = [str(p) for p in outcome.problems[:20]]
    record_event(
        job.settings,
        kind=f"load.{outcome.status.value}",
        actor=job.actor,
        agency=job.resource.agency,
        subject=f"{job.resource.agency}/{job.resource.id}",
        payload={**payload, "trigger": job.trigger},
    )


def same_file_as_current(
    previous: SnapshotInfo | None, resource: Resource, receipt: Receipt, audit_key: str | None
) -> bool:
    """Whether `receipt` is byte-for-byte the file the current snapshot was built from, under the same catalog entry,
    hash version and audit, by a clean full load (nothing quarantined, no problem at all): then loading it again can
    only confirm the current snapshot, and parsing it would tell nobody anything new."""
    if previous is None or previous.initial or receipt.kind != "file" or audit_key is None:
        return False
    extra = previous.extra or {}
    return (
        previous.landing_sha256 == receipt.sha256
        and previous.catalog_fingerprint == resource.fingerprint
        and stored_hashes_usable(resource, previous)
        and extra.get("delivery") == "file"
        and extra.get("mode") == "full"
        and extra.get("clean") is True
        and extra.get("audit_key") == audit_key
    )


def zero_update_if_same_file(
    settings: Settings,
    resource: Resource,
    receipt: Receipt,
    *,
    audit_key: str | None,
    actor: str,
    trigger: str,
) -> LoadOutcome | None:
    """An identical re-upload is an automatic zero update without parsing (see `same_file_as_current`); None
    otherwise (then load it with `run_load`). The receipt is already landed; the outcome, load record, event and
    zero-update record are those of any zero update (reason `identical_file`)."""
    started, started_at = time.monotonic(), iso(utc_now())
    if not same_file_as_current(current_info(settings, resource), resource, receipt, audit_key):
        # the usual case, told without the lock: neither recovering nor reconciling moves `current`, and a load
        # publishing meanwhile is `run_load`'s to judge (by content, under the lock)
        return None
    with resource_lock(settings, resource):
        # a publish of this very file whose record a killed process cut off is recorded first, never taken for
        # a zero update (the snapshot would look like a clean earlier load of the same file)
        recover(settings, resource)
        previous = current_info(settings, resource)
        journal.reconcile(settings, resource, current=previous)
        if not same_file_as_current(previous, resource, receipt, audit_key):
            return None
        assert previous is not None
        job = _unparsed_job(settings, resource, receipt, previous, actor=actor, trigger=trigger)
        job.outcome.rows = previous.rows
        job._zero_update(previous, previous.fingerprint, reason="identical_file")
        job.outcome.preview = _snapshot_preview(settings, resource, previous)
    return _finish(job, started, started_at)


def _unparsed_job(
    settings: Settings,
    resource: Resource,
    receipt: Receipt | None,
    previous: SnapshotInfo | None,
    *,
    actor: str,
    trigger: str,
    status: LoadStatus = LoadStatus.FAILED,
) -> _Load:
    """A load that never reads its input (an identical file, a refused delivery): what `_finish` records."""
    load_id = new_load_id()
    outcome = LoadOutcome(
        load_id=load_id,
        agency=resource.agency,
        resource=resource.id,
        status=status,
        previous_snapshot_id=previous.id if previous else None,
        landing_sha256=receipt.sha256 if receipt else None,
    )
    extract = Extract(batches=iter(()), mode="full", source=receipt.filename if receipt else "")
    return _Load(settings, resource, extract, receipt, None, actor, trigger, load_id, Path(), outcome)


def _snapshot_preview(settings: Settings, resource: Resource, info: SnapshotInfo) -> list[dict[str, Any]]:
    """The first rows of a published snapshot (in delivery order, as the load wrote them)."""
    folder = resource_paths(settings, resource).snapshot(info.id)
    first = next(pq.ParquetFile(folder / DATA_FILE).iter_batches(batch_size=PREVIEW_ROWS), None)
    return [] if first is None else [{k: _jsonable(v) for k, v in r.items()} for r in first.to_pylist()]


def record_refusal(
    settings: Settings,
    resource: Resource,
    problems: list[Problem],
    *,
    actor: str,
    trigger: str,
    receipt: Receipt | None = None,
    status: LoadStatus = LoadStatus.REJECTED,
) -> LoadOutcome:
    """Record a delivery refused before it could be loaded (e.g. an unreadable sheet) like any other outcome:
    report, `meta.loads` record and event; nothing is staged and the current snapshot is untouched."""
    if status not in (LoadStatus.REJECTED, LoadStatus.FAILED):
        raise ValueError(f"a refusal is rejected or failed, not {status!r}")
    previous = current_info(settings, resource)
    job = _unparsed_job(settings, resource, receipt, previous, actor=actor, trigger=trigger, status=status)
    job.table_problems = list(problems)
    return _finish(job, time.monotonic(), iso(utc_now()))
