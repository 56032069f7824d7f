"""A workflow store exactly as commit 0e11c27 made it, before migrations existed — frozen here, never to be edited.

0e11c27's `govhub/store.py` defined events, submissions, alerts_sent and people on one MetaData and created them with
`create_all` on first use; `governance/drift.py` added catalog_drift to the same MetaData, so a store opened before
that module was imported has no catalog_drift table. `fill` writes real rows the way 0e11c27's code did: events
appended to the hash chain (its algorithm, copied), ledger rows, alerts, people, a drift flag.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    make_url,
    select,
)

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("agency", String(100)),
    Column("subject", String(300), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_events_kind", events.c.kind)
Index("ix_events_subject", events.c.subject)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency", String(100), nullable=False),
    Column("resource", String(100), nullable=False),
    Column("period", String(16), nullable=False),
    Column("state", String(32), nullable=False),
    Column("snapshot_id", String(100)),
    Column("load_id", String(100)),
    Column("attested_by", String(200)),
    Column("at", String(32), nullable=False),
    Column("note", Text),
    UniqueConstraint("agency", "resource", "period", name="uq_submission_period"),
)

alerts_sent = Table(
    "alerts_sent",
    metadata,
    Column("agency", String(100), primary_key=True),
    Column("resource", String(100), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("kind", String(50), primary_key=True),
    Column("at", String(32), nullable=False),
    Column("message_zh", Text),
)

people = Table(
    "people",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("agency", String(100), nullable=False),
    Column("roles", String(200), nullable=False),
    Column("active", Integer, nullable=False, default=1),
    Column("updated_at", String(32), nullable=False),
)

catalog_drift = Table(
    "catalog_drift",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency", String(100), nullable=False),
    Column("resource", String(100), nullable=False),
    Column("catalog_fingerprint", String(32), nullable=False),
    Column("detected_at", String(40), nullable=False),
    Column("deadline", Date, nullable=False),
    Column("details", Text, nullable=False),
    Column("resolved_at", String(40)),
)

GENESIS = "0" * 64


def create(url: str, *, with_drift: bool = True) -> Engine:
    """The store at `url` as 0e11c27's `store.engine()` created it (`create_all`, no alembic_version)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    eng = create_engine(url)
    tables = [t for t in metadata.sorted_tables if with_drift or t is not catalog_drift]
    metadata.create_all(eng, tables=tables)
    return eng


def _canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _append_event(
    conn: Any, n: int, kind: str, actor: str, agency: str | None, subject: str, payload: dict
) -> None:
    """0e11c27's record_event: sha256(previous hash + canonical row)."""
    last = conn.execute(select(events.c.id, events.c.hash).order_by(events.c.id.desc()).limit(1)).first()
    prev_id, prev_hash = (last.id, last.hash) if last else (0, GENESIS)
    at = (dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC) + dt.timedelta(minutes=n)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    row = {"id": prev_id + 1, "at": at, "kind": kind, "actor": actor, "agency": agency, "subject": subject,
           "payload": _canonical_json(payload)}  # fmt: skip
    body = _canonical_json({k: row[k] for k in ("id", "at", "kind", "actor", "agency", "subject", "payload")})
    row["prev_hash"] = prev_hash
    row["hash"] = hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
    conn.execute(events.insert().values(**row))


def fill(eng: Engine, *, with_drift: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Real rows in every table; returns each table's rows in primary-key order, as stored."""
    with eng.begin() as conn:
        history = [
            ("person.registered", "admin", "mzj", "person/wangmin", {"name": "王敏", "roles": ["steward"]}),
            ("load.published", "王敏", "mzj", "mzj/dibao", {"rows": 1200, "snapshot": "20260302T013000"}),
            (
                "zero_update.declared",
                "王敏",
                "mzj",
                "mzj/dibao",
                {"period": "2026-03", "reason": "本月无变化"},
            ),
            (
                "load.rejected",
                "system",
                "rsj",
                "rsj/jydj",
                {"problems": 3, "first": "第5行「身份证号」列校验位错误"},
            ),
            ("alert.stale", "system", "rsj", "rsj/jydj", {"period": "2026-W09"}),
        ]
        for n, (kind, actor, agency, subject, payload) in enumerate(history):
            _append_event(conn, n, kind, actor, agency, subject, payload)
        for ledger_row in (
            {"agency": "mzj", "resource": "dibao", "period": "2026-02", "state": "updated",
             "snapshot_id": "20260227T020000", "load_id": "L1", "at": "2026-02-27T02:00:00.000000Z"},
            {"agency": "mzj", "resource": "dibao", "period": "2026-03", "state": "zero_update_declared",
             "attested_by": "王敏", "at": "2026-03-02T01:32:00.000000Z", "note": "本月无变化"},
            {"agency": "rsj", "resource": "jydj", "period": "2026-W09", "state": "missing",
             "at": "2026-03-02T01:34:00.000000Z"},
        ):  # fmt: skip
            conn.execute(submissions.insert().values(**ledger_row))
        conn.execute(
            alerts_sent.insert().values(
                agency="rsj", resource="jydj", period="2026-W09", kind="stale", at="2026-03-02T01:34:00.000000Z",
                message_zh="就业登记已逾期未更新",
            )
        )  # fmt: skip
        conn.execute(
            people.insert(),
            [
                {"id": "wangmin", "name": "王敏", "agency": "mzj", "roles": "steward", "active": 1,
                 "updated_at": "2026-03-02T01:30:00.000000Z"},
                {"id": "zhaozr", "name": "赵主任", "agency": "kw", "roles": "office,reviewer", "active": 0,
                 "updated_at": "2026-03-02T01:31:00.000000Z"},
            ],
        )  # fmt: skip
        if with_drift:
            conn.execute(
                catalog_drift.insert().values(
                    agency="rsj", resource="jydj", catalog_fingerprint="0" * 32, detected_at="2026-03-02T01:33:00Z",
                    deadline=dt.date(2026, 3, 4), details=json.dumps([{"code": "sheet.unknown_column"}]),
                )
            )  # fmt: skip
    return rows(eng, with_drift=with_drift)


def rows(eng: Any, *, with_drift: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Every row of the legacy tables in primary-key order (`eng` may be any engine on the store)."""
    tables = [t for t in metadata.sorted_tables if with_drift or t is not catalog_drift]
    with eng.connect() as conn:
        return {
            t.name: [dict(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings()]
            for t in tables
        }
