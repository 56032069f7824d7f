"""Sharing pages (§12–§13): requesters file and follow requests, providers answer from their inbox, the office
reviews, forwards, executes and decides; grants with revocation.

Every URL names the agency the person acts for, and the guard applies the action's rule for it (`VIEW_SHARING`,
`REQUEST_SHARING` (and `DISPUTE_SHARING`, `WITHDRAW_SHARING`), `ANSWER_SHARING`, `REVOKE_GRANT`; the office's moves `COORDINATE_SHARING`). The request or grant in
the URL must belong to that agency in the role the move needs (consumer to withdraw or dispute, provider to answer or
revoke) — else 404, so changing ids in a URL or a form reaches nothing. `services.requests` / `services.grants`
authorize again and do the moves; the day they count on is the portal's clock (`views.today_of`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from govhub.access import Action
from govhub.catalog.model import Catalog, Resource, ShareType
from govhub.clock import beijing_text
from govhub.config import Settings
from govhub.governance.grants import Grant, get_grant
from govhub.governance.requests import Clock, SharingRequest
from govhub.governance.sharing import row_condition_lines
from govhub.people import Person
from govhub.portal import auth
from govhub.portal.event_text import payload_items
from govhub.portal.views import catalog_of, page, person, settings_of, today_of
from govhub.problems import GovhubError, Problem
from govhub.states import REQUEST_ACTION_LABELS, Decision, RequestState

SHARING = "/agencies/{agency:str}/sharing"
REQUEST = f"{SHARING}/requests/{{request_id:str}}"
OFFICE_MOVE = "/office/sharing/requests/{request_id:str}/{move:str}"
MAX_ROWS_TEXT = (
    20_000  # the row conditions' box (a long in-list of codes); other texts: `governance.sharing.said`
)
S = RequestState
ACTIONS_ZH = REQUEST_ACTION_LABELS
# what a request's history shows of each transition's details (who and when are its own columns)
HISTORY_KEYS = ("fields", "rows", "row_scope", "purpose", "reason", "provider", "approve", "decision", "conditions",
                "legal_basis", "late", "missed", "note", "leading_group", "share_type")  # fmt: skip
DECISIONS = [(Decision.APPROVE, "同意（按申请）"), (Decision.NARROW, "有条件同意（减少信息项或记录、附加条件）"),
             (Decision.REFUSE, "不同意（须写明理由和法律依据）")]  # fmt: skip


# ---- what every sharing page shows ------------------------------------------------------------------------------


def countdown(clock: Clock, r: SharingRequest) -> dict[str, Any] | None:
    """The pending step's deadline as working days left (negative: overdue by that many)."""
    if r.deadline is None or r.deadline_step is None:
        return None
    left = clock.working_days_left(r.deadline)
    text = f"剩 {left} 个工作日" if left > 0 else "今日到期" if left == 0 else f"已逾期 {-left} 个工作日"
    return {
        "deadline": r.deadline,
        "left": left,
        "overdue": left < 0,
        "text": text,
        "step": r.deadline_step.label,
    }


def _text(form: FormMultiDict, name: str) -> str:
    """A form field as typed, never cut: a text over its limit is refused with its real length (`sharing.said`,
    `_rows`) — a request filed with a cut-off value would ask for something no one asked for."""
    return str(form.get(name, "")).strip()


def _fields(form: FormMultiDict) -> list[str]:
    return [str(v)[:80] for v in form.getall("fields", [])]


def _rows(form: FormMultiDict) -> list[dict[str, Any]]:
    """The row scope typed one condition per line ("town_code in 310117101,310117102"): structured, never SQL."""
    from govhub.governance.sharing import parse_row_condition

    text = _text(form, "rows")
    if len(text) > MAX_ROWS_TEXT:
        raise GovhubError(Problem("scope.bad_condition", f"记录范围不能超过 {MAX_ROWS_TEXT} 个字（现为 {len(text)} 个字）；"
                                  "取值很多时请改用 between 或分几次申请", expected=f"不超过 {MAX_ROWS_TEXT} 个字"))  # fmt: skip
    return [parse_row_condition(line) for line in text.splitlines() if line.strip()]


def _date(form: FormMultiDict, name: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(_text(form, name))
    except ValueError:
        raise GovhubError(
            Problem(
                "sharing.bad_period",
                f"请填写{label}（年-月-日）",
                value=_text(form, name),
                expected="YYYY-MM-DD",
            )
        ) from None


def _request(settings: Settings, request_id: str) -> SharingRequest:
    from govhub.governance.requests import get_request

    try:
        return get_request(settings, request_id)
    except GovhubError:
        raise NotFoundException() from None


def _request_of(settings: Settings, agency: str, request_id: str, *, side: str = "party") -> SharingRequest:
    """The request, when `agency` is its consumer (`side="consumer"`), its provider, or either (else 404)."""
    r = _request(settings, request_id)
    sides = {"consumer": {r.consumer}, "provider": {r.provider}, "party": {r.consumer, r.provider}}[side]
    if agency not in sides:
        raise NotFoundException()
    return r


def _agency_or_404(catalog: Catalog, agency: str) -> None:
    if agency not in catalog.agencies:
        raise NotFoundException()


def _requestable(catalog: Catalog, agency: str) -> list[dict[str, Any]]:
    """Every published resource of other agencies, with what may be asked and — for what may not — the catalog's
    legal basis (§8: a not-shared resource or field is refused, and says why)."""
    from govhub.governance.sharing import field_share

    found = []
    for r in catalog.resources:
        if r.agency == agency or not r.status.in_force:
            continue
        fields = [{"name": f.name, "label": f.label, "share": field_share(r, f.name),
                   "basis": f.description or r.share.legal_basis or "目录未注明"} for f in r.fields]  # fmt: skip
        found.append({"r": r, "agency": catalog.agencies.get(r.agency), "fields": fields,
                      "closed": r.share.type is ShareType.NOT_SHARED,
                      "basis": r.share.legal_basis or "目录未注明"})  # fmt: skip
    return found


def _in_thread(work: Callable[[], Any]) -> Any:
    return anyio.to_thread.run_sync(work)


# ---- the agency's sharing page: its requests, its inbox, its grants ----------------------------------------------


@get(SHARING, opt=auth.allow(Action.VIEW_SHARING))
async def sharing_page(request: Request, agency: str) -> Template:
    from govhub.services.grants import used, visible_grants
    from govhub.services.requests import visible_requests

    settings, who, today = settings_of(request), person(request), today_of(request)

    def work() -> Template:
        catalog = catalog_of(settings)
        _agency_or_404(catalog, agency)
        clock = Clock.of(settings, today)
        requests = visible_requests(settings, actor=who.id, agency=agency)
        grants = visible_grants(settings, actor=who.id, agency=agency)
        use = used(settings, grants, actor=who.id)
        inbox = [r for r in requests if r.provider == agency]
        return page(request, "sharing.html", agency=catalog.agencies[agency], catalog=catalog, today=today,
                    outgoing=[r for r in requests if r.consumer == agency], inbox=inbox,
                    waiting=[r for r in inbox if r.state in (S.FORWARDED, S.ESCALATED)],
                    countdown=lambda r: countdown(clock, r), consumed=[g for g in grants if g.consumer == agency],
                    provided=[g for g in grants if g.provider == agency], use=use,
                    may_request=auth.may(request, Action.REQUEST_SHARING, agency),
                    may_revoke=auth.may(request, Action.REVOKE_GRANT, agency), problems=[],
                    revoked=None)  # fmt: skip

    return await _in_thread(work)


@get(f"{SHARING}/new", opt=auth.allow(Action.REQUEST_SHARING))
async def new_request_page(request: Request, agency: str, resource: str | None = None) -> Template:
    settings, today = settings_of(request), today_of(request)

    def work() -> Template:
        catalog = catalog_of(settings)
        _agency_or_404(catalog, agency)
        return _new_form(request, catalog, agency, today, chosen=resource or "", problems=[], form={})

    return await _in_thread(work)


def _new_form(request: Request, catalog: Catalog, agency: str, today: dt.date, *, chosen: str,
              problems: list[Problem], form: dict[str, Any]) -> Template:  # fmt: skip
    options = _requestable(catalog, agency)
    picked = next((o for o in options if f"{o['r'].agency}/{o['r'].id}" == chosen), None)
    defaults = {"use_from": today.isoformat(), "use_until": (today + dt.timedelta(days=365)).isoformat()}
    return page(request, "request_new.html", agency=catalog.agencies[agency], options=options, picked=picked,
                chosen=chosen, problems=problems, form={**defaults, **form})  # fmt: skip


@post(f"{SHARING}/requests", opt=auth.allow(Action.REQUEST_SHARING), status_code=200)
async def file_request_form(request: Request, agency: str) -> Template | Redirect:
    from govhub.services.requests import file_request

    settings, who, today = settings_of(request), person(request), today_of(request)
    form = await request.form()

    def work() -> Template | Redirect:
        catalog = catalog_of(settings)
        _agency_or_404(catalog, agency)
        chosen = _text(form, "resource")
        try:
            try:
                resource = catalog.resource(chosen)
            except KeyError:
                raise GovhubError(
                    Problem("sharing.incomplete", "请选择要申请的资源", expected="资源")
                ) from None
            if not _fields(form):  # no field ticked is not "every field"
                raise GovhubError(
                    Problem("sharing.incomplete", "请至少选择一个申请的信息项", expected="信息项")
                )
            filed = file_request(settings, catalog, resource, actor=who.id, consumer=agency, fields=_fields(form),
                                 purpose=_text(form, "purpose"), basis=_text(form, "basis"), row_scope=_rows(form),
                                 use_from=_date(form, "use_from", "使用期限起始日"),
                                 use_until=_date(form, "use_until", "使用期限截止日"), today=today)  # fmt: skip
        except GovhubError as exc:
            kept = {k: _text(form, k) for k in ("purpose", "basis", "rows", "use_from", "use_until")}
            kept["fields"] = _fields(form)
            return _new_form(request, catalog, agency, today, chosen=chosen, problems=exc.problems, form=kept)
        return Redirect(f"/agencies/{agency}/sharing/requests/{filed.id}", status_code=303)

    return await _in_thread(work)


# ---- one request: its history, deadline, and the moves the viewer may make --------------------------------------


def _request_page(request: Request, agency: str, r: SharingRequest, *, problems: list[Problem],
                  status_code: int = 200) -> Template:  # fmt: skip
    from govhub.governance.sharing import describe_rows, requestable_fields
    from govhub.services.requests import show_request

    settings, who, today = settings_of(request), person(request), today_of(request)
    catalog = catalog_of(settings)
    r, history = show_request(settings, r.id, actor=who.id)
    clock = Clock.of(settings, today)
    try:
        resource: Resource | None = catalog.resource(r.key)
    except KeyError:
        resource = None
    office = auth.may(request, Action.COORDINATE_SHARING)
    grant = get_grant(settings, r.grant_id) if r.grant_id else None
    grant_status = grant.status_label(today) if grant else None
    # the outcome no longer holds: who ended it, when and why, said here
    if grant is not None and grant.revoked_at:
        grant_status += (
            f"：{beijing_text(grant.revoked_at)} 由{grant.revoked_by}撤销，理由：{grant.revoke_reason}"
        )
    consumer_side = agency == r.consumer and auth.may(request, Action.REQUEST_SHARING, r.consumer)
    return page(request, "request.html", status_code=status_code, agency=catalog.agencies.get(agency), r=r,
                resource=resource, history=history, actions=ACTIONS_ZH, due_info=countdown(clock, r),
                grant_status=grant_status,
                rows_text=describe_rows, details_text=details_text, agencies=catalog.agencies, problems=problems,
                may_withdraw=consumer_side and r.state.open,
                may_dispute=consumer_side and _disputable(r),
                may_answer=agency == r.provider and r.state in (S.FORWARDED, S.ESCALATED)
                and auth.may(request, Action.ANSWER_SHARING, r.provider),
                office_moves=office_moves(r, who) if office else [], decisions=DECISIONS,
                grantable=requestable_fields(resource) if resource else [],
                rows_lines=row_condition_lines(r.row_scope))  # fmt: skip


def details_text(details: dict[str, Any], agencies: dict[str, Any]) -> str:
    """A transition's details for people: Chinese labels, lists joined, row scopes in words, no internal keys."""
    return "；".join(
        f"{label}：{text}" for label, text in payload_items(details, agencies, keys=HISTORY_KEYS)
    )


def _disputable(r: SharingRequest) -> bool:
    if r.disputed or r.state not in (S.APPROVED, S.REFUSED):
        return False
    return r.state is S.REFUSED or (r.answer is not None and r.answer.decision is not Decision.APPROVE)


def office_moves(r: SharingRequest, who: Person) -> list[str]:
    """The office's moves open on `r` for `who` (each a form on the request's page and in the queue); none on a
    request they filed themselves — another person of the office coordinates it (`services.requests._not_own`)."""
    if r.filed_by(who):
        return []
    moves = {
        S.SUBMITTED: ["forward", "return"] if r.needs_provider else ["approve", "return"],
        S.ANSWERED: ["execute"],
        S.ESCALATED: ["decide"],
        S.DISPUTED: ["decide", "refer"],
        S.REFERRED: ["leading_group"],
    }
    return moves.get(r.state, [])


@get(REQUEST, opt=auth.allow(Action.VIEW_SHARING))
async def request_page(request: Request, agency: str, request_id: str) -> Template:
    settings = settings_of(request)
    return await _in_thread(
        lambda: _request_page(request, agency, _request_of(settings, agency, request_id), problems=[])
    )


async def _act(request: Request, agency: str, request_id: str, side: str,
               act: Callable[[Settings, Catalog, Person, FormMultiDict, dt.date], Any]) -> Template | Redirect:  # fmt: skip
    """One move from a form on the request's page: done → back to the page (303); refused → the page with why."""
    settings, who, today = settings_of(request), person(request), today_of(request)
    form = await request.form()

    def work() -> Template | Redirect:
        r = _request_of(settings, agency, request_id, side=side)
        try:
            act(settings, catalog_of(settings), who, form, today)
        except GovhubError as exc:
            return _request_page(request, agency, r, problems=exc.problems)
        return Redirect(f"/agencies/{agency}/sharing/requests/{request_id}", status_code=303)

    return await _in_thread(work)


@post(f"{REQUEST}/withdraw", opt=auth.allow(Action.WITHDRAW_SHARING), status_code=200)
async def withdraw_request(request: Request, agency: str, request_id: str) -> Template | Redirect:
    from govhub.services.requests import withdraw

    return await _act(request, agency, request_id, "consumer", lambda s, c, who, form, today: withdraw(
        s, request_id, actor=who.id, reason=_text(form, "reason"), today=today))  # fmt: skip


@post(f"{REQUEST}/dispute", opt=auth.allow(Action.DISPUTE_SHARING), status_code=200)
async def dispute_request(request: Request, agency: str, request_id: str) -> Template | Redirect:
    from govhub.services.requests import dispute

    return await _act(request, agency, request_id, "consumer", lambda s, c, who, form, today: dispute(
        s, request_id, actor=who.id, reason=_text(form, "reason"), today=today))  # fmt: skip


def _decision(form: FormMultiDict) -> Decision:
    try:
        return Decision(_text(form, "decision"))
    except ValueError:
        raise GovhubError(
            Problem("sharing.incomplete", "请选择答复意见（同意、有条件同意或不同意）", expected="答复意见")
        ) from None


def _answer_terms(form: FormMultiDict) -> dict[str, Any]:
    """What an answer or decision grants or why it refuses, as the services take it."""
    decision = _decision(form)
    if decision is Decision.REFUSE:
        return {
            "decision": decision,
            "reason": _text(form, "reason"),
            "legal_basis": _text(form, "legal_basis"),
        }
    if not _fields(form):  # the form says unticked fields are not shared: none ticked is no grant at all
        raise GovhubError(Problem("sharing.incomplete", "请至少勾选一个同意共享的信息项；都不同意请选“不同意”并写明理由和依据",
                                  expected="信息项"))  # fmt: skip
    # a blank rows box means the rows asked for (as the form says; an empty row scope would be every row)
    return {"decision": decision, "fields": _fields(form), "row_scope": _rows(form) or None,
            "conditions": _text(form, "conditions") or None}  # fmt: skip


@post(f"{REQUEST}/answer", opt=auth.allow(Action.ANSWER_SHARING), status_code=200)
async def answer_request(request: Request, agency: str, request_id: str) -> Template | Redirect:
    from govhub.services.requests import answer

    return await _act(request, agency, request_id, "provider", lambda s, c, who, form, today: answer(
        s, c, request_id, actor=who.id, today=today, **_answer_terms(form)))  # fmt: skip


# ---- the office: the review and coordination queue ---------------------------------------------------------------


@get("/office/sharing", opt=auth.allow(Action.COORDINATE_SHARING))
async def office_queue(request: Request) -> Template:
    from govhub.services.grants import visible_grants
    from govhub.services.requests import visible_requests

    settings, who, today = settings_of(request), person(request), today_of(request)

    def work() -> Template:
        catalog = catalog_of(settings)
        clock = Clock.of(settings, today)
        requests = visible_requests(settings, actor=who.id)
        queue = [r for r in requests if r.state.open]
        late = [r for r in requests if r.answered_late or r.state is S.ESCALATED]
        grants = visible_grants(settings, actor=who.id)
        return page(request, "office_sharing.html", queue=queue, late=late, grants=grants, today=today,
                    countdown=lambda r: countdown(clock, r), agencies=catalog.agencies, moves=lambda r: office_moves(r, who),
                    decisions=DECISIONS, recent=[r for r in requests if not r.state.open][:50])  # fmt: skip

    return await _in_thread(work)


def _office_move(move: str) -> Callable[..., Any]:
    from govhub.services import requests as svc

    moves: dict[str, Callable[..., Any]] = {
        "approve": lambda s, c, rid, who, form, today: svc.review(s, c, rid, actor=who.id, approve=True, today=today),
        "return": lambda s, c, rid, who, form, today: svc.review(s, c, rid, actor=who.id, approve=False,
                                                                 reason=_text(form, "reason"), today=today),
        "forward": lambda s, c, rid, who, form, today: svc.forward(s, rid, actor=who.id, today=today),
        "execute": lambda s, c, rid, who, form, today: svc.execute(s, c, rid, actor=who.id, today=today),
        "refer": lambda s, c, rid, who, form, today: svc.refer(s, rid, actor=who.id, note=_text(form, "note"),
                                                               today=today),
        "decide": lambda s, c, rid, who, form, today: svc.decide(s, c, rid, actor=who.id, today=today,
                                                                 **_answer_terms(form)),
        "leading_group": lambda s, c, rid, who, form, today: svc.decide(s, c, rid, actor=who.id, today=today,
                                                                        leading_group=True, **_answer_terms(form)),
    }  # fmt: skip
    if move not in moves:
        raise NotFoundException()
    return moves[move]


@post(OFFICE_MOVE, opt=auth.allow(Action.COORDINATE_SHARING), status_code=200)
async def office_move(request: Request, request_id: str, move: str) -> Template | Redirect:
    """One office move (review, return, forward, execute, decide, refer, the leading group's decision); back to
    where the form was (the queue, or the request's page under the consumer's URL)."""
    settings, who, today = settings_of(request), person(request), today_of(request)
    act = _office_move(move)
    form = await request.form()

    def work() -> Template | Redirect:
        r = _request(settings, request_id)
        try:
            act(settings, catalog_of(settings), request_id, who, form, today)
        except GovhubError as exc:
            return _request_page(request, r.consumer, r, problems=exc.problems)
        back = (
            "/office/sharing"
            if _text(form, "back") == "queue"
            else f"/agencies/{r.consumer}/sharing/requests/{r.id}"
        )
        return Redirect(back, status_code=303)

    return await _in_thread(work)


# ---- grants ------------------------------------------------------------------------------------------------------


@post(
    "/agencies/{agency:str}/grants/{grant_id:str}/revoke",
    opt=auth.allow(Action.REVOKE_GRANT),
    status_code=200,
)
async def revoke_grant_form(request: Request, agency: str, grant_id: str) -> Template | Redirect:
    """Revoke a grant of `agency`'s resource (its provider's steward or reviewer, or the office)."""
    from govhub.governance.grants import get_grant
    from govhub.services.grants import revoke

    settings, who = settings_of(request), person(request)
    form = await request.form()

    def work() -> Template | Redirect:
        try:
            grant: Grant = get_grant(settings, grant_id)
        except GovhubError:
            raise NotFoundException() from None
        if grant.provider != agency:  # another agency's grant under this agency's URL
            raise NotFoundException()
        try:
            revoke(settings, grant_id, actor=who.id, reason=_text(form, "reason"))  # why, in words: required
        except GovhubError as exc:
            message = "；".join(p.message_zh for p in exc.problems)
            return page(
                request, "error.html", status_code=409, title="未能撤销授权", message=message, status=409
            )
        back = "/office/sharing" if _text(form, "back") == "queue" else f"/agencies/{agency}/sharing"
        return Redirect(back, status_code=303)

    return await _in_thread(work)
