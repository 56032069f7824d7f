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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from govhub import store
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
    payload_text = canonical_json(payload)
    with store.write_transaction(settings, _CHAIN_LOCK) as conn:
        last = conn.execute(
            select(store.events.c.id, store.events.c.hash).order_by(store.events.c.id.desc()).limit(1)
        ).first()
        prev_id, prev_hash = (last.id, last.hash) if last else (0, GENESIS)
        row = {
            "id": prev_id + 1,
            "at": utc_stamp(at),
            "kind": kind,
            "actor": actor,
            "agency": agency,
            "subject": subject,
            "payload": payload_text,
        }
        row["prev_hash"] = prev_hash
        row["hash"] = _row_hash(prev_hash, row)
        conn.execute(store.events.insert().values(**row))


def verify_chain(settings: Settings) -> list[str]:
    """Every break in the chain, in order (altered, removed or inserted rows); empty when intact."""
    problems: list[str] = []
    expected_prev, expected_id = GENESIS, 1
    with store.read_connection(settings) as conn:
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
    return problems


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
    last (ids only grow)."""
    t = store.events
    q = select(t)
    if after_id is not None:
        q = q.where(t.c.id > after_id)
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
