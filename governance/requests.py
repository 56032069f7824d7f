"""Sharing requests (§13) as an explicit state machine in the workflow store.

Each move is one function: it checks the request is in a state the move starts from, writes the new state, its
deadline and a `request_transitions` row in one transaction, issues or revokes grants when the outcome says so, and
then appends `request.<action>` (and `grant.*`) to the hash-chained event log. Who may make a move is decided by the
services (`govhub.services.requests`) before they call these functions; the names recorded are the ones they return.
See `governance.sharing` for the rules and the clocks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from govhub import store
from govhub.catalog.model import Catalog, Resource, ShareType
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.governance.sharing import (
    STEP_OF,
    Deadlines,
    check_requestable,
    field_share,
    load_deadlines,
    needs_provider,
    requestable_fields,
    row_condition_lines,
    said,
)
from govhub.governance.workdays import WorkdayCalendar, calendar_for
from govhub.people import Person
from govhub.problems import GovhubError, Problem
from govhub.states import Decision, RequestState, Step

LOCK = "govhub.sharing"
# a period of use longer than three years is refused: grants are reviewed, not perpetual
MAX_USE_DAYS = 3 * 366
MAX_START_DAYS = 366  # a request is filed for a need at hand: its use starts within a year


def _refuse(code: str, message_zh: str, **kw: Any) -> GovhubError:
    return GovhubError(Problem(code=f"sharing.{code}", message_zh=message_zh, **kw))


@dataclass(frozen=True)
class Answer:
    """The provider's answer, or the office's decision: what is granted (fields, rows, conditions) or why not."""

    decision: Decision
    by: str
    at: str
    fields: list[str] = field(default_factory=list)
    row_scope: list[dict[str, Any]] = field(default_factory=list)
    conditions: str | None = None
    reason: str | None = None
    legal_basis: str | None = None
    leading_group: bool = False  # the leading group's decision, recorded by the office

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "decision": self.decision.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(**{**data, "decision": Decision(data["decision"])})


@dataclass(frozen=True)
class SharingRequest:
    id: str
    consumer: str
    provider: str
    resource: str
    code: str
    share_type: ShareType
    fields: list[str]
    row_scope: list[dict[str, Any]]
    purpose: str
    basis: str
    use_from: dt.date
    use_until: dt.date
    state: RequestState
    created_by: str
    created_at: str
    updated_at: str
    deadline: dt.date | None
    deadline_step: Step | None
    answer: Answer | None
    answered_late: bool
    grant_id: str | None
    disputed: bool
    # the applicant's login (None: filed before it was kept, by a name two people share)
    created_by_id: str | None = None

    def filed_by(self, person: Person | None) -> bool:
        """Whether `person` filed this request: by login, or by name for a request that kept none."""
        if person is None:
            return False
        return person.id == self.created_by_id if self.created_by_id else person.name == self.created_by

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.resource}"

    @property
    def needs_provider(self) -> bool:
        return self.share_type is ShareType.CONDITIONAL

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.update(share_type=self.share_type.value, state=self.state.value, state_label=self.state.label,
                    use_from=self.use_from.isoformat(), use_until=self.use_until.isoformat(),
                    deadline=self.deadline.isoformat() if self.deadline else None,
                    deadline_step=self.deadline_step.value if self.deadline_step else None,
                    answer=self.answer.to_dict() if self.answer else None)  # fmt: skip
        return data


def _request(row: Any) -> SharingRequest:
    m = dict(row._mapping)
    return SharingRequest(
        **{k: m[k] for k in ("id", "consumer", "provider", "resource", "code", "purpose", "basis", "use_from",
                             "use_until", "created_by", "created_by_id", "created_at", "updated_at", "deadline",
                             "grant_id")},
        share_type=ShareType(m["share_type"]),
        fields=json.loads(m["fields"]),
        row_scope=json.loads(m["row_scope"]),
        state=RequestState(m["state"]),
        deadline_step=Step(m["deadline_step"]) if m["deadline_step"] else None,
        answer=Answer.from_dict(json.loads(m["answer"])) if m["answer"] else None,
        answered_late=bool(m["answered_late"]),
        disputed=bool(m["disputed"]),
    )  # fmt: skip


def get_request(settings: Settings, request_id: str) -> SharingRequest:
    with store.read_connection(settings) as conn:
        row = conn.execute(
            select(store.sharing_requests).where(store.sharing_requests.c.id == request_id)
        ).first()
    if row is None:
        raise _refuse("unknown_request", f"没有编号为“{request_id}”的共享申请", value=request_id)
    return _request(row)


def list_requests(
    settings: Settings,
    *,
    agency: str | None = None,
    consumer: str | None = None,
    provider: str | None = None,
    states: list[RequestState] | None = None,
) -> list[SharingRequest]:
    """Requests, newest first; `agency` = where it is the consumer or the provider."""
    t = store.sharing_requests
    q = select(t).order_by(t.c.created_at.desc(), t.c.id.desc())
    if agency is not None:
        q = q.where((t.c.consumer == agency) | (t.c.provider == agency))
    if consumer is not None:
        q = q.where(t.c.consumer == consumer)
    if provider is not None:
        q = q.where(t.c.provider == provider)
    if states:
        q = q.where(t.c.state.in_([s.value for s in states]))
    with store.read_connection(settings) as conn:
        return [_request(r) for r in conn.execute(q)]


def transitions_of(settings: Settings, request_id: str) -> list[dict[str, Any]]:
    t = store.request_transitions
    with store.read_connection(settings) as conn:
        rows = conn.execute(select(t).where(t.c.request_id == request_id).order_by(t.c.id)).mappings()
        return [{**dict(r), "details": json.loads(r["details"])} for r in rows]


@dataclass
class Clock:
    """Today in Beijing, the working-day calendar and the per-step deadlines (injectable for frozen-clock tests)."""

    today: dt.date
    calendar: WorkdayCalendar
    deadlines: Deadlines

    @classmethod
    def of(cls, settings: Settings, today: dt.date | None = None) -> Clock:
        from govhub.clock import today_in_beijing

        return cls(
            today or today_in_beijing(),
            calendar_for(settings.catalog_dir),
            load_deadlines(settings.catalog_dir),
        )

    def due(self, step: Step) -> dt.date:
        """The last working day to act on `step`, counted from today (§13: the 10th working day after forwarding)."""
        return self.calendar.add_working_days(self.today, self.deadlines.days(step))

    def working_days_left(self, deadline: dt.date) -> int:
        return self.calendar.working_days_between(self.today, deadline)


def _check_scope(
    resource: Resource,
    fields: list[str],
    row_scope: list[dict[str, Any]],
    *,
    asked: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The row scope in its stored form, once every condition names a field of the resource with a value of its type
    (`warehouse.scope.RowFilter` is the one parser; a grant's rows are built from exactly this), no condition is on a
    not-shared field (choosing rows by it would tell who holds a value: a phone number to a person), and — for an
    answer — the rows stay within those `asked` for."""
    from govhub.warehouse.scope import RowFilter, checked_input

    rows = checked_input(resource, RowFilter.parse(resource, row_scope))
    closed = list(dict.fromkeys(f for f in rows.fields if field_share(resource, f) is ShareType.NOT_SHARED))
    if closed:
        labels = "、".join(f"「{resource.field(f).label}」" for f in closed)
        raise _refuse("field_not_shared", f"信息项{labels}列为不共享，不能作为记录范围的筛选条件",
                      field=closed[0], expected="、".join(requestable_fields(resource)))  # fmt: skip
    wider = rows.widens(RowFilter.parse(resource, asked)) if asked is not None else []
    if wider:
        labels = "、".join(f"「{resource.field(f).label}」" for f in dict.fromkeys(wider))
        raise _refuse("wider_than_asked", f"授权的记录范围超出了申请范围（{labels}的条件放宽或取消）",
                      field=wider[0], expected=row_condition_lines(asked or []))  # fmt: skip
    return rows.to_list()


def create_request(
    settings: Settings,
    catalog: Catalog,
    resource: Resource,
    *,
    consumer: str,
    fields: list[str],
    row_scope: list[dict[str, Any]],
    purpose: str,
    basis: str,
    use_from: dt.date,
    use_until: dt.date,
    by: str,
    clock: Clock,
    by_id: str | None = None,
) -> SharingRequest:
    """A new request (§13): checked against the catalog (§8), on its way to the office with the review clock."""
    wanted = check_requestable(catalog, consumer, resource, fields)
    scope = _check_scope(resource, wanted, row_scope)
    if not purpose.strip() or not basis.strip():
        raise _refuse("incomplete", "共享申请须写明用途和业务/法律依据（§12：仅限本部门履职需要使用）",
                      expected="用途、依据")  # fmt: skip
    if use_until < use_from or (use_until - use_from).days > MAX_USE_DAYS:
        raise _refuse(
            "bad_period", f"使用期限 {use_from}～{use_until} 不合理（应不早于开始日期，且不超过三年）"
        )
    if use_until < clock.today:
        raise _refuse("bad_period", f"使用期限截止于 {use_until}，已经过去")
    # a grant starts no earlier than its approval: a past start would only mislead (a day's slack: a form left open
    # over midnight, a script's date in another time zone)
    if use_from < clock.today - dt.timedelta(days=1):
        raise _refuse("bad_period", f"使用期限的开始日期 {use_from} 早于今天（{clock.today}），请从今天或以后开始",
                      expected=f"不早于 {clock.today}")  # fmt: skip
    if (use_from - clock.today).days > MAX_START_DAYS:
        raise _refuse("bad_period", f"使用期限的开始日期 {use_from} 在一年以后，请到临近使用时再提出申请",
                      expected=f"不晚于 {clock.today + dt.timedelta(days=MAX_START_DAYS)}")  # fmt: skip
    share = ShareType.CONDITIONAL if needs_provider(resource, wanted) else ShareType.UNCONDITIONAL
    now = utc_stamp()
    t = store.sharing_requests
    with store.write_transaction(settings, LOCK) as conn:
        same = conn.execute(select(t.c.id, t.c.state, t.c.fields, t.c.row_scope).where(
            t.c.consumer == consumer, t.c.provider == resource.agency, t.c.resource == resource.id,
            t.c.purpose == purpose.strip())).all()  # fmt: skip
        for other in same:  # a double submit, or the same request filed twice: one is enough to answer
            if RequestState(other.state).open and json.loads(other.fields) == wanted and \
                    json.loads(other.row_scope) == scope:  # fmt: skip
                raise _refuse("duplicate", f"已有相同的共享申请 {other.id}（{RequestState(other.state).label}）正在办理，"
                              "无需重复提出", value=other.id)  # fmt: skip
        request_id = store.day_numbered_id(conn, t, "SQ", clock.today)
        row = dict(
            id=request_id, consumer=consumer, provider=resource.agency, resource=resource.id, code=resource.code,
            share_type=share.value, fields=json.dumps(wanted), row_scope=json.dumps(scope, ensure_ascii=False),
            purpose=purpose.strip(), basis=basis.strip(), use_from=use_from, use_until=use_until,
            state=RequestState.SUBMITTED.value, created_by=by, created_by_id=by_id, created_at=now, updated_at=now,
            deadline=clock.due(Step.REVIEW), deadline_step=Step.REVIEW.value, answer=None, answered_late=0,
            grant_id=None, disputed=0,
        )  # fmt: skip
        conn.execute(t.insert().values(**row))
        _log(
            conn,
            request_id,
            "create",
            None,
            RequestState.SUBMITTED,
            by,
            now,
            {"fields": wanted, "rows": scope},
        )
    request = get_request(settings, request_id)
    _event(settings, request, "create", by, {"fields": wanted, "row_scope": scope, "purpose": purpose,
                                              "share_type": share.value})  # fmt: skip
    return request


def _log(conn: Any, request_id: str, action: str, before: RequestState | None, after: RequestState, by: str,
         at: str, details: dict[str, Any]) -> None:  # fmt: skip
    conn.execute(store.request_transitions.insert().values(
        request_id=request_id, action=action, from_state=before.value if before else None, to_state=after.value,
        actor=by, at=at, details=json.dumps(details, ensure_ascii=False, default=str)))  # fmt: skip


def _event(
    settings: Settings, request: SharingRequest, action: str, by: str, details: dict[str, Any]
) -> None:
    # filed under the agency that acted: the provider's answer is the provider's (the office finds it by agency)
    agency = request.provider if action == "answer" else request.consumer
    record_event(settings, kind=f"request.{action}", actor=by, agency=agency, subject=f"request/{request.id}",
                 payload={"state": request.state.value, "resource": request.key, "consumer": request.consumer,
                          "provider": request.provider, "deadline": request.deadline, **details})  # fmt: skip


# What each move may start from and what it does; `Move` returns the new state, extra column values and details.
Move = Callable[[SharingRequest], tuple[RequestState, dict[str, Any], dict[str, Any]]]


def move(
    settings: Settings,
    request_id: str,
    action: str,
    *,
    by: str,
    clock: Clock,
    allowed: set[RequestState],
    what_zh: str,
    step: Move,
    catalog: Catalog | None = None,
) -> SharingRequest:
    """Apply one move in one transaction (state, deadline, transition row, grants), then record its events."""
    from govhub.governance.grants import issue_grant, revoke_in

    t = store.sharing_requests
    now = utc_stamp()
    grant_events: list[tuple[str, dict[str, Any]]] = []
    with store.write_transaction(settings, LOCK) as conn:
        row = conn.execute(select(t).where(t.c.id == request_id)).first()
        if row is None:
            raise _refuse("unknown_request", f"没有编号为“{request_id}”的共享申请", value=request_id)
        request = _request(row)
        if request.state not in allowed:
            raise _refuse("wrong_state", f"共享申请 {request_id} 当前为「{request.state.label}」，不能{what_zh}",
                          value=request.state.label,  # the states it may be in, in the order a request goes
                          expected="或".join(f"「{s.label}」" for s in RequestState if s in allowed))  # fmt: skip
        after, values, details = step(request)
        pending = STEP_OF.get(after)
        values.update(state=after.value, updated_at=now, deadline=clock.due(pending) if pending else None,
                      deadline_step=pending.value if pending else None)  # fmt: skip
        if request.grant_id and after in (
            RequestState.APPROVED,
            RequestState.REFUSED,
            RequestState.WITHDRAWN,
        ):
            # a dispute decided anew: the earlier grant gives way to the new one, or to the refusal; a request
            # withdrawn while disputed takes its grant with it (a withdrawn request grants nothing)
            why = (
                f"申请{request_id}已撤回" if after is RequestState.WITHDRAWN else f"申请{request_id}重新决定"
            )
            retired = revoke_in(conn, request.grant_id, by=by, at=now, reason=why, if_active=True)
            grant_events.extend([retired] if retired else [])
        if after is RequestState.APPROVED:
            answer = Answer.from_dict(json.loads(values["answer"])) if "answer" in values else request.answer
            grant, payload = issue_grant(
                conn, request, answer, by=by, at=now, today=clock.today, catalog=catalog
            )
            values["grant_id"] = grant
            grant_events.append(("grant.issued", payload))
        conn.execute(t.update().where(t.c.id == request_id).values(**values))
        # the business day the move counts on (the working-day clock), beside the moment it was recorded
        details = {**details, "on": clock.today.isoformat()}
        _log(conn, request_id, action, request.state, after, by, now, details)
    request = get_request(settings, request_id)
    _event(settings, request, action, by, details)
    for kind, payload in grant_events:
        record_event(settings, kind=kind, actor=by, agency=payload["consumer"], subject=f"grant/{payload['id']}",
                     payload=payload)  # fmt: skip
    return request


def answer_of(decision: Decision, request: SharingRequest, *, by: str, fields: list[str] | None,
              row_scope: list[dict[str, Any]] | None, conditions: str | None, reason: str | None,
              legal_basis: str | None, catalog: Catalog, leading_group: bool = False) -> Answer:  # fmt: skip
    """An answer or decision checked against the request: a grant never widens what was asked, a refusal says why
    and on what legal basis (§12: an agency may not refuse without one)."""
    resource = catalog.resource(request.key)
    conditions, reason = said("使用条件", conditions), said("理由", reason)
    legal_basis = said("依据", legal_basis)
    if decision is Decision.REFUSE:
        if not (reason or "").strip() or not (legal_basis or "").strip():
            raise _refuse("refusal_without_basis", "不同意共享须写明理由和法律、法规或规章依据（§12）",
                          expected="理由、依据")  # fmt: skip
        if fields or row_scope or (conditions or "").strip():  # said in vain: a refusal grants nothing
            raise _refuse("refusal_with_scope", "不同意时不授权任何信息项或记录，不能同时给出信息项、记录范围或使用条件；"
                          "要部分同意请选择有条件同意", expected="理由、依据")  # fmt: skip
        return Answer(
            decision, by, utc_stamp(), reason=reason, legal_basis=legal_basis, leading_group=leading_group
        )
    granted = list(dict.fromkeys(fields)) if fields else list(request.fields)
    wider = [f for f in granted if f not in request.fields]
    if wider:
        raise _refuse("wider_than_asked", f"授权的信息项超出了申请范围：{'、'.join(wider)}",
                      expected="、".join(request.fields))  # fmt: skip
    closed = [f for f in granted if f not in requestable_fields(resource)]
    if closed:
        raise _refuse("field_not_shared", f"信息项{'、'.join(closed)}列为不共享，不能授权")
    rows = _check_scope(resource, granted, row_scope if row_scope is not None else request.row_scope,
                        asked=request.row_scope)  # fmt: skip
    narrowed = granted != request.fields or rows != request.row_scope or bool((conditions or "").strip())
    if decision is Decision.APPROVE and narrowed:
        decision = Decision.NARROW  # fewer fields or rows, or conditions: say so
    if decision is Decision.NARROW and not narrowed:
        raise _refuse("narrow_unchanged", "有条件同意须减少信息项或数据范围，或写明使用条件；照申请授权请选择同意",
                      expected="更少的信息项、更窄的数据范围或使用条件")  # fmt: skip
    return Answer(decision, by, utc_stamp(), fields=granted, row_scope=rows, conditions=conditions,
                  leading_group=leading_group)  # fmt: skip


def overdue(settings: Settings, today: dt.date) -> list[SharingRequest]:
    """Open requests whose pending step's deadline has passed (the deadline day itself is still in time)."""
    t = store.sharing_requests
    q = select(t).where(t.c.deadline < today, t.c.state.in_([s.value for s in STEP_OF]))
    with store.read_connection(settings) as conn:
        return [_request(r) for r in conn.execute(q.order_by(t.c.deadline, t.c.id))]
