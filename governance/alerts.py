"""Stale-feed and anomaly alerts, and the catalog's own clocks (§10, §11).

`evaluate_freshness` reads the ledger once and gives every catalog resource's state (cheap: a sensor can call it every
tick); `raise_alerts` turns overdue and stale rows into alerts, each sent once per (resource, period, kind) — the
`alerts_sent` table remembers — to a JSON-lines file (`<state dir>/alerts.log`) and, when the settings name one
(`GOVHUB_ALERT_WEBHOOK`), a webhook (POST JSON; a failing webhook is logged, never raised: the alert stays in the file).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass

from sqlalchemy import select

from govhub import store
from govhub.catalog.model import Catalog, LifecycleStatus, Resource
from govhub.clock import today_in_beijing
from govhub.config import Settings
from govhub.connectors.secrets import redact_address, redact_url
from govhub.events import utc_stamp
from govhub.governance.freshness import FreshnessPolicy, assess, parse_period, policy_for
from govhub.governance.ledger import LedgerEntry, ledger_by_resource, mark_missing
from govhub.governance.workdays import WorkdayCalendar, calendar_for
from govhub.problems import GovhubError
from govhub.states import FreshnessState

log = logging.getLogger(__name__)
ALERTS_LOCK = "govhub.alerts"
CATALOG_CHANGE_WORKING_DAYS = 2  # §10: a change must be published within 2 working days


@dataclass(frozen=True)
class Alert:
    kind: str  # overdue | stale | empty_load | volume_drop | …
    agency: str
    resource: str
    period: str
    state: str
    message_zh: str
    at: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class FreshnessRow:
    agency: str
    resource: str
    code: str
    name: str
    cycle: str
    state: FreshnessState
    period: str | None  # fresh: the next period owed; otherwise the oldest missed one
    due_date: dt.date | None
    last: LedgerEntry | None  # the latest row that satisfied a period (update or zero update)
    overdue_working_days: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "agency": self.agency,
            "resource": self.resource,
            "code": self.code,
            "name": self.name,
            "cycle": self.cycle,
            "state": self.state.value,
            "period": self.period,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "last": self.last.to_dict() if self.last else None,
            "overdue_working_days": self.overdue_working_days,
        }


def _period_start(resource: Resource, period: str | None) -> dt.date:
    try:
        return parse_period(resource.cycle, period).start if period else dt.date.min
    except GovhubError:  # an irregular resource's entries, or a period id of an earlier cycle
        return dt.date.min


def evaluate_freshness(
    settings: Settings,
    catalog: Catalog,
    as_of: dt.date | None = None,
    *,
    policy: FreshnessPolicy | None = None,
    calendar: WorkdayCalendar | None = None,
) -> list[FreshnessRow]:
    """The freshness of every published or changed catalog resource at `as_of` (default: today in Beijing), each
    by its catalog `freshness:` settings unless `policy` overrides them all."""
    as_of = as_of or today_in_beijing()
    calendar = calendar or calendar_for(settings.catalog_dir)
    ledger = ledger_by_resource(settings)
    rows = []
    for r in catalog.resources:
        if not r.status.in_force:
            continue  # nothing is owed for a resource the catalog has not published
        entries = ledger.get(r.key, [])
        satisfying = [e for e in entries if e.satisfies]
        f = assess(
            r.cycle,
            {e.period for e in satisfying},
            as_of,
            calendar=calendar,
            policy=policy or policy_for(r),
            since=r.published_on,
        )
        # the latest period delivered (a late declaration for an old period is not the latest update)
        last = max(satisfying, key=lambda e: (_period_start(r, e.period), e.at), default=None)
        rows.append(
            FreshnessRow(
                r.agency,
                r.id,
                r.code,
                r.name,
                r.cycle.value,
                f.state,
                f.period.id if f.period else None,
                f.due_date,
                last,
                f.overdue_working_days,
            )
        )
    return rows


_STATE_TEXT = {FreshnessState.OVERDUE: "已逾期", FreshnessState.STALE: "已陈旧（连续多个周期未更新）"}


def raise_alerts(
    settings: Settings,
    rows: list[FreshnessRow],
    *,
    catalog: Catalog | None = None,
    at: dt.datetime | None = None,
) -> list[Alert]:
    """Alerts for overdue and stale feeds not alerted before; each missed period is also marked missing in the
    ledger when `catalog` is given (a zero update is not the same as no submission)."""
    at = at or dt.datetime.now(dt.UTC)
    new: list[Alert] = []
    for row in rows:
        if row.state not in _STATE_TEXT or row.period is None:
            continue
        message = (
            f"「{row.name}」({row.code}) {row.period} 期数据{_STATE_TEXT[row.state]}：应于 {row.due_date} 前更新或申报零更新，"
            f"已超过 {row.overdue_working_days} 个工作日"
        )
        alert = Alert(
            row.state.value, row.agency, row.resource, row.period, row.state.value, message, utc_stamp(at)
        )
        if raise_alert(settings, alert):
            new.append(alert)
        if catalog is not None:
            resource = catalog.resource(f"{row.agency}/{row.resource}")
            mark_missing(settings, resource, parse_period(resource.cycle, row.period), at=at)
    return new


def raise_alert(settings: Settings, alert: Alert) -> bool:
    """Send `alert` unless one of its kind was already sent for its resource and period; True when sent now."""
    t = store.alerts_sent
    key = {"agency": alert.agency, "resource": alert.resource, "period": alert.period, "kind": alert.kind}
    with store.write_transaction(settings, ALERTS_LOCK) as conn:
        if conn.execute(select(t.c.at).filter_by(**key)).first() is not None:
            return False
        conn.execute(t.insert().values(**key, at=alert.at, message_zh=alert.message_zh))
    _deliver(settings, alert)
    return True


def _deliver(settings: Settings, alert: Alert) -> None:
    line = json.dumps(alert.to_dict(), ensure_ascii=False)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with (settings.state_dir / "alerts.log").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    url = settings.alert_webhook
    if not url:
        return
    import httpx

    try:
        httpx.post(url, json=alert.to_dict(), timeout=5.0).raise_for_status()
    except httpx.HTTPError as exc:  # the robot's key is in its URL (and in httpx's message): shown masked
        log.warning("alert webhook %s failed for %s/%s %s: %s", redact_url(url), alert.agency, alert.resource,
                    alert.kind, redact_address(str(exc), url))  # fmt: skip


def check_volume(
    resource: Resource,
    rows: int,
    previous_rows: int | None,
    *,
    zero_update: bool = False,
    period: str = "",
    at: dt.datetime | None = None,
) -> Alert | None:
    """An anomaly alert when a load (not a zero update) has no rows, or fewer than `quality.min_rows_ratio` of the
    previous snapshot's rows; None when the volume looks normal."""
    if zero_update:
        return None
    stamp = utc_stamp(at)
    name = f"「{resource.name}」({resource.code})"
    if rows == 0:
        message = f"{name}本次汇聚为 0 行，且未申报零更新：请核实源系统是否正常"
        return Alert("empty_load", resource.agency, resource.id, period, "anomaly", message, stamp)
    ratio = resource.quality.min_rows_ratio
    if previous_rows and rows < previous_rows * ratio:
        message = (
            f"{name}本次汇聚 {rows} 行，仅为上次 {previous_rows} 行的 {rows / previous_rows:.0%}，"
            f"低于 {ratio:.0%} 的下限：请核实是否漏报"
        )
        return Alert("volume_drop", resource.agency, resource.id, period, "anomaly", message, stamp)
    return None


def review_due_on(resource: Resource) -> dt.date | None:
    """§10: the date the annual full review falls due (a year after the last review; None if never reviewed)."""
    last = resource.reviewed_on
    if last is None:
        return None
    try:
        return last.replace(year=last.year + 1)
    except ValueError:  # reviewed on 29 February
        return last.replace(year=last.year + 1, day=28)


def catalog_review_due(resource: Resource, as_of: dt.date) -> bool:
    """True when the annual full review is overdue: never reviewed, or last reviewed more than a year before."""
    due = review_due_on(resource)
    return due is None or as_of > due


def catalog_change_deadline(changed_on: dt.date, calendar: WorkdayCalendar) -> dt.date:
    """§10: a changed catalog element must be published within 2 working days of the change."""
    return calendar.add_working_days(changed_on, CATALOG_CHANGE_WORKING_DAYS)


def catalog_change_overdue(resource: Resource, as_of: dt.date, calendar: WorkdayCalendar) -> bool:
    """True when the resource is in `changed` status and its 2-working-day publication deadline has passed."""
    if resource.status is not LifecycleStatus.CHANGED or resource.changed_on is None:
        return False
    return as_of > catalog_change_deadline(resource.changed_on, calendar)
