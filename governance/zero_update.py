"""Zero updates (零更新, §11): an agency with nothing new for a period says so, and a person answers for it.

A declared zero update satisfies the period like a delivery does. It is refused when the source is known to have
changed since the last snapshot (the lead's `source_changed` check for API/DB feeds), when the period has not begun,
and when the period already has an update, or ended before the resource was published. One declared after
its period's due date satisfies the period late (as a late delivery does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from govhub import store
from govhub.catalog.model import Resource
from govhub.clock import beijing_date
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.governance.freshness import Period, due_date, parse_period, policy_for
from govhub.governance.ledger import (
    LEDGER_LOCK,
    LedgerEntry,
    LedgerState,
    rows_for,
    target_period,
    write_entry,
)
from govhub.governance.workdays import calendar_for
from govhub.problems import GovhubError, Problem


def _refuse(code: str, message_zh: str, **kw: str) -> GovhubError:
    return GovhubError(Problem(code=f"zero_update.{code}", message_zh=message_zh, **kw))


def _owed_period(
    settings: Settings, conn: Any, resource: Resource, period: str | None, today: dt.date, name: str
) -> tuple[Period, dt.date, LedgerEntry | None]:
    """The period a zero update would be for, its due date and its ledger entry so far; refused when the period has
    not begun, ended before the resource was published, or already has an update."""
    existing = rows_for(conn, resource.agency, resource.id)
    chosen = parse_period(resource.cycle, period) if period else target_period(resource, today, existing)
    assert chosen is not None
    if chosen.start > today:
        raise _refuse(
            "future_period",
            f"报送周期 {chosen.id} 尚未开始，不能提前申报零更新",
            value=chosen.id,
            expected=f"不晚于当前周期（今天是 {today.isoformat()}）",
        )
    if resource.published_on and chosen.end < resource.published_on:
        raise _refuse(
            "before_published",
            f"报送周期 {chosen.id} 早于{name}在目录中发布（{resource.published_on.isoformat()}），无需申报零更新",
            value=chosen.id,
            expected=f"{resource.published_on.isoformat()} 以后的周期",
        )
    before = existing.get(chosen.id)
    if before is not None and before.satisfies:
        raise _refuse(
            "already_updated",
            f"{name}在报送周期 {chosen.id} 已有记录（{before.state.label}），不能再申报零更新",
            value=chosen.id,
        )
    return chosen, due_date(chosen, calendar_for(settings.catalog_dir), policy_for(resource)), before


def file_zero_update(
    settings: Settings,
    resource: Resource,
    *,
    period: str | None,
    by: str,
    source_changed: Callable[[Resource], bool | None] | None = None,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> LedgerEntry:
    """Record that `resource` has nothing new for `period` (default: the period owed now), attested by `by` — a
    name the caller has authorized (`govhub.services.zero_update` does)."""
    at = at or dt.datetime.now(dt.UTC)
    name = f"「{resource.name}」({resource.code})"
    if resource.cycle.value == "irregular":
        raise _refuse("irregular", f"{name}的更新周期为“不定期”，无需也不能申报零更新")
    today = beijing_date(at)
    if source_changed is not None:
        with store.read_connection(settings) as conn:  # a wrong period is refused before the source is asked:
            _owed_period(settings, conn, resource, period, today, name)  # a verification pull takes seconds
        if source_changed(resource):
            raise _refuse(
                "source_changed",
                f"{name}的源数据自上次快照以来已发生变化，不能申报零更新，请重新汇聚数据",
            )
    with store.write_transaction(settings, LEDGER_LOCK) as conn:  # checked again: the ledger may have moved
        chosen, due, before = _owed_period(settings, conn, resource, period, today, name)
        late = today > due  # declared after the due date: the period is satisfied, late (§18 counts it so)
        notes = [f"逾期申报零更新（应于 {due.isoformat()} 前）" if late else None, note,
                 f"此前状态：{before.state.label}" if before else None]  # fmt: skip
        entry = LedgerEntry(
            agency=resource.agency,
            resource=resource.id,
            period=chosen.id,
            state=LedgerState.LATE if late else LedgerState.ZERO_UPDATE_DECLARED,
            at=utc_stamp(at),
            attested_by=by,
            note="；".join(filter(None, notes)) or None,
        )
        write_entry(conn, entry, replace=before is not None)
    record_event(
        settings,
        kind="zero_update.declared",
        actor=by,
        agency=resource.agency,
        subject=f"{resource.agency}/{resource.id}",
        payload={"period": chosen.id, "note": note, "late": late},
        at=at,
    )
    return entry
