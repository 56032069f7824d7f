"""The event log (§16–§17): append-only, hash-chained, every action tied to a person and an agency.

Each row's hash is sha256(prev_hash + canonical row), where the canonical row is the JSON of
(id, at, kind, actor, agency, subject, payload) with sorted keys and no spaces. Changing, deleting or inserting a row
breaks the chain at that point, which `verify_chain` reports. Appends are serialised (`store.write_transaction`) so
the chain stays linear when several processes write at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from govhub import store
from govhub.clock import beijing_date
from govhub.config import Settings

GENESIS = "0" * 64
_CHAIN_LOCK = "govhub.events"


@dataclass(frozen=True)
class Event:
    id: int
    at: str
    kind: str
    actor: str
    agency: str | None
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def utc_stamp(at: dt.datetime | None = None) -> str:
    """UTC as fixed-width ISO text (microseconds, Z): sorts and hashes the same on every database."""
    at = at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    body = canonical_json({k: row[k] for k in ("id", "at", "kind", "actor", "agency", "subject", "payload")})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def record_event(
    settings: Settings,
    *,
    kind: str,
    actor: str,
    agency: str | None,
    subject: str,
    payload: dict[str, Any],
    at: dt.datetime | None = None,
) -> None:
    """Append one event to the chain (kind e.g. "zero_update.filed"; actor the person; subject what it is about)."""
    if not actor:
        raise ValueError("an event needs the person who acted (§17)")
    with store.write_transaction(settings, _CHAIN_LOCK) as conn:
        _append(conn, kind=kind, actor=actor, agency=agency, subject=subject, payload=payload, at=at)


_LAST = select(store.events.c.id, store.events.c.hash).order_by(store.events.c.id.desc()).limit(1)


def _append(
    conn: Any,
    *,
    kind: str,
    actor: str,
    agency: str | None,
    subject: str,
    payload: dict[str, Any],
    at: dt.datetime | None = None,
) -> None:
    """Append one event inside a transaction that holds the chain's lock."""
    last = conn.execute(_LAST).first()
    if last is None:  # an empty log starts at GENESIS, or where the last prune left it
        start = _checkpoint(conn)
        prev_id, prev_hash = (start.through_id, start.through_hash) if start else (0, GENESIS)
    else:
        prev_id, prev_hash = last.id, last.hash
    row = {
        "id": prev_id + 1,
        "at": utc_stamp(at),
        "kind": kind,
        "actor": actor,
        "agency": agency,
        "subject": subject,
        "payload": canonical_json(payload),
    }
    row["prev_hash"] = prev_hash
    row["hash"] = _row_hash(prev_hash, row)
    conn.execute(store.events.insert().values(**row))


def _checkpoint(conn: Any) -> Any:
    """The newest prune's checkpoint (where the chain of the events kept starts), or None."""
    t = store.event_checkpoints
    return conn.execute(select(t).order_by(t.c.id.desc()).limit(1)).first()


def verify_chain(settings: Settings) -> list[str]:
    """Every break in the chain, in order (altered, removed or inserted rows); empty when intact."""
    problems: list[str] = []
    expected_prev, expected_id = GENESIS, 1
    with store.read_connection(settings) as conn:
        start = _checkpoint(conn)
        # events up to the checkpoint were pruned past their retention: verify from there
        if start is not None:
            expected_prev, expected_id = start.through_hash, start.through_id + 1
        rows = conn.execute(select(store.events).order_by(store.events.c.id))
        for r in rows.mappings():
            row = dict(r)
            if row["id"] != expected_id:
                problems.append(f"事件 {expected_id}..{row['id'] - 1}：缺失（记录被删除）")
            if row["prev_hash"] != expected_prev:
                problems.append(f"事件 {row['id']}：prev_hash 与上一事件的哈希不符（链被改动）")
            if _row_hash(row["prev_hash"], row) != row["hash"]:
                problems.append(f"事件 {row['id']}：内容与其哈希不符（记录被改动）")
            expected_prev, expected_id = row["hash"], row["id"] + 1
            if start is not None and row["kind"] == "events.pruned":
                attested = json.loads(row["payload"])
                if (attested.get("through_id"), attested.get("through_hash")) == (
                    start.through_id,
                    start.through_hash,
                ):
                    start = None  # the checkpoint is the one a recorded prune left
    # a checkpoint no prune in the chain vouches for: events were removed and it was forged
    if start is not None:
        problems.append(
            f"检查点（事件 {start.through_id} 之前）没有对应的清理记录（events.pruned）：日志可能被删改"
        )
    return problems


@dataclass(frozen=True)
class Pruned:
    count: int
    through_id: int
    through_hash: str
    before: str


def prune_events(
    settings: Settings,
    *,
    before: dt.datetime,
    actor: str,
    now: dt.datetime | None = None,
    before_removing: Callable[[Any, int], None] | None = None,
) -> Pruned:
    """Remove the events older than `before` — never one younger than the retention (`settings.audit_retention_days`,
    ≥ 180 days: 网络安全法 Art. 21) — leaving a checkpoint (id and hash of the newest pruned event) from which the
    chain of the events kept still verifies, and recording the prune itself as an `events.pruned` event, all in one
    transaction. Only whole leading runs are pruned: the first event at or after `before` and everything after stay.
    Authorize the actor first (`Action.PRUNE_AUDIT`)."""
    from govhub.problems import GovhubError, Problem

    now = now or dt.datetime.now(dt.UTC)
    limit = now - dt.timedelta(days=settings.audit_retention_days)
    if before > limit:
        raise GovhubError(
            Problem(
                "events.prune_too_recent",
                f"审计日志须保存至少 {settings.audit_retention_days} 天（网络安全法第二十一条），"
                f"最多只能清理 {beijing_date(limit)} 之前的日志，不能清理到 {beijing_date(before)}（北京时间）",
                value=str(beijing_date(before)),
                expected=f"不晚于 {beijing_date(limit)}",
            )
        )
    t = store.events
    stamp = utc_stamp(before)
    with store.write_transaction(settings, _CHAIN_LOCK) as conn:
        first_kept = conn.execute(select(t.c.id).where(t.c.at >= stamp).order_by(t.c.id).limit(1)).scalar()
        bound = select(t).order_by(t.c.id.desc()).limit(1)
        if first_kept is not None:
            bound = select(t).where(t.c.id < first_kept).order_by(t.c.id.desc()).limit(1)
        newest = conn.execute(bound).mappings().first()
        if newest is None:
            raise GovhubError(
                Problem(
                    "events.nothing_to_prune", f"{beijing_date(before)}（北京时间）之前没有可清理的审计日志"
                )
            )
        if before_removing is not None:  # e.g. what the events say of grants, kept (`services.audit`)
            before_removing(conn, newest["id"])
        count = conn.execute(select(func.count()).select_from(t).where(t.c.id <= newest["id"])).scalar_one()
        conn.execute(t.delete().where(t.c.id <= newest["id"]))
        conn.execute(
            store.event_checkpoints.insert().values(
                through_id=newest["id"], through_hash=newest["hash"], through_at=newest["at"], pruned=count,
                before=stamp, at=utc_stamp(now), actor=actor,
            )
        )  # fmt: skip
        done = Pruned(count, newest["id"], newest["hash"], stamp)
        _append(conn, kind="events.pruned", actor=actor, agency=None, subject="events",
                payload={"before": stamp, "pruned": count, "through_id": done.through_id,
                         "through_hash": done.through_hash, "retention_days": settings.audit_retention_days})  # fmt: skip
    return done


def _contains(column: Any, text: str) -> Any:
    """`column` contains `text` literally (LIKE with its wildcards escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


def chain_head(settings: Settings) -> str | None:
    """The newest event as "id:hash" (what `govhub events verify` prints and backups carry); None for an empty log."""
    t = store.events
    with store.read_connection(settings) as conn:
        row = conn.execute(select(t.c.id, t.c.hash).order_by(t.c.id.desc()).limit(1)).first()
    return f"{row.id}:{row.hash}" if row else None


def latest_by_subject(settings: Settings, kind: str) -> dict[str, str]:
    """When each subject last had an event of `kind` (as the log keeps it, UTC) — within the retained log."""
    t = store.events
    q = select(t.c.subject, func.max(t.c.at)).where(t.c.kind == kind).group_by(t.c.subject)
    with store.read_connection(settings) as conn:
        return {subject: at for subject, at in conn.execute(q) if subject}


def list_events(
    settings: Settings,
    *,
    kind: str | None = None,
    kinds: list[str] | None = None,
    actor: str | None = None,
    agency: str | None = None,
    subject: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    after_id: int | None = None,
    before_id: int | None = None,
    limit: int | None = None,
    newest_first: bool = False,
    actors: list[str] | None = None,
    resource: str | None = None,
    grant: str | None = None,
) -> list[Event]:
    """Events matching every given filter (a kind may end in "*" for a prefix, e.g. "zero_update.*"; `kinds`: any
    of several; `actors`: any of several names). `resource` ("agency/resource") finds the events about it — loads,
    ledger, requests, grants, queries naming it; `grant` the events of a grant — issued, revoked, and every query,
    export and API call made through it. `after_id` is a reader's cursor: only events appended after the one it saw
    last (ids only grow); `before_id` pages backwards."""
    t = store.events
    q = select(t)
    if after_id is not None:
        q = q.where(t.c.id > after_id)
    if before_id is not None:  # a page of older events (newest_first), going back from the last one shown
        q = q.where(t.c.id < before_id)
    patterns = ([kind] if kind is not None else []) + (kinds or [])
    if patterns:
        q = q.where(
            or_(*(t.c.kind.startswith(k[:-1]) if k.endswith("*") else t.c.kind == k for k in patterns))
        )
    for col, value in ((t.c.actor, actor), (t.c.agency, agency), (t.c.subject, subject)):
        if value is not None:
            q = q.where(col == value)
    if actors:
        q = q.where(t.c.actor.in_(actors))
    if resource is not None:  # the payload is canonical JSON (no spaces): a key/value is a fixed substring
        dotted = resource.replace("/", ".")
        q = q.where(or_(t.c.subject == resource, _contains(t.c.payload, f'"resource":"{resource}"'),
                        _contains(t.c.payload, f'"{dotted}"')))  # fmt: skip
    if grant is not None:
        q = q.where(or_(t.c.subject == f"grant/{grant}", _contains(t.c.payload, f'"{grant}"')))
    if since is not None:
        q = q.where(t.c.at >= utc_stamp(since))
    if until is not None:
        q = q.where(t.c.at < utc_stamp(until))
    q = q.order_by(t.c.id.desc() if newest_first else t.c.id)
    if limit is not None:
        q = q.limit(limit)
    with store.read_connection(settings) as conn:
        return [Event(**{**dict(r), "payload": json.loads(r["payload"])}) for r in conn.execute(q).mappings()]
