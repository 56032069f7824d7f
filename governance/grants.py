"""Grants (§12): what an approved request lets the consumer reach — fields, rows, purpose, from when until when.

A grant is issued in the same transaction that approves its request, with the answer's fields and rows (never a
not-shared field, never more than asked). It works from `starts_on` to `expires_on` (Beijing dates, both included)
and stops at once when revoked by the provider or the office, or when it expires: every path that reads data (the
workspace, `govhub query`, the docking API) asks `live_grants` on the day it reads.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from govhub import store
from govhub.catalog.model import Catalog
from govhub.clock import beijing_text
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.problems import GovhubError, Problem

if TYPE_CHECKING:
    from govhub.governance.requests import Answer, SharingRequest
    from govhub.warehouse.scope import ScopedTable


class GrantState(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Grant:
    id: str
    request_id: str | None
    consumer: str
    provider: str
    resource: str
    fields: list[str]
    row_scope: list[dict[str, Any]]
    purpose: str
    conditions: str | None
    starts_on: dt.date
    expires_on: dt.date
    state: GrantState
    created_by: str
    created_at: str
    revoked_by: str | None
    revoked_at: str | None
    revoke_reason: str | None

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.resource}"

    def live(self, today: dt.date) -> bool:
        return self.state is GrantState.ACTIVE and self.starts_on <= today <= self.expires_on

    def status_label(self, today: dt.date) -> str:
        if self.state is GrantState.REVOKED:
            return "已撤销"
        if today < self.starts_on:
            return "未生效"
        return "已到期" if today > self.expires_on else "生效中"

    def to_dict(self, today: dt.date | None = None) -> dict[str, Any]:
        data = {**self.__dict__, "state": self.state.value, "starts_on": self.starts_on.isoformat(),
                "expires_on": self.expires_on.isoformat()}  # fmt: skip
        if today is not None:
            data.update(live=self.live(today), status=self.status_label(today))
        return data


def _grant(row: Any) -> Grant:
    m = dict(row._mapping)
    return Grant(**{**m, "fields": json.loads(m["fields"]), "row_scope": json.loads(m["row_scope"]),
                    "state": GrantState(m["state"])})  # fmt: skip


def issue_grant(
    conn: Any,
    request: SharingRequest,
    answer: Answer | None,
    *,
    by: str,
    at: str,
    today: dt.date,
    catalog: Catalog | None = None,
) -> tuple[str, dict[str, Any]]:
    """Insert the grant an approval creates (inside the approval's transaction); its id and event payload."""
    fields = answer.fields if answer and answer.fields else request.fields
    rows = answer.row_scope if answer and answer.fields else request.row_scope
    grant_id = store.day_numbered_id(conn, store.grants, "GR", today)
    values = dict(
        id=grant_id, request_id=request.id, consumer=request.consumer, provider=request.provider,
        resource=request.resource, fields=json.dumps(fields), row_scope=json.dumps(rows, ensure_ascii=False),
        purpose=request.purpose, conditions=answer.conditions if answer else None,
        starts_on=max(request.use_from, today), expires_on=request.use_until, state=GrantState.ACTIVE.value,
        created_by=by, created_at=at,
    )  # fmt: skip
    conn.execute(store.grants.insert().values(**values))
    payload = {k: v for k, v in values.items() if k not in ("fields", "row_scope")}
    return grant_id, {**payload, "fields": fields, "row_scope": rows, "resource": request.key}


def revoke_in(
    conn: Any, grant_id: str, *, by: str, at: str, reason: str, if_active: bool = False
) -> tuple[str, dict[str, Any]] | None:
    """Revoke inside a caller's transaction; the event to record once it commits (None: `if_active` and it was
    revoked already)."""
    t = store.grants
    row = conn.execute(select(t).where(t.c.id == grant_id)).first()
    if row is None:
        raise GovhubError(
            Problem("sharing.unknown_grant", f"没有编号为“{grant_id}”的共享授权", value=grant_id)
        )
    grant = _grant(row)
    if grant.state is GrantState.REVOKED and if_active:
        return None
    if grant.state is GrantState.REVOKED:
        raise GovhubError(
            Problem(
                "sharing.already_revoked", f"共享授权 {grant_id} 已于 {beijing_text(grant.revoked_at)} 撤销"
            )
        )
    conn.execute(t.update().where(t.c.id == grant_id).values(
        state=GrantState.REVOKED.value, revoked_by=by, revoked_at=at, revoke_reason=reason))  # fmt: skip
    return "grant.revoked", {"id": grant_id, "consumer": grant.consumer, "provider": grant.provider,
                             "resource": grant.key, "reason": reason, "request_id": grant.request_id}  # fmt: skip


def revoke_grant(settings: Settings, grant_id: str, *, by: str, reason: str) -> Grant:
    """Revoke a grant now (every path stops reading it at once); recorded."""
    if not reason.strip():
        raise GovhubError(Problem("sharing.incomplete", "撤销共享授权须写明原因", expected="原因"))
    from govhub.governance.requests import LOCK

    with store.write_transaction(settings, LOCK) as conn:
        revoked = revoke_in(conn, grant_id, by=by, at=utc_stamp(), reason=reason)
    assert revoked is not None  # without if_active a grant revoked already is refused, never skipped
    kind, payload = revoked
    record_event(settings, kind=kind, actor=by, agency=payload["consumer"], subject=f"grant/{grant_id}",
                 payload=payload)  # fmt: skip
    return get_grant(settings, grant_id)


def get_grant(settings: Settings, grant_id: str) -> Grant:
    with store.read_connection(settings) as conn:
        row = conn.execute(select(store.grants).where(store.grants.c.id == grant_id)).first()
    if row is None:
        raise GovhubError(
            Problem("sharing.unknown_grant", f"没有编号为“{grant_id}”的共享授权", value=grant_id)
        )
    return _grant(row)


def list_grants(
    settings: Settings,
    *,
    agency: str | None = None,
    consumer: str | None = None,
    provider: str | None = None,
    live_on: dt.date | None = None,
) -> list[Grant]:
    """Grants, newest first; `agency` = consumer or provider; `live_on` keeps those working that day."""
    t = store.grants
    q = select(t).order_by(t.c.created_at.desc(), t.c.id.desc())
    if agency is not None:
        q = q.where((t.c.consumer == agency) | (t.c.provider == agency))
    for column, value in ((t.c.consumer, consumer), (t.c.provider, provider)):
        if value is not None:
            q = q.where(column == value)
    with store.read_connection(settings) as conn:
        grants = [_grant(r) for r in conn.execute(q)]
    return [g for g in grants if g.live(live_on)] if live_on is not None else grants


def live_grants(settings: Settings, consumer: str, today: dt.date) -> list[Grant]:
    return list_grants(settings, consumer=consumer, live_on=today)


def grant_tables(settings: Settings, catalog: Catalog, consumer: str, today: dt.date) -> list[ScopedTable]:
    """The consumer's live grants as workspace tables: granted fields (never a not-shared one) and rows only."""
    from govhub.governance.sharing import requestable_fields
    from govhub.warehouse.scope import Basis, RowFilter, current_source, scoped_table

    tables = []
    for grant in live_grants(settings, consumer, today):
        try:
            resource = catalog.resource(grant.key)
        except KeyError:
            continue  # a resource since removed from the catalog: nothing to read
        fields = [f for f in grant.fields if f in requestable_fields(resource)]
        if not fields:
            continue
        tables.append(scoped_table(resource, current_source(settings, resource), columns=fields,
                                   row_filter=RowFilter.parse(resource, grant.row_scope), basis=Basis.GRANT,
                                   grant_ids=[grant.id], purposes=[grant.purpose]))  # fmt: skip
    return tables
