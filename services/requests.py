"""Sharing requests (§12–§13), one function per move, each authorizing its actor before it touches the store.

Who may move a request: the requesting agency's people file, dispute and withdraw it; the office (区科委) reviews,
forwards, executes answers and decides disputes (recording the leading group's decision when referred); the
provider's steward or reviewer answers — the office cannot answer in the provider's stead. The CLI, the portal and
the Dagster clock sensor all call these.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from govhub.access import Action, Actor, authorize
from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings
from govhub.governance.requests import (
    Answer,
    Clock,
    SharingRequest,
    answer_of,
    create_request,
    get_request,
    list_requests,
    move,
    transitions_of,
)
from govhub.governance.sharing import LONG_TEXT, said
from govhub.problems import GovhubError, Problem
from govhub.roles import Role
from govhub.services.workspaces import drop_api_copies
from govhub.states import Decision, RequestState

S = RequestState
AFTER_OUTCOME = {S.APPROVED, S.REFUSED}


def file_request(
    settings: Settings,
    catalog: Catalog,
    resource: Resource,
    *,
    actor: str,
    fields: list[str],
    purpose: str,
    basis: str,
    use_from: dt.date,
    use_until: dt.date,
    row_scope: list[dict[str, Any]] | None = None,
    consumer: str | None = None,
    today: dt.date | None = None,
) -> SharingRequest:
    """A new request for `resource` on behalf of `consumer` (default: the actor's own agency)."""
    who = _consumer_actor(settings, actor, consumer)
    agency = consumer or who.agency
    if agency is None:
        raise GovhubError(Problem("sharing.incomplete", "请指明申请单位（--consumer）", expected="机构编号"))
    who = authorize(settings, actor, Action.REQUEST_SHARING, agency)
    purpose, basis = said("用途", purpose, LONG_TEXT) or "", said("业务或法律依据", basis) or ""
    return create_request(settings, catalog, resource, consumer=agency, fields=fields, row_scope=row_scope or [],
                          purpose=purpose, basis=basis, use_from=use_from, use_until=use_until, by=who.name,
                          by_id=who.person.id if who.person else None, clock=Clock.of(settings, today))  # fmt: skip


def _not_own(request: SharingRequest, who: Actor) -> None:
    """No one coordinates a request they filed themselves (the office may request too, for its own duties): another
    person of the office reviews, forwards, executes or decides it — the applicant never approves their own."""
    if request.filed_by(who.person):
        raise GovhubError(Problem("sharing.own_request", f"{request.id} 是{who.name}本人提出的申请，须由区科委的其他人员办理",
                                  value=who.name, expected="申请人以外的区科委人员"))  # fmt: skip


def _consumer_actor(settings: Settings, actor: str, consumer: str | None) -> Actor:
    """The actor as the registry knows them (their agency is the default consumer)."""
    from govhub.access import decide
    from govhub.people import list_people

    found = decide(list_people(settings), actor, Action.VIEW_SHARING, consumer)
    return found if isinstance(found, Actor) else Actor(actor)


def review(settings: Settings, catalog: Catalog, request_id: str, *, actor: str, approve: bool,
           reason: str | None = None, today: dt.date | None = None) -> SharingRequest:  # fmt: skip
    """The office approves an unconditional request (a grant follows) or returns any new request with a reason."""
    request = get_request(settings, request_id)
    who = authorize(settings, actor, Action.COORDINATE_SHARING, request.consumer)
    _not_own(request, who)
    reason = said("退回理由", reason)
    if not approve and not (reason or "").strip():
        raise GovhubError(Problem("sharing.incomplete", "退回申请须写明理由", expected="理由"))

    def step(r: SharingRequest) -> tuple[RequestState, dict[str, Any], dict[str, Any]]:
        if approve and r.needs_provider:
            raise GovhubError(Problem("sharing.needs_provider", f"{r.id} 涉及按需共享的资源或信息项，须转发提供方答复"
                                      "（govhub request forward）", expected="转发"))  # fmt: skip
        return (S.APPROVED if approve else S.RETURNED), {}, {"approve": approve, "reason": reason}

    return move(settings, request_id, "review", by=who.name, clock=Clock.of(settings, today), allowed={S.SUBMITTED},
                what_zh="审核", step=step, catalog=catalog)  # fmt: skip


def forward(
    settings: Settings, request_id: str, *, actor: str, today: dt.date | None = None
) -> SharingRequest:
    """The office forwards a conditional request to the provider; the 10-working-day answer clock starts."""
    request = get_request(settings, request_id)
    who = authorize(settings, actor, Action.COORDINATE_SHARING, request.consumer)
    _not_own(request, who)

    def step(r: SharingRequest) -> tuple[RequestState, dict[str, Any], dict[str, Any]]:
        if not r.needs_provider:
            raise GovhubError(Problem("sharing.no_provider_needed", f"{r.id} 申请的是普遍共享的信息，由区科委直接审核",
                                      expected="审核（govhub request review）"))  # fmt: skip
        return S.FORWARDED, {}, {"provider": r.provider}

    return move(settings, request_id, "forward", by=who.name, clock=Clock.of(settings, today),
                allowed={S.SUBMITTED}, what_zh="转发", step=step)  # fmt: skip


def answer(settings: Settings, catalog: Catalog, request_id: str, *, actor: str, decision: Decision,
           fields: list[str] | None = None, row_scope: list[dict[str, Any]] | None = None,
           conditions: str | None = None, reason: str | None = None, legal_basis: str | None = None,
           today: dt.date | None = None) -> SharingRequest:  # fmt: skip
    """The provider answers: approve, approve with conditions or fewer fields/rows, or refuse with reason and basis.
    An answer after the deadline (the request was escalated) is still taken, and counted late."""
    request = get_request(settings, request_id)
    who = authorize(settings, actor, Action.ANSWER_SHARING, request.provider)
    reply = answer_of(decision, request, by=who.name, fields=fields, row_scope=row_scope, conditions=conditions,
                      reason=reason, legal_basis=legal_basis, catalog=catalog)  # fmt: skip
    clock = Clock.of(settings, today)

    def step(r: SharingRequest) -> tuple[RequestState, dict[str, Any], dict[str, Any]]:
        late = r.state is S.ESCALATED or (r.deadline is not None and clock.today > r.deadline)
        return (
            S.ANSWERED,
            {"answer": _json(reply), "answered_late": int(late)},
            {**reply.to_dict(), "late": late},
        )

    return move(settings, request_id, "answer", by=who.name, clock=clock, allowed={S.FORWARDED, S.ESCALATED},
                what_zh="答复", step=step)  # fmt: skip


def execute(settings: Settings, catalog: Catalog, request_id: str, *, actor: str,
            today: dt.date | None = None) -> SharingRequest:  # fmt: skip
    """The office executes the provider's answer (§13: 区科委根据答复意见执行): a grant, or the refusal."""
    request = get_request(settings, request_id)
    who = authorize(settings, actor, Action.COORDINATE_SHARING, request.consumer)
    _not_own(request, who)

    def step(r: SharingRequest) -> tuple[RequestState, dict[str, Any], dict[str, Any]]:
        assert r.answer is not None
        return (
            (S.APPROVED if r.answer.decision.grants else S.REFUSED),
            {},
            {"decision": r.answer.decision.value},
        )

    return move(settings, request_id, "execute", by=who.name, clock=Clock.of(settings, today),
                allowed={S.ANSWERED}, what_zh="执行答复", step=step, catalog=catalog)  # fmt: skip


def dispute(settings: Settings, request_id: str, *, actor: str, reason: str,
            today: dt.date | None = None) -> SharingRequest:  # fmt: skip
    """The requester disputes a refusal or a narrowed grant (once); the office coordinates (§13)."""
    who = authorize(settings, actor, Action.DISPUTE_SHARING, get_request(settings, request_id).consumer)
    reason = said("异议理由", reason, LONG_TEXT) or ""
    if not reason.strip():
        raise GovhubError(Problem("sharing.incomplete", "提出异议须写明理由", expected="理由"))

    def step(r: SharingRequest) -> tuple[RequestState, dict[str, Any], dict[str, Any]]:
        if r.disputed:
            raise GovhubError(Problem("sharing.already_disputed", f"{r.id} 已提出过异议并已作出结论"))
        if r.state is S.APPROVED and (r.answer is None or r.answer.decision is Decision.APPROVE):
            raise GovhubError(Problem("sharing.nothing_to_dispute", f"{r.id} 已按申请全部同意，无需异议"))
        return S.DISPUTED, {"disputed": 1}, {"reason": reason}

    return move(settings, request_id, "dispute", by=who.name, clock=Clock.of(settings, today),
                allowed=AFTER_OUTCOME, what_zh="提出异议", step=step)  # fmt: skip


def refer(settings: Settings, request_id: str, *, actor: str, note: str,
          today: dt.date | None = None) -> SharingRequest:  # fmt: skip
    """The office refers a dispute to the leading group (领导小组, §13: 必要时报请领导小组决定)."""
    request = get_request(settings, request_id)
    who = authorize(settings, actor, Action.COORDINATE_SHARING, request.consumer)
    _not_own(request, who)
    note = said("报请说明", note) or ""
    if not note.strip():
        raise GovhubError(
            Problem("sharing.incomplete", "报请领导小组须写明说明（争议所在、协调经过）", expected="说明")
        )
    return move(settings, request_id, "refer", by=who.name, clock=Clock.of(settings, today),
                allowed={S.DISPUTED}, what_zh="报请领导小组",
                step=lambda r: (S.REFERRED, {}, {"note": note}))  # fmt: skip


def decide(settings: Settings, catalog: Catalog, request_id: str, *, actor: str, decision: Decision,
           fields: list[str] | None = None, row_scope: list[dict[str, Any]] | None = None,
           conditions: str | None = None, reason: str | None = None, legal_basis: str | None = None,
           leading_group: bool = False, today: dt.date | None = None) -> SharingRequest:  # fmt: skip
    """The office decides an escalated or disputed request — or records the leading group's decision on a referred
    one (`leading_group=True`, required then). The outcome is final."""
    request = get_request(settings, request_id)
    who = authorize(settings, actor, Action.COORDINATE_SHARING, request.consumer)
    _not_own(request, who)
    if request.state is S.REFERRED and not leading_group:
        raise GovhubError(
            Problem(
                "sharing.leading_group", f"{request_id} 已报领导小组，请记录领导小组的决定（--leading-group）"
            )
        )
    if leading_group and request.state is not S.REFERRED:  # the group decides only what was referred to it
        raise GovhubError(Problem("sharing.leading_group", f"{request_id} 未报领导小组（当前：{request.state.label}），"
                                  "不能记录领导小组的决定；须先报请领导小组（govhub request refer）",
                                  expected="已报领导小组的申请"))  # fmt: skip
    reply = answer_of(decision, request, by=who.name, fields=fields, row_scope=row_scope, conditions=conditions,
                      reason=reason, legal_basis=legal_basis, catalog=catalog,
                      leading_group=leading_group)  # fmt: skip

    def step(r: SharingRequest) -> tuple[RequestState, dict[str, Any], dict[str, Any]]:
        outcome = S.APPROVED if reply.decision.grants else S.REFUSED
        return outcome, {"answer": _json(reply)}, reply.to_dict()

    decided = move(settings, request_id, "decide", by=who.name, clock=Clock.of(settings, today),
                   allowed={S.ESCALATED, S.DISPUTED, S.REFERRED}, what_zh="作出决定", step=step,
                   catalog=catalog)  # fmt: skip
    if request.grant_id:  # the earlier grant gave way: none of its rows stay in the docking API's copies
        drop_api_copies(settings, request.consumer, request.key)
    return decided


def withdraw(settings: Settings, request_id: str, *, actor: str, reason: str = "",
             today: dt.date | None = None) -> SharingRequest:  # fmt: skip
    """The requester withdraws an open request; its clock stops. Withdrawn while disputed, it takes the grant the
    disputed answer gave with it (the request page says so beside the button)."""
    request = get_request(settings, request_id)
    who = authorize(settings, actor, Action.WITHDRAW_SHARING, request.consumer)
    reason = said("撤回理由", reason) or ""
    withdrawn = move(settings, request_id, "withdraw", by=who.name, clock=Clock.of(settings, today),
                     allowed={s for s in RequestState if s.open}, what_zh="撤回",
                     step=lambda r: (S.WITHDRAWN, {}, {"reason": reason}))  # fmt: skip
    # withdrawn while disputed: its grant was revoked with it, and leaves the API's copies
    if request.grant_id:
        drop_api_copies(settings, request.consumer, request.key)
    return withdrawn


def visible_requests(settings: Settings, *, actor: str, agency: str | None = None,
                     states: list[RequestState] | None = None) -> list[SharingRequest]:  # fmt: skip
    """The requests `actor` may see: their agency's (as consumer or provider), or all for the office."""
    who = authorize(settings, actor, Action.VIEW_SHARING, agency)
    mine = who.person.agency if who.person and not who.has(Role.OFFICE) else None
    return list_requests(settings, agency=mine or agency, states=states)


def show_request(
    settings: Settings, request_id: str, *, actor: str
) -> tuple[SharingRequest, list[dict[str, Any]]]:
    """One request and its transitions, for someone of its consumer or provider agency (or the office)."""
    request = get_request(settings, request_id)
    authorize_party(settings, actor, request.consumer, request.provider)
    return request, transitions_of(settings, request_id)


def authorize_party(settings: Settings, actor: str, consumer: str, provider: str) -> Actor:
    """`actor` may see a request or grant between `consumer` and `provider`: one of either's people, or the office
    (a refusal is recorded once, against the provider)."""
    from govhub.access import decide
    from govhub.people import list_people

    as_consumer = decide(list_people(settings), actor, Action.VIEW_SHARING, consumer)
    if isinstance(as_consumer, Actor):
        return as_consumer
    return authorize(settings, actor, Action.VIEW_SHARING, provider)


def _json(answer: Answer) -> str:
    import json

    return json.dumps(answer.to_dict(), ensure_ascii=False)
