"""The docking API's answers (资源共享对接服务, §13), free of HTTP: who is calling, what they may reach, and the
rows, streams and changes they ask for — each call accountable (§16–§17).

- **Who.** A bearer token (`services.tokens`): unknown or revoked → 401. Its agency is the caller.
- **What.** `agency_scope(settings, catalog, agency, today)` — the one definition of what an agency may reach —
  computed on every call, so a grant that expired today or was revoked a second ago is gone from the next call.
  A resource outside the scope is 403 (the catalog is public: saying it exists hides nothing, and the consumer
  learns to file a request), one the catalog does not know 404.
- **Pages.** Primary-key order, `limit` rows, and an opaque cursor (`services.cursors`: encrypted and
  authenticated). The walk's first page sorts the scoped table once into a copy beside the agency's workspace; every
  page reads its rows from that copy by position. Snapshots are immutable, so every page of one walk reads the
  same snapshot whatever is published meanwhile; a scope that changes mid-walk (a grant narrowed) ends the walk (409).
- **Streams.** CSV or Parquet without `limit`: the whole scoped table as Arrow batches from DuckDB, written out batch
  by batch (`warehouse.wire`): memory stays bounded whatever the size.
- **Changes.** `since` a snapshot: the scoped difference up to the current one (`warehouse.docking.changes`).
- **Accountable.** One event per call (a whole stream is one call): `api.call` with token, system, agency, resource,
  grants and purposes used, format, rows, duration; `api.failed` for refusals and errors, with their status and code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from govhub.catalog.model import Catalog, Resource
from govhub.clock import beijing_text
from govhub.config import Settings
from govhub.events import record_event
from govhub.governance.grants import live_grants
from govhub.problems import GovhubError, Problem
from govhub.services.cursors import Cursor, CursorRefused, decode_cursor, encode_cursor
from govhub.services.keys import derived_key
from govhub.services.tokens import ApiToken, find_by_secret, touch
from govhub.services.workspaces import agency_scope, api_copies
from govhub.warehouse import docking, wire
from govhub.warehouse.export import PROVENANCE_KEY
from govhub.warehouse.scope import IDENTIFIER, ScopedTable, SnapshotSource
from govhub.warehouse.snapshots import CHANGES_FILE, current_snapshot_id, published_ids, resource_paths

FORMATS = ("json", "csv", "parquet")
# a `since`: a snapshot id, or one with "~" and the scope's fingerprint (`since_token`), with room to spare
SINCE_MAX = 64
FINGERPRINT = re.compile(r"[0-9a-f]{16}")  # what `_fingerprint` makes


@dataclass(frozen=True)
class DockingLimits:
    default_limit: int = 1000  # rows per page when a page is asked for without a size (always for JSON)
    max_limit: int = 10_000
    batch_rows: int = 100_000  # rows per Arrow batch (a Parquet row group) of a stream
    query_timeout_s: float = 30  # a page or a change set
    stream_timeout_s: float = 3600  # a whole stream (a slow client is cut off after this)
    memory_limit: str = "512MB"  # DuckDB's, per call
    threads: int = 2
    cursor_ttl_s: int = 24 * 3600


class DockingError(GovhubError):
    """A refusal with its HTTP status (401, 403, 404, 400, 409, 410, 504): the message is for the consumer's team."""

    def __init__(self, status: int, code: str, message_zh: str, **where: Any):
        super().__init__(Problem(code=code, message_zh=message_zh, **where))
        self.status = status

    @property
    def problem(self) -> Problem:
        return self.problems[0]


@dataclass
class Call:
    """What one call did, for its `api.call` event."""

    path: str
    method: str = "GET"  # HEAD: the answer's headers only (no rows went out)
    token: ApiToken | None = None
    resource: str | None = None  # "agency/resource"
    grants: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    format: str | None = None
    snapshot_id: str | None = None
    since: str | None = None
    rows: int = 0
    # the body handed to the web server (HTTP has no receipt: the client's own count may be lower)
    bytes: int = 0
    status: int = 200
    error: str | None = None
    complete: bool = True  # False: a stream that ended early (client gone, time limit)
    started: float = field(default_factory=time.perf_counter)

    def scoped(self, group: list[ScopedTable]) -> None:
        self.grants = sorted({g for t in group for g in t.grant_ids})
        self.purposes = sorted({p for t in group for p in t.purposes})
        self.bases = sorted({t.basis.value for t in group})

    def failed(self, status: int, code: str) -> None:
        self.status, self.error = status, code


def record_call(settings: Settings, call: Call) -> None:
    """The call's one event: `api.call` when it answered (a stream the client left early included: data went out),
    `api.failed` when it refused or failed (before any token was recognised: as `api:anonymous`)."""
    token = call.token
    # like query.run / query.failed: only answered calls count as use (scorecards)
    kind = "api.call" if call.status < 400 else "api.failed"
    record_event(settings, kind=kind, actor=f"api:{token.id}" if token else "api:anonymous",
                 agency=token.agency if token else None, subject=call.resource or call.path.lstrip("/"),
                 payload={"token": token.id if token else None, "system": token.system if token else None,
                          "path": call.path, "method": call.method, "resource": call.resource, "grants": call.grants,
                          "purposes": call.purposes, "bases": call.bases, "format": call.format,
                          "snapshot_id": call.snapshot_id, "since": call.since, "rows": call.rows, "bytes": call.bytes,
                          "status": call.status, "error": call.error, "complete": call.complete,
                          "duration_s": round(time.perf_counter() - call.started, 3)})  # fmt: skip


# --- who is calling ---------------------------------------------------------------------------------------------


def authenticate(settings: Settings, authorization: str | None, now: dt.datetime) -> ApiToken:
    """The live token an `Authorization: Bearer …` header carries; 401 otherwise."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise DockingError(
            401, "docking.no_token", "请求未携带接口令牌：请在请求头中提供 Authorization: Bearer <令牌>"
        )
    token = find_by_secret(settings, secret) if len(secret) <= 200 else None
    if token is None:
        raise DockingError(
            401, "docking.unknown_token", "接口令牌无效：请核对令牌，或请本部门数据专管员重新签发"
        )
    if not token.active:
        raise DockingError(401, "docking.revoked_token", f"接口令牌 {token.id} 已于 {beijing_text(token.revoked_at)} 撤销，"
                           "请联系本部门数据专管员重新签发", value=token.id)  # fmt: skip
    touch(settings, token, now)
    return token


# --- what it may reach --------------------------------------------------------------------------------------------


def reachable(settings: Settings, catalog: Catalog, token: ApiToken, today: dt.date) -> dict[str, Any]:
    """Every resource the token's agency may reach today: basis, fields, row scope, grants and their expiry, and
    the current snapshot id (where `changes?since=` can start from)."""
    scope = _scope(settings, catalog, token, today)
    expiry = {g.id: g.expires_on.isoformat() for g in live_grants(settings, token.agency, today)}
    resources = []
    for (agency, rid), group in sorted(scope.by_resource().items()):
        res = catalog.resource(f"{agency}/{rid}")
        shown = {c for t in group for c in t.columns}
        path = f"/api/v1/resources/{agency}/{rid}"
        resources.append({
            "agency": agency, "resource": rid, "code": res.code, "name": res.name,
            "snapshot_id": (current := current_snapshot_id(settings, res) or group[0].source.snapshot_id),
            "changes_since": since_token(current, _fingerprint(res, group)),
            "primary_key": list(res.primary_key),
            "fields": [{"name": f.name, "label": f.label, "type": f.type.value} for f in res.fields if f.name in shown],
            "access": [{"basis": t.basis.value, "basis_label": t.basis.label, "fields": list(t.columns),
                        "rows": t.row_filter.to_list(), "grant_id": t.grant_ids[0] if t.grant_ids else None,
                        "purpose": t.purposes[0] if t.purposes else None,
                        "expires_on": expiry.get(t.grant_ids[0]) if t.grant_ids else None} for t in group],
            "rows_url": f"{path}/rows", "changes_url": f"{path}/changes",
        })  # fmt: skip
    return {"agency": token.agency, "system": token.system, "date": today.isoformat(), "resources": resources}


def _scope(settings: Settings, catalog: Catalog, token: ApiToken, today: dt.date):  # type: ignore[no-untyped-def]
    try:
        return agency_scope(settings, catalog, token.agency, today)
    except GovhubError as exc:  # the token's agency has left the catalog
        raise DockingError(
            403, "docking.not_in_scope", f"令牌所属部门无法访问任何资源：{exc.problems[0].message_zh}"
        ) from None


def _group(
    settings: Settings,
    catalog: Catalog,
    token: ApiToken,
    today: dt.date,
    agency: str,
    resource: str,
    call: Call,
) -> tuple[Resource, list[ScopedTable]]:
    """The catalog's resource and the scope's tables of it (403 outside the scope, 404 unknown)."""
    # quoted as given, at no more than 100 characters (the adapter shows control characters as "�")
    asked = f"{agency}/{resource}"[:100]
    unknown = DockingError(404, "docking.unknown_resource", f"资源目录中没有资源“{asked}”", value=asked)
    if not (IDENTIFIER.match(agency) and IDENTIFIER.match(resource)):
        raise unknown
    call.resource = f"{agency}/{resource}"  # recorded, whatever the answer
    try:
        res = catalog.resource(f"{agency}/{resource}")
    except KeyError:
        raise unknown from None
    if res.key != (agency, resource):
        raise unknown
    group = _scope(settings, catalog, token, today).by_resource().get(res.key)
    if not group:
        raise DockingError(403, "docking.not_in_scope", f"{token.agency} 无权访问“{res.name}”（{agency}/{resource}）："
                           "它不是本部门资源或普遍共享的基础资源，也没有生效的共享授权（授权可能已到期或被撤销）",
                           value=f"{agency}/{resource}")  # fmt: skip
    return res, group


def _fingerprint(res: Resource, group: list[ScopedTable]) -> str:
    """What the scope lets out of this resource and the key pages follow, whatever snapshot it reads: each field
    with the rows it is shown for, and the rows — as `workspace.table_select` lets them out, so two scopes that show
    the same (a grant revoked while the base share covers what it gave) have one fingerprint, whatever their basis."""

    def rows_of(tables: list[ScopedTable]) -> object:
        return (
            "all"
            if any(t.row_filter.everything for t in tables)
            else sorted({t.row_filter.sql() for t in tables})
        )

    fields = {c: rows_of([t for t in group if c in t.columns]) for t in group for c in t.columns}
    shape = [res.primary_key, sorted(fields.items()), rows_of(group)]
    if docking.known_by_row_id(group, res.primary_key):  # how `_row` is made is part of what was let out
        shape.append(docking.ROW_ID_VERSION)
    return hashlib.sha256(json.dumps(shape, ensure_ascii=False).encode()).hexdigest()[:16]


def since_token(snapshot_id: str, scope_fp: str) -> str:
    """What a consumer passes as `since` next time: the snapshot it holds and the scope it read it under. A plain
    snapshot id is still taken (read under today's scope); a token whose scope is not today's is refused with 409
    `docking.scope_changed`: rows that entered or left the agency's scope since are in no change feed."""
    return f"{snapshot_id}~{scope_fp}"


def _pinned(
    settings: Settings, res: Resource, group: list[ScopedTable], snapshot_id: str
) -> list[ScopedTable]:
    """The group reading one snapshot (by id: immutable, whatever `current` says meanwhile)."""
    folder = resource_paths(settings, res).snapshot(snapshot_id)
    files = tuple(sorted(folder.glob("*.parquet"))) if folder.is_dir() else ()
    if not files:
        raise DockingError(
            410,
            "docking.snapshot_gone",
            f"快照 {snapshot_id} 已不存在：请从第一页重新读取",
            value=snapshot_id,
        )
    return [replace(t, source=SnapshotSource(snapshot_id, files)) for t in group]


# --- rows and changes ---------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """A page (a JSON document, or CSV/Parquet bytes) or a stream of chunks; headers either way."""

    media_type: str
    headers: dict[str, str]
    body: bytes | None = None
    chunks: Iterator[bytes] | None = None


@dataclass(frozen=True)
class Ask:
    """One rows/changes request as the adapter parsed it."""

    agency: str
    resource: str
    format: str = "json"
    limit: int | None = None
    cursor: str | None = None
    since: str | None = None


def rows(
    settings: Settings, catalog: Catalog, token: ApiToken, ask: Ask, call: Call, *, now: dt.datetime,
    today: dt.date, limits: DockingLimits,
) -> Answer:  # fmt: skip
    """Rows of one resource as the token's agency may see them: a page, or (CSV/Parquet without limit) all."""
    return _answer(settings, catalog, token, ask, call, now=now, today=today, limits=limits, mode="rows")


def changes(
    settings: Settings, catalog: Catalog, token: ApiToken, ask: Ask, call: Call, *, now: dt.datetime,
    today: dt.date, limits: DockingLimits,
) -> Answer:  # fmt: skip
    """Inserted, updated and deleted rows between snapshot `since` and the current one, within the scope."""
    return _answer(settings, catalog, token, ask, call, now=now, today=today, limits=limits, mode="changes")


def _answer(
    settings: Settings, catalog: Catalog, token: ApiToken, ask: Ask, call: Call, *, now: dt.datetime,
    today: dt.date, limits: DockingLimits, mode: str,
) -> Answer:  # fmt: skip
    _check_ask(ask, limits, mode)
    since, since_fp = _split_since(ask.since)
    call.format = ask.format
    res, group = _group(settings, catalog, token, today, ask.agency, ask.resource, call)
    call.scoped(group)
    scope_fp, position = _fingerprint(res, group), 0
    if ask.cursor:
        try:
            cursor = decode_cursor(settings, ask.cursor, ttl_s=limits.cursor_ttl_s, now=now)
        except CursorRefused as exc:
            raise DockingError(400, exc.code, exc.message_zh) from None
        if (cursor.agency, cursor.resource, cursor.mode) != (token.agency, call.resource, mode):
            raise DockingError(
                400, "docking.bad_cursor", "分页游标不属于这个资源或这个接口：请从第一页重新读取"
            )
        if cursor.scope != scope_fp:
            raise DockingError(
                409, "docking.scope_changed", "读取期间授权范围已变化（信息项或记录范围），请从第一页重新读取"
            )
        position = cursor.position
        snapshot_id, since = cursor.snapshot_id, cursor.since
    else:
        snapshot_id = current_snapshot_id(settings, res) or group[0].source.snapshot_id
    call.snapshot_id, call.since = snapshot_id, since
    pinned = _pinned(settings, res, group, snapshot_id)
    # a cursor carries the scope it was issued under (checked above), as a token does
    tokened = bool(since_fp or ask.cursor)
    old = None
    if mode == "changes":
        old = _since(settings, res, group, since, snapshot_id, given=ask.since or since, tokened=tokened)
        _same_scope(since, since_fp, scope_fp)
    provenance = {"agency": token.agency, "system": token.system, "token": token.id, "resource": call.resource,
                  "snapshot_id": snapshot_id, "since": since, "grants": call.grants, "purposes": call.purposes,
                  "date": today.isoformat()}  # fmt: skip
    headers = {"X-Snapshot-Id": snapshot_id, "X-Changes-Since": since_token(snapshot_id, scope_fp),
               **({"X-Since": since} if since else {}),
               "X-Govhub-Provenance": json.dumps(provenance, separators=(",", ":"))}  # fmt: skip

    row_salt = derived_key(settings, f"row:{token.agency}")[:16].hex()  # one consumer's pseudonymous row keys

    def build(con: Any) -> docking.Relation:
        rel = docking.relation(con, pinned, res.primary_key, row_salt)
        if old is None:
            return rel
        before_group, files = old
        before = docking.relation(con, before_group, res.primary_key, row_salt)
        candidates = docking.changed_keys(files, res.primary_key) if files is not None else None
        return docking.changes(before, rel, res.primary_key, candidates)

    spill = settings.hub_dir / "_spill"  # DuckDB's spill folders, one per call (warehouse.docking.reader)
    if ask.format == "json" or ask.limit is not None or ask.cursor:
        copy = _sorted_copy(settings, token.agency, res, mode, since, snapshot_id, scope_fp, limits)
        try:
            if not copy.exists():  # the walk's first page: sort once (later pages read by position)
                with docking.reader(limits.memory_limit, limits.threads, spill) as con, \
                        docking.time_limit(con, limits.query_timeout_s):  # fmt: skip
                    docking.sorted_copy(con, build(con), copy)
        except docking.QueryTimeout:
            raise DockingError(504, "docking.timeout", f"查询超时（限{limits.query_timeout_s:g}秒）：请稍后重试，"
                               "或不带 limit 整表下载（format=csv 或 parquet）") from None  # fmt: skip
        os.utime(copy)  # in use: not swept while its walk goes on
        table, following = docking.page_at(copy, position, ask.limit or limits.default_limit)
        call.rows = table.num_rows
        next_cursor = None
        if following is not None:
            next_cursor = encode_cursor(settings, Cursor(token.agency, call.resource, mode, snapshot_id, scope_fp,
                                                         following, since))  # fmt: skip
            headers["X-Next-Cursor"] = next_cursor
        return _page(ask, res, table, next_cursor, headers, provenance, mode)
    return _stream(ask, res, build, headers, provenance, call, limits, spill, pinned[0].source.files)


def _sorted_copy(settings: Settings, agency: str, res: Resource, mode: str, since: str | None, snapshot_id: str,
                 scope_fp: str, limits: DockingLimits) -> Path:  # fmt: skip
    """Where the walk's sorted copy lives: beside the agency's workspace (it holds nothing the workspace does not),
    one per resource, kind, snapshot(s) and scope. Copies unused for longer than a cursor lives are swept here."""
    folder = _ready(api_copies(settings, agency))
    stale = time.time() - limits.cursor_ttl_s
    for old in folder.glob("*.parquet"):
        with contextlib.suppress(FileNotFoundError):
            if old.stat().st_mtime < stale:
                old.unlink()
    return folder / f"{res.agency}.{res.id}.{mode}.{since or '-'}.{snapshot_id}.{scope_fp}.parquet"


def _ready(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check_ask(ask: Ask, limits: DockingLimits, mode: str) -> None:
    """Each parameter's own refusal, saying what it should be and what was given (Litestar checks them first, by
    their declarations; these hold for any other caller of the service)."""
    if ask.format not in FORMATS:
        fmt = str(ask.format)[:20]
        raise DockingError(
            400, "docking.bad_request", f"format 应为 {'、'.join(FORMATS)} 之一，收到“{fmt}”", value=fmt
        )
    if ask.limit is not None and not 1 <= ask.limit <= limits.max_limit:
        raise DockingError(400, "docking.bad_request", f"limit 应为 1 到 {limits.max_limit} 之间的整数，"
                           f"收到“{ask.limit}”", value=str(ask.limit))  # fmt: skip
    if mode == "changes" and not ask.since and not ask.cursor:
        raise DockingError(
            400, "docking.bad_since", "请用 since 指明从哪个快照之后的变化读起（见资源列表的 snapshot_id）"
        )


def _split_since(given: str | None) -> tuple[str | None, str | None]:
    """`since` as given — a snapshot id, or a `changes_since` token (`snapshot~scope`) — as its snapshot id and
    scope fingerprint. Nothing before "~", or after it no fingerprint as `since_token` makes them, is not a token
    the hub issued: refused as malformed (400), never taken for a scope that changed (409)."""
    if not given:
        return None, None
    since, tilde, fingerprint = given.partition("~")
    if not since or (tilde and not FINGERPRINT.fullmatch(fingerprint)):
        raise DockingError(400, "docking.bad_since", f"since“{given[:SINCE_MAX]}”的格式不对：应为上次读取返回的 "
                           "changes_since（快照编号~范围标识），或一个快照编号（见资源列表的 snapshot_id）",
                           value=given[:SINCE_MAX])  # fmt: skip
    return since, fingerprint or None


def _same_scope(since: str | None, since_fp: str | None, scope_fp: str) -> None:
    """A `changes_since` token read under another scope than today's: rows that entered or left the scope since are
    in no change feed (409). `since` is by now one of the resource's published snapshots."""
    if since_fp and since_fp != scope_fp:
        raise DockingError(409, "docking.scope_changed", f"自快照 {since} 以来，本部门对该资源的授权范围已变化（信息项或"
                           "记录范围），变化记录不能反映新进入或移出范围的记录：请先整表重新读取（rows），再用其返回的 "
                           "changes_since 读取此后的变化")  # fmt: skip


def _since(
    settings: Settings, res: Resource, group: list[ScopedTable], since: str | None, snapshot_id: str,
    *, given: str | None = None, tokened: bool = True,
) -> tuple[list[ScopedTable], list[Path] | None]:  # fmt: skip
    """The group reading snapshot `since`, and the `_changes` files from it up to `snapshot_id` (None when one is
    missing: every key is compared). `given`: `since` as the caller wrote it, for the refusal to quote. `tokened`:
    `since` came with its scope (`since_token`), as a scope without the primary key needs — its rows are known by
    `_row`, whose make a bare snapshot id does not name."""
    ids = published_ids(settings, res)
    shown = (given or since or "")[:SINCE_MAX]
    if since is None or since not in ids:
        recent = "、".join(ids[-3:]) or "无"
        raise DockingError(400, "docking.bad_since", f"since“{shown}”不是该资源已发布的快照编号：应为上次读取返回的 "
                           f"changes_since，或资源列表中的 snapshot_id（最近的：{recent}）", value=shown)  # fmt: skip
    if since > snapshot_id:
        raise DockingError(400, "docking.bad_since", f"since“{shown}”晚于本次读取的快照 {snapshot_id}：请从第一页重新"
                           "读取", value=shown)  # fmt: skip
    if not tokened and docking.known_by_row_id(group, res.primary_key):
        raise DockingError(409, "docking.scope_changed", "未授予主键的资源按 _row 标识记录：since 须是上次响应头 "
                           "X-Changes-Since 中的令牌（快照编号~范围），单独的快照编号不能说明 _row 的编法；"
                           "请先整表重新读取（rows）", value=since[:40])  # fmt: skip
    between = [i for i in ids if since < i <= snapshot_id]
    files = [resource_paths(settings, res).snapshot(i) / CHANGES_FILE for i in between]
    return _pinned(settings, res, group, since), (files if all(f.is_file() for f in files) else None)


def _page(ask: Ask, res: Resource, table: Any, next_cursor: str | None, headers: dict[str, str],
          provenance: dict[str, Any], mode: str) -> Answer:  # fmt: skip
    if ask.format == "json":
        document = {"agency": res.agency, "resource": res.id, "snapshot_id": headers["X-Snapshot-Id"],
                    "changes_since": headers["X-Changes-Since"],
                    **({"since": headers["X-Since"]} if mode == "changes" else {}),
                    "columns": table.column_names, "count": table.num_rows,
                    ("changes" if mode == "changes" else "rows"): wire.json_rows(table),
                    "next_cursor": next_cursor}  # fmt: skip
        return Answer("application/json", headers, body=wire.json_bytes(document))
    batches = table.to_batches()
    if ask.format == "csv":
        return Answer(wire.CSV_TYPE, headers, body=b"".join(wire.csv_chunks(batches, table.schema)))
    meta = {PROVENANCE_KEY.decode(): json.dumps(provenance, ensure_ascii=False)}
    return Answer(wire.PARQUET_TYPE, headers, body=b"".join(wire.parquet_chunks(batches, table.schema, meta)))


def _stream(ask: Ask, res: Resource, build: Any, headers: dict[str, str], provenance: dict[str, Any], call: Call,
            limits: DockingLimits, spill: Path, files: tuple[Path, ...]) -> Answer:  # fmt: skip
    """The whole relation, written as it is read; the call's rows counted as they go (recorded by the adapter when
    the stream ends, however it ends)."""

    def chunks() -> Iterator[bytes]:
        with docking.reader(limits.memory_limit, limits.threads, spill) as con, \
                docking.time_limit(con, limits.stream_timeout_s):  # fmt: skip
            rel = build(con)
            # before the stream opens: a DuckDB connection with an undrained result takes no other query
            dictionary = (
                docking.dictionary_columns(con, files) | {docking.CHANGE} if ask.format == "parquet" else None
            )
            reader = docking.stream(con, rel, limits.batch_rows)

            def counted() -> Iterator[Any]:
                for batch in wire.read_ahead(reader):
                    call.rows += batch.num_rows
                    yield batch

            if ask.format == "csv":
                yield from wire.csv_chunks(counted(), reader.schema)
            else:
                meta = {PROVENANCE_KEY.decode(): json.dumps(provenance, ensure_ascii=False)}
                yield from wire.parquet_chunks(counted(), reader.schema, meta, dictionary)

    suffix = "csv" if ask.format == "csv" else "parquet"
    name = f"{res.agency}-{res.id}-{headers['X-Snapshot-Id']}.{suffix}"
    headers = {**headers, "Content-Disposition": f'attachment; filename="{name}"'}
    return Answer(wire.CSV_TYPE if suffix == "csv" else wire.PARQUET_TYPE, headers, chunks=chunks())
