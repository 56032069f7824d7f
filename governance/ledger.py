"""The submission ledger (§11): one row per agency × resource × period saying what the agency delivered for it.

States: `updated` (published on time), `late` (published after the due date), `amended` (published again in a period
already satisfied), `zero_update_declared` (a person attested that nothing changed), `zero_update_auto` (a load whose
content was identical to the current snapshot), `rejected` (a delivery failed its checks and nothing else satisfied
the period), `missing` (the due date passed with nothing). A zero update satisfies a period; no submission does not.

The lead calls `record_load_outcome` after every load; freshness and scorecards read this table, never Dagster.
Dates are Beijing dates (a load at 23:30 UTC on 30 Nov belongs to 1 Dec).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from govhub import store
from govhub.catalog.model import Resource
from govhub.clock import beijing_date
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.governance.freshness import FreshnessPolicy, Period, due_date, parse_period, period_of, policy_for
from govhub.governance.workdays import WorkdayCalendar, calendar_for
from govhub.states import LedgerState, LoadStatus

LEDGER_LOCK = "govhub.ledger"


@dataclass(frozen=True)
class LedgerEntry:
    agency: str
    resource: str
    period: str
    state: LedgerState
    at: str  # UTC stamp of the submission (or of when it was found missing)
    snapshot_id: str | None = None
    load_id: str | None = None
    attested_by: str | None = None
    note: str | None = None

    @property
    def satisfies(self) -> bool:
        return self.state.satisfies

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if k == "state" else v) for k, v in self.__dict__.items()}


def _entry(row: Any) -> LedgerEntry:
    m = row._mapping
    return LedgerEntry(
        **{k: m[k] for k in LedgerEntry.__dataclass_fields__ if k != "state"}, state=LedgerState(m["state"])
    )


def rows_for(conn: Any, agency: str, resource: str) -> dict[str, LedgerEntry]:
    t = store.submissions
    found = conn.execute(select(t).where(t.c.agency == agency, t.c.resource == resource))
    return {e.period: e for e in map(_entry, found)}


def write_entry(conn: Any, entry: LedgerEntry, *, replace: bool) -> None:
    t = store.submissions
    values = entry.to_dict()
    if replace:
        conn.execute(
            t.update()
            .where(t.c.agency == entry.agency, t.c.resource == entry.resource, t.c.period == entry.period)
            .values(**values)
        )
    else:
        conn.execute(t.insert().values(**values))


def ledger_rows(
    settings: Settings, *, agency: str | None = None, resource: str | None = None, period: str | None = None
) -> list[LedgerEntry]:
    """Ledger rows matching the filters (resource is the catalog id), ordered by agency, resource, period."""
    t = store.submissions
    q = select(t).order_by(t.c.agency, t.c.resource, t.c.period)
    for col, value in ((t.c.agency, agency), (t.c.resource, resource), (t.c.period, period)):
        if value is not None:
            q = q.where(col == value)
    with store.read_connection(settings) as conn:
        return [_entry(r) for r in conn.execute(q)]


def ledger_version(settings: Settings) -> tuple[Any, ...]:
    """What changes whenever the ledger does — a row added, or one rewritten (`write_entry` stamps it with the time
    of writing and usually a new state) — for caches of what is computed from it (`portal.views.freshness_today`).
    One aggregate query instead of every row."""
    from sqlalchemy import func

    t = store.submissions
    query = select(func.count(), func.max(t.c.id), func.max(t.c.at), func.sum(func.length(t.c.state)))
    with store.read_connection(settings) as conn:
        return tuple(conn.execute(query).one())


def satisfied_periods(settings: Settings, resource: Resource) -> set[str]:
    """Ids of the periods the resource has delivered or zero-updated."""
    return {
        e.period for e in ledger_rows(settings, agency=resource.agency, resource=resource.id) if e.satisfies
    }


def ledger_by_resource(settings: Settings) -> dict[tuple[str, str], list[LedgerEntry]]:
    """Every row grouped by (agency, resource), in one query (what a sensor tick reads)."""
    grouped: dict[tuple[str, str], list[LedgerEntry]] = {}
    for e in ledger_rows(settings):
        grouped.setdefault((e.agency, e.resource), []).append(e)
    return grouped


def target_period(resource: Resource, on: dt.date, existing: dict[str, LedgerEntry]) -> Period | None:
    """The period a delivery made on `on` is for: the period just ended when it is still unsatisfied and the feed
    has history (a delivery made on Monday is last week's), otherwise the current period. None for irregular."""
    cur = period_of(resource.cycle, on)
    if cur is None:
        return None
    prev = cur.previous()
    owed = prev.id not in existing or not existing[prev.id].satisfies
    return prev if existing and owed and cur.id not in existing else cur


def record_load_outcome(
    settings: Settings,
    resource: Resource,
    outcome: dict[str, Any],
    *,
    at: dt.datetime,
    calendar: WorkdayCalendar | None = None,
    policy: FreshnessPolicy | None = None,
) -> LedgerEntry | None:
    """Enter a load's outcome in the ledger and the event log; returns the period's row afterwards.

    outcome: status (published | zero_update | rejected | failed), snapshot_id, load_id, actor, optional period.
    published → updated, or late after the due date, or amended when the period was already satisfied;
    zero_update → zero_update_auto (an already satisfied period keeps its row); rejected → rejected unless the period
    is already satisfied; failed (the platform's fault, not the agency's) → no ledger row, only an event.
    """
    status = LoadStatus(outcome.get("status"))  # an unknown status is a programming error: ValueError
    actor = outcome.get("actor") or "system"
    subject = f"{resource.agency}/{resource.id}"
    if status in (LoadStatus.FAILED, LoadStatus.NO_UPLOAD):
        return None  # the hub could not pull: nothing the agency delivered (the load itself logged the event)
    calendar = calendar or calendar_for(settings.catalog_dir)
    policy = policy or policy_for(resource)
    on = beijing_date(at)
    with store.write_transaction(settings, LEDGER_LOCK) as conn:
        existing = rows_for(conn, resource.agency, resource.id)
        period = (
            parse_period(resource.cycle, outcome["period"])
            if outcome.get("period")
            else target_period(resource, on, existing)
        )
        pid = period.id if period else on.isoformat()  # irregular feeds: one row per delivery day
        before = existing.get(pid)
        state = _state_for(status, before, period, on, calendar, policy)
        if state is None:
            return before
        entry = LedgerEntry(
            agency=resource.agency,
            resource=resource.id,
            period=pid,
            state=state,
            at=utc_stamp(at),
            snapshot_id=outcome.get("snapshot_id") or (before.snapshot_id if before else None),
            load_id=outcome.get("load_id"),
            attested_by=actor,
            note=f"此前状态：{before.state.label}" if before else None,
        )
        write_entry(conn, entry, replace=before is not None)
    record_event(
        settings,
        kind=f"ledger.{state.value}",
        actor=actor,
        agency=resource.agency,
        subject=subject,
        payload={
            "period": pid,
            "status": status.value,
            "snapshot_id": entry.snapshot_id,
            "load_id": entry.load_id,
        },
        at=at,
    )
    return entry


def _state_for(
    status: LoadStatus,
    before: LedgerEntry | None,
    period: Period | None,
    on: dt.date,
    calendar: WorkdayCalendar,
    policy: FreshnessPolicy,
) -> LedgerState | None:
    """The period's new state, or None to leave its row as it is."""
    already = before is not None and before.satisfies
    if status is LoadStatus.PUBLISHED:
        if already:
            return LedgerState.AMENDED
        if period is not None and on > due_date(period, calendar, policy):
            return LedgerState.LATE
        return LedgerState.UPDATED
    if already:
        return None  # an identical or rejected re-delivery does not undo what satisfied the period
    if status is LoadStatus.ZERO_UPDATE:  # nothing new, delivered after the due date: still late
        late = period is not None and on > due_date(period, calendar, policy)
        return LedgerState.LATE if late else LedgerState.ZERO_UPDATE_AUTO
    return LedgerState.REJECTED


def mark_missing(settings: Settings, resource: Resource, period: Period, *, at: dt.datetime) -> bool:
    """Record that `period` passed its due date with nothing delivered; False when it already has a row."""
    with store.write_transaction(settings, LEDGER_LOCK) as conn:
        if period.id in rows_for(conn, resource.agency, resource.id):
            return False
        write_entry(
            conn,
            LedgerEntry(resource.agency, resource.id, period.id, LedgerState.MISSING, utc_stamp(at)),
            replace=False,
        )
    return True
