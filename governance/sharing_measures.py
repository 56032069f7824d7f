"""What the scorecards measure of sharing and use (§18: 资源共享、资源利用), from the request log and the event log.

As a provider, over a window: the requests forwarded to it whose answer fell due or came in the window — answered on
time (within the working days §13 allows), late, or still unanswered past the deadline (escalated) —, the median
working days it took to answer, escalations and disputes. As a consumer: how much it used what it was granted —
queries, exports and docking-API rows, per grant (data used by nobody is a grant to reconsider).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from govhub import store
from govhub.clock import beijing_date
from govhub.config import Settings
from govhub.events import list_events
from govhub.governance.grants import Grant
from govhub.governance.workdays import WorkdayCalendar
from govhub.states import RequestState

log = logging.getLogger(__name__)

USE_KINDS = [
    "query.run",
    "export.written",
    "api.call",
]  # a grant used: queried, exported, read through the API


@dataclass
class GrantUse:
    """How a grant was used (§15: the consumer answers for what it did with shared data)."""

    queries: int = 0
    exports: int = 0
    api_calls: int = 0
    api_rows: int = 0
    api_bytes: int = 0
    last_used_at: str | None = None  # UTC, as the event log keeps it

    def count(self, kind: str, at: str, payload: dict[str, Any]) -> None:
        """One use event (its kind, moment and payload) counted."""
        if kind == "query.run":
            self.queries += 1
        elif kind == "export.written":
            self.exports += 1
        elif kind == "api.call":
            self.api_calls += 1
            self.api_rows += _amount(payload.get("rows"))
            self.api_bytes += _amount(payload.get("bytes"))
        else:
            return
        self.last_used_at = max(self.last_used_at or "", at)

    def add(self, other: GrantUse) -> None:
        for name in ("queries", "exports", "api_calls", "api_rows", "api_bytes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.last_used_at is not None:
            self.last_used_at = max(self.last_used_at or "", other.last_used_at)

    def to_dict(self) -> dict[str, int | str | None]:
        return dict(self.__dict__)

    @property
    def times(self) -> int:
        return self.queries + self.exports + self.api_calls

    @property
    def summary_zh(self) -> str:
        """As people read it: "查询 2 次、接口调用 3 次（1,200 条，1.5 MB）；最近使用 2026-11-28 14:05（北京时间）"."""
        from govhub.clock import beijing_text

        if not self.times:
            return "尚未使用"
        parts = [f"{label} {n} 次" for label, n in (("查询", self.queries), ("导出", self.exports),
                                                     ("接口调用", self.api_calls)) if n]  # fmt: skip
        if self.api_calls:
            parts[-1] += f"（{self.api_rows:,} 条，{size_text(self.api_bytes)}）"
        return "、".join(parts) + f"；最近使用 {beijing_text(self.last_used_at)}"


def _amount(value: Any) -> int:
    """A count of rows or bytes as an event carries it; anything else (text, a fraction, below zero, beyond 2^53)
    counts as 0 — one damaged event must not stop every count after it."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53:
        return value
    return 0


def size_text(n: int) -> str:
    """Bytes as people read them: 980 B, 12.3 KB, 1.5 MB, 2.04 GB."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.2f} {unit}" if value < 10 and unit == "GB" else f"{value:.1f} {unit}"
    return f"{n} B"


GRANT_USE_LOCK = "govhub.grant_use"
# events per transaction: folding a long log the first time holds the lock in short turns
_FOLD_CHUNK = 50_000


def grant_uses(settings: Settings, grants: list[Grant]) -> dict[str, GrantUse]:
    """Everything the event log says each grant was used for since it was issued: what `grant_use` keeps, plus the
    use events appended since its mark, counted in memory — a reading writes nothing and waits for no writer, and
    costs what is new since the last fold (the sharing clock's tick and an audit prune fold; W12 in
    docs/PERFORMANCE.md)."""
    uses = {g.id: GrantUse() for g in grants}
    if not grants:
        return uses
    t, m = store.grant_use, store.grant_use_mark
    wanted = list(uses)
    # one statement, so the counts and their mark are of one moment (a fold may commit between two statements)
    kept = (
        select(m.c.through_id, t)
        .select_from(m.outerjoin(t, t.c.grant_id.in_(wanted)))
        .where(m.c.id == _MARK_ROW)
    )
    mark = 0
    with store.read_connection(settings) as conn:
        for row in conn.execute(kept).mappings():
            mark = row["through_id"]
            if row["grant_id"] is not None:
                uses[row["grant_id"]] = _use_of(row)
        for kind, at, payload in conn.execute(_use_events(mark)):
            _count(uses, kind, at, payload, only=uses)
    return uses


_MARK_ROW = 1


def fold_grant_uses(settings: Settings) -> int:
    """Fold the use events appended since the last fold into `grant_use` (per grant: counts, rows, bytes, last use)
    and move the mark past them; returns how many use events were folded. One small read when nothing is new.

    Event ids are handed out one after another under the chain's lock (`events._append`, the only writer of the
    log), so once an id is visible every smaller one is committed: folding up to the newest id seen never skips an
    event committed later."""
    e = store.events
    folded = 0
    while True:
        with store.read_connection(settings) as conn:
            mark = _mark(conn)
            oldest, newest = conn.execute(select(func.min(e.c.id), func.max(e.c.id))).one()
        if newest is None or newest == mark:
            return folded
        with store.write_transaction(settings, GRANT_USE_LOCK) as conn:
            mark = _mark(conn)  # another process may have folded meanwhile
            if mark > newest:  # a mark past the log (a store put together from two moments): count it again
                log.warning(
                    "grant_use's mark %s is past the newest event %s: counting the kept log again",
                    mark,
                    newest,
                )
                conn.execute(store.grant_use.delete())
                mark = 0
            start = max(mark, (oldest or 1) - 1)  # a pruned log starts later: no empty chunks before it
            folded += fold_range(conn, start, min(newest, start + _FOLD_CHUNK))


def fold_range(conn: Any, mark: int, bound: int) -> int:
    """Inside the caller's transaction (holding `GRANT_USE_LOCK`, or the log's own lock: an audit prune folds what
    it is about to remove): the use events in (mark, bound] added to `grant_use`, the mark moved to `bound`."""
    uses: dict[str, GrantUse] = defaultdict(GrantUse)
    folded = 0
    for kind, at, payload in conn.execute(_use_events(mark, bound)):
        folded += _count(uses, kind, at, payload)
    _store_uses(conn, uses)
    m = store.grant_use_mark
    if conn.execute(m.update().where(m.c.id == _MARK_ROW).values(through_id=bound)).rowcount == 0:
        conn.execute(m.insert().values(id=_MARK_ROW, through_id=bound))
    return folded


def fold_before_prune(conn: Any, through_id: int) -> None:
    """`events.prune_events`' last step before it removes the events up to `through_id`, in its transaction: what
    they say of grants is folded first, so a grant's use is still told after they are gone."""
    store.also_lock(conn, GRANT_USE_LOCK)  # after the log's lock, as every holder of both takes them
    mark = _mark(conn)
    if mark < through_id:
        fold_range(conn, mark, through_id)


def _mark(conn: Any) -> int:
    m = store.grant_use_mark
    return conn.execute(select(m.c.through_id).where(m.c.id == _MARK_ROW)).scalar() or 0


def _use_events(after: int, through: int | None = None) -> Any:
    e = store.events
    q = select(e.c.kind, e.c.at, e.c.payload).where(e.c.id > after, e.c.kind.in_(USE_KINDS))
    return q.where(e.c.id <= through) if through is not None else q


def _count(uses: dict[str, GrantUse], kind: str, at: str, payload: str, only: dict | None = None) -> int:
    """One use event counted for each grant it names; a damaged one (not an object, grants not a list of ids)
    counts for nothing rather than stopping every count after it. 1 when it was a use event read."""
    try:
        kept = json.loads(payload)
    except ValueError:
        return 0
    grants = kept.get("grants") if isinstance(kept, dict) else None
    if not isinstance(grants, list):
        return 0
    for grant in grants:
        if isinstance(grant, str) and len(grant) <= 32 and (only is None or grant in only):  # `grants.id`
            uses[grant].count(kind, at, kept)
    return 1


def _use_of(row: Any) -> GrantUse:
    return GrantUse(
        **{k: row[k] for k in ("queries", "exports", "api_calls", "api_rows", "api_bytes", "last_used_at")}
    )


def _store_uses(conn: Any, uses: dict[str, GrantUse]) -> None:
    t = store.grant_use
    kept = {
        row["grant_id"]: _use_of(row)
        for row in conn.execute(select(t).where(t.c.grant_id.in_(list(uses)))).mappings()
    }
    for grant, new in uses.items():
        if grant in kept:
            kept[grant].add(new)
            conn.execute(t.update().where(t.c.grant_id == grant).values(**kept[grant].to_dict()))
        else:
            conn.execute(t.insert().values(grant_id=grant, **new.to_dict()))


@dataclass
class SharingMeasures:
    answered_on_time: int = 0
    answered_late: int = 0
    unanswered_overdue: int = 0
    answer_days: list[int] = field(default_factory=list)
    escalations: int = 0
    disputes: int = 0
    use: dict[str, GrantUse] = field(default_factory=lambda: defaultdict(GrantUse))

    @property
    def due(self) -> int:
        return self.answered_on_time + self.answered_late + self.unanswered_overdue

    @property
    def on_time_rate(self) -> float | None:
        return round(100.0 * self.answered_on_time / self.due, 1) if self.due else None

    @property
    def median_answer_days(self) -> float | None:
        return statistics.median(self.answer_days) if self.answer_days else None

    @property
    def data_used(self) -> int:
        return sum(u.times for u in self.use.values())

    def to_dict(self) -> dict[str, Any]:
        return {"answered_on_time": self.answered_on_time, "answered_late": self.answered_late,
                "unanswered_overdue": self.unanswered_overdue, "median_answer_days": self.median_answer_days,
                "escalations": self.escalations, "disputes": self.disputes, "data_used": self.data_used,
                "use_by_grant": {g: u.to_dict() for g, u in sorted(self.use.items())}}  # fmt: skip


def _business_day(move: Any) -> dt.date:
    """The day a move counts on: as recorded by the working-day clock, else the Beijing date it was made."""
    on = json.loads(move.details).get("on")
    return (
        dt.date.fromisoformat(on)
        if on
        else beijing_date(dt.datetime.fromisoformat(move.at.replace("Z", "+00:00")))
    )


def sharing_measures(
    settings: Settings, start: dt.date, end: dt.date, calendar: WorkdayCalendar, today: dt.date | None = None
) -> dict[str, SharingMeasures]:
    """Measures per agency for [start, end] (Beijing dates)."""
    measures: dict[str, SharingMeasures] = defaultdict(SharingMeasures)
    today = today or end
    r, t = store.sharing_requests, store.request_transitions
    with store.read_connection(settings) as conn:
        requests = {row.id: row for row in conn.execute(select(r))}
        moves = conn.execute(select(t).order_by(t.c.id)).all()
    forwarded: dict[str, dt.date] = {}
    answered: dict[str, dt.date] = {}
    for m in moves:
        provider = requests[m.request_id].provider
        on = _business_day(m)
        if m.action == "forward":
            forwarded[m.request_id] = on
        elif m.action == "answer":
            answered.setdefault(m.request_id, on)
        if start <= on <= end and m.action == "escalate":
            measures[provider].escalations += 1
        if start <= on <= end and m.action == "dispute":
            measures[provider].disputes += 1
    for request_id, sent in forwarded.items():
        row = requests[request_id]
        due = calendar.add_working_days(sent, 10)  # §13; escalation records the step's own deadline
        got = answered.get(request_id)
        s = measures[row.provider]
        if got is not None and start <= got <= end:
            s.answer_days.append(calendar.working_days_between(sent, got))
            if row.answered_late:
                s.answered_late += 1
            else:
                s.answered_on_time += 1
        elif (
            got is None and start <= due <= end and due < today and row.state != RequestState.WITHDRAWN.value
        ):
            s.unanswered_overdue += 1
    since = dt.datetime.combine(start, dt.time(), dt.UTC) - dt.timedelta(hours=8)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC) - dt.timedelta(hours=8)
    for event in list_events(settings, kinds=USE_KINDS, since=since, until=until):
        for grant in event.payload.get("grants") or []:
            measures[event.agency or ""].use[grant].count(event.kind, event.at, event.payload)
    return measures
