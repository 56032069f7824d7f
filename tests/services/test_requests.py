"""Sharing requests walk every path of the §13 state machine, on the PRC working-day clock, each move authorized,
timestamped, attributed and in the event log; grants come and go with the outcomes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from govhub import store
from govhub.catalog.load import require_catalog
from govhub.clock import beijing_text
from govhub.config import get_settings
from govhub.events import list_events, verify_chain
from govhub.governance.grants import list_grants
from govhub.problems import AccessDenied, GovhubError
from govhub.roles import Role
from govhub.services import grants as grant_service
from govhub.services import requests as svc
from govhub.services.people import register_person
from govhub.services.sharing_clock import tick
from govhub.states import Decision, RequestState, Step
from tests.servers import store_env

pytestmark = pytest.mark.scale  # make test-scale runs these on PostgreSQL too

REPO_CATALOG = Path(__file__).resolve().parents[2] / "catalog"
S = RequestState
FORWARDED_ON = dt.date(2026, 9, 23)  # a Wednesday before Mid-Autumn (25 Sep) and National Day (1–7 Oct)
# Counting 10 working days from 23 Sep 2026: 24, 28, 29, 30 Sep; 8, 9 Oct; Sat 10 Oct (调休 make-up day); 12, 13, 14 Oct.
ANSWER_DUE = dt.date(2026, 10, 14)
PEOPLE = [  # id, name, agency, role
    ("zhaoqiang", "赵强", "kw", Role.OFFICE),
    ("lujianhua", "陆建华", "gaj", Role.STEWARD),  # provider of 实有人口 (conditional)
    ("gaj_shenhe", "孙志强", "gaj", Role.REVIEWER),
    ("wangjingyi", "王静怡", "mzj", Role.STEWARD),  # requester
    ("mzj_fenxi", "卫欣怡", "mzj", Role.ANALYST),
    ("zhanghaifeng", "张海峰", "rsj", Role.STEWARD),
]


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    monkeypatch.delenv("GOVHUB_STATE_URL", raising=False)
    settings = get_settings(tmp_path / "home", REPO_CATALOG, env=store_env(request, tmp_path / "home"))
    catalog = require_catalog(REPO_CATALOG)
    known = set(catalog.agencies)
    for (
        pid,
        name,
        agency,
        role,
    ) in PEOPLE:  # the office first (the registry is open while empty), then by the office
        by = "installer" if role is Role.OFFICE else "zhaoqiang"
        register_person(settings, pid, name=name, agency=agency, roles=[role], actor=by, known_agencies=known)
    return settings, catalog


def file(hub, ref: str, *, by: str = "wangjingyi", on: dt.date = FORWARDED_ON, **kw):
    settings, catalog = hub
    kw.setdefault("fields", [])
    kw.setdefault("purpose", "核查低保申请家庭成员户籍情况")
    kw.setdefault("basis", "《社会救助暂行办法》第十一条")
    return svc.file_request(settings, catalog, catalog.resource(ref), actor=by, use_from=on,
                            use_until=on + dt.timedelta(days=365), today=on, **kw)  # fmt: skip


def kinds(settings, request_id: str) -> list[str]:
    return [e.kind for e in list_events(settings, subject=f"request/{request_id}")]


def test_an_unconditional_request_is_reviewed_by_the_office_and_granted(hub) -> None:
    settings, catalog = hub
    request = file(hub, "mzj/shzz", by="zhanghaifeng", fields=["uscc", "org_name"])
    assert (request.state, request.share_type.value, request.deadline_step) == (
        S.SUBMITTED,
        "unconditional",
        Step.REVIEW,
    )
    with pytest.raises(AccessDenied):  # only the office reviews
        svc.review(settings, catalog, request.id, actor="wangjingyi", approve=True, today=FORWARDED_ON)
    done = svc.review(settings, catalog, request.id, actor="zhaoqiang", approve=True, today=FORWARDED_ON)
    assert done.state is S.APPROVED and done.grant_id and done.deadline is None
    (grant,) = list_grants(settings, consumer="rsj")
    assert (grant.id, grant.fields, grant.provider, grant.purpose) == (done.grant_id, ["uscc", "org_name"], "mzj",
                                                                       request.purpose)  # fmt: skip
    assert grant.live(FORWARDED_ON) and not grant.live(request.use_until + dt.timedelta(days=1))
    assert kinds(settings, request.id) == ["request.create", "request.review"]
    issued = list_events(settings, kind="grant.issued")
    assert [e.subject for e in issued] == [f"grant/{grant.id}"] and issued[0].actor == "赵强"
    _, history = svc.show_request(settings, request.id, actor="zhanghaifeng")
    assert [(h["action"], h["to_state"], h["actor"]) for h in history] == [
        ("create", "submitted", "张海峰"), ("review", "approved", "赵强")]  # fmt: skip


def test_the_office_returns_a_request_with_a_reason(hub) -> None:
    settings, catalog = hub
    request = file(hub, "mzj/shzz", by="zhanghaifeng")
    with pytest.raises(GovhubError, match="须写明理由"):
        svc.review(settings, catalog, request.id, actor="zhaoqiang", approve=False, today=FORWARDED_ON)
    returned = svc.review(settings, catalog, request.id, actor="zhaoqiang", approve=False, reason="用途不具体",
                          today=FORWARDED_ON)  # fmt: skip
    assert returned.state is S.RETURNED and returned.grant_id is None and list_grants(settings) == []


def test_a_conditional_request_is_forwarded_answered_narrower_by_the_provider_and_executed(hub) -> None:
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number", "name", "birth_date", "town_code"],
                   row_scope=[{"field": "town_code", "in": ["310117101", "310117102"]}])  # fmt: skip
    assert request.share_type.value == "conditional"
    with pytest.raises(
        GovhubError, match="须转发提供方答复"
    ):  # the office may not approve in the provider's stead
        svc.review(settings, catalog, request.id, actor="zhaoqiang", approve=True, today=FORWARDED_ON)
    forwarded = svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    assert (forwarded.state, forwarded.deadline, forwarded.deadline_step) == (
        S.FORWARDED,
        ANSWER_DUE,
        Step.ANSWER,
    )
    with pytest.raises(AccessDenied):  # the office cannot answer for the provider (§13)
        svc.answer(
            settings, catalog, request.id, actor="zhaoqiang", decision=Decision.APPROVE, today=FORWARDED_ON
        )
    with pytest.raises(AccessDenied):  # nor can another agency
        svc.answer(
            settings, catalog, request.id, actor="zhanghaifeng", decision=Decision.APPROVE, today=FORWARDED_ON
        )
    with pytest.raises(GovhubError, match="超出了申请范围"):
        svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.APPROVE,
                   fields=["id_number", "ethnicity"], today=FORWARDED_ON)  # fmt: skip
    answered = svc.answer(settings, catalog, request.id, actor="gaj_shenhe", decision=Decision.APPROVE,
                          fields=["id_number", "name"], row_scope=[{"field": "town_code", "in": ["310117101"]}],
                          conditions="仅用于低保核查，不得转提供", today=dt.date(2026, 10, 9))  # fmt: skip
    assert answered.state is S.ANSWERED and answered.answer.decision is Decision.NARROW
    assert not answered.answered_late and answered.deadline_step is Step.EXECUTE
    executed = svc.execute(settings, catalog, request.id, actor="zhaoqiang", today=dt.date(2026, 10, 9))
    (grant,) = list_grants(settings, consumer="mzj")
    assert executed.state is S.APPROVED and executed.grant_id == grant.id
    assert grant.fields == ["id_number", "name"] and grant.row_scope == [
        {"field": "town_code", "in": ["310117101"]}
    ]
    assert grant.conditions == "仅用于低保核查，不得转提供"


@pytest.mark.parametrize(
    "rows",
    [
        [],  # the requested town condition dropped: every row
        [{"field": "town_code", "in": ["310117101", "310117003"]}],  # a town not asked for
        [
            {"field": "birth_date", "between": ["1950-01-01", "1990-12-31"]}
        ],  # another field instead of the town
    ],
    ids=["dropped", "more-values", "other-field"],
)
def test_an_answer_or_decision_cannot_widen_the_rows_asked_for(hub, rows) -> None:
    """A "narrow" answer that grants more rows than were asked for is refused, as more fields are; narrowing by a
    further field, fewer values or a range inside the one asked for is fine."""
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number", "name"],
                   row_scope=[{"field": "town_code", "in": ["310117101", "310117102"]},
                              {"field": "birth_date", "between": ["1940-01-01", "2000-12-31"]}])  # fmt: skip
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    asked_birth = {"field": "birth_date", "between": ["1940-01-01", "2000-12-31"]}
    with pytest.raises(GovhubError) as err:
        svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.NARROW,
                   row_scope=[*rows, asked_birth] if rows and rows[0]["field"] != "birth_date" else rows,
                   today=FORWARDED_ON)  # fmt: skip
    assert err.value.problems[0].code == "sharing.wider_than_asked", err.value.problems
    assert "记录范围超出了申请范围" in err.value.problems[0].message_zh
    narrower = [{"field": "town_code", "in": ["310117102"]}, {"field": "birth_date", "between": ["1960-01-01", "1970-12-31"]},
                {"field": "sex", "in": ["女"]}]  # fmt: skip
    answered = svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.NARROW,
                          row_scope=narrower, today=FORWARDED_ON)  # fmt: skip
    assert answered.answer.row_scope == narrower


def test_approval_with_conditions_must_narrow_something(hub) -> None:
    """有条件同意 that grants exactly what was asked, with no condition, would be a plain approval under another name."""
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number", "name"])
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    for same in ({}, {"fields": ["id_number", "name"]}, {"conditions": "  "}):
        with pytest.raises(GovhubError) as err:
            svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.NARROW,
                       today=FORWARDED_ON, **same)  # fmt: skip
        assert err.value.problems[0].code == "sharing.narrow_unchanged" and "请选择同意" in str(err.value)
    answered = svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.NARROW,
                          conditions="仅用于低保资格核对", today=FORWARDED_ON)  # fmt: skip
    assert answered.answer.decision is Decision.NARROW and answered.answer.conditions == "仅用于低保资格核对"


def test_free_texts_are_held_to_the_forms_limits_whatever_the_door(hub) -> None:
    settings, catalog = hub
    with pytest.raises(GovhubError, match="用途不能超过 1000 个字（现为 20000 个字）"):
        file(hub, "gaj/hjrk", fields=["id_number"], purpose="查" * 20_000)
    with pytest.raises(GovhubError, match="业务或法律依据含有控制字符"):
        file(hub, "gaj/hjrk", fields=["id_number"], basis="《条例》\x1b[31m")
    request = file(hub, "gaj/hjrk", fields=["id_number"], purpose="核查\n户籍（两行）")
    assert request.purpose == "核查\n户籍（两行）"  # line breaks are text
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    with pytest.raises(GovhubError, match="理由不能超过 500 个字"):
        svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.REFUSE, reason="不" * 501,
                   legal_basis="《户口登记条例》", today=FORWARDED_ON)  # fmt: skip
    with pytest.raises(GovhubError, match="撤回理由含有控制字符"):
        svc.withdraw(settings, request.id, actor="wangjingyi", reason="重复\x00", today=FORWARDED_ON)


def test_a_not_shared_field_cannot_choose_the_rows_either(hub) -> None:
    """Rows chosen by a not-shared field would tell who holds a value (a phone number → a person)."""
    with pytest.raises(GovhubError) as err:
        file(
            hub,
            "gaj/hjrk",
            fields=["id_number", "name"],
            row_scope=[{"field": "mobile", "in": ["13800000000"]}],
        )
    assert err.value.problems[0].code == "sharing.field_not_shared"
    assert (
        "「联系电话」" in err.value.problems[0].message_zh and "筛选条件" in err.value.problems[0].message_zh
    )


def test_an_unanswered_request_escalates_after_exactly_10_working_days_across_a_holiday_with_make_up_days(
    hub,
) -> None:
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number", "name"])
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    # calendar days would have escalated on 4 Oct, weekdays on 8 Oct: neither is the law's clock
    for day in (dt.date(2026, 10, 4), dt.date(2026, 10, 8), dt.date(2026, 10, 10), ANSWER_DUE):
        assert tick(settings, catalog, today=day).escalated == [], day
        assert svc.show_request(settings, request.id, actor="wangjingyi")[0].state is S.FORWARDED
    report = tick(settings, catalog, today=ANSWER_DUE + dt.timedelta(days=1))
    assert report.escalated == [request.id]
    escalated = svc.show_request(settings, request.id, actor="wangjingyi")[0]
    assert (
        escalated.state is S.ESCALATED and escalated.answered_late and escalated.deadline_step is Step.DECIDE
    )
    assert tick(settings, catalog, today=ANSWER_DUE + dt.timedelta(days=2)).escalated == []  # once
    (event,) = [e for e in list_events(settings, kind="request.escalate")]
    assert event.actor == "system:sensor" and event.payload["missed"] == ANSWER_DUE.isoformat()
    # the provider still answers (late, and counted so); the office executes
    late = svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.APPROVE,
                      today=dt.date(2026, 10, 16))  # fmt: skip
    assert late.state is S.ANSWERED and late.answered_late
    assert (
        svc.execute(settings, catalog, request.id, actor="zhaoqiang", today=dt.date(2026, 10, 16)).state
        is S.APPROVED
    )


def test_reminders_go_out_once_two_working_days_before_the_deadline(hub) -> None:
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number"])
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    assert tick(settings, catalog, today=dt.date(2026, 10, 10)).reminded == []  # 3 working days left
    assert tick(settings, catalog, today=dt.date(2026, 10, 12)).reminded == [request.id]  # 2 left
    assert tick(settings, catalog, today=dt.date(2026, 10, 13)).reminded == []  # already reminded
    notices = (settings.state_dir / "notices.log").read_text(encoding="utf-8")
    assert "须于 2026-10-14 前完成" in notices and '"lujianhua"' in notices and '"gaj_shenhe"' in notices


def test_a_refusal_needs_a_basis_and_a_dispute_goes_to_the_leading_group_whose_decision_is_recorded(
    hub,
) -> None:
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number", "name", "ethnicity"])
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    with pytest.raises(GovhubError, match="须写明理由"):
        svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.REFUSE, reason="涉密",
                   today=FORWARDED_ON)  # fmt: skip
    with pytest.raises(GovhubError, match="不同意时不授权任何信息项"):  # fields with a refusal: said in vain
        svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.REFUSE, reason="涉密",
                   legal_basis="《保守国家秘密法》", fields=["name"], today=FORWARDED_ON)  # fmt: skip
    svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.REFUSE, reason="涉及个人隐私",
               legal_basis="《个人信息保护法》第三十四条", today=FORWARDED_ON)  # fmt: skip
    refused = svc.execute(settings, catalog, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    assert refused.state is S.REFUSED and refused.grant_id is None
    with pytest.raises(AccessDenied, match="对共享申请的答复提出异议"):  # only the requester disputes
        svc.dispute(settings, request.id, actor="lujianhua", reason="x", today=FORWARDED_ON)
    disputed = svc.dispute(
        settings, request.id, actor="wangjingyi", reason="低保核查系法定职责", today=FORWARDED_ON
    )
    assert disputed.state is S.DISPUTED and disputed.deadline_step is Step.DECIDE
    with pytest.raises(GovhubError, match="未报领导小组"):  # the group decides only what was referred to it
        svc.decide(settings, catalog, request.id, actor="zhaoqiang", decision=Decision.APPROVE,
                   leading_group=True, today=FORWARDED_ON)  # fmt: skip
    with pytest.raises(GovhubError, match="须写明说明"):
        svc.refer(settings, request.id, actor="zhaoqiang", note=" ", today=FORWARDED_ON)
    referred = svc.refer(
        settings, request.id, actor="zhaoqiang", note="涉及跨部门重大事项", today=FORWARDED_ON
    )
    assert referred.state is S.REFERRED
    with pytest.raises(GovhubError, match="领导小组"):
        svc.decide(
            settings, catalog, request.id, actor="zhaoqiang", decision=Decision.APPROVE, today=FORWARDED_ON
        )
    decided = svc.decide(settings, catalog, request.id, actor="zhaoqiang", decision=Decision.APPROVE,
                         fields=["id_number", "name"], leading_group=True, today=dt.date(2026, 9, 28))  # fmt: skip
    assert (
        decided.state is S.APPROVED
        and decided.answer.leading_group
        and decided.answer.decision is Decision.NARROW
    )
    (grant,) = list_grants(settings, consumer="mzj")
    assert grant.fields == ["id_number", "name"] and grant.starts_on == dt.date(2026, 9, 28)
    with pytest.raises(GovhubError, match="已提出过异议"):  # one dispute per request
        svc.dispute(settings, request.id, actor="wangjingyi", reason="再议", today=dt.date(2026, 9, 28))
    assert kinds(settings, request.id) == ["request.create", "request.forward", "request.answer", "request.execute",
                                           "request.dispute", "request.refer", "request.decide"]  # fmt: skip
    assert verify_chain(settings) == []


def test_a_dispute_decided_as_a_refusal_revokes_the_grant_it_had(hub) -> None:
    """Conditional consent executed (a grant), disputed by the requester, then refused by the office: the request
    reads 未同意 and its grant stops — not 未同意 beside a grant still serving the data."""
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number", "name", "ethnicity"])
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.NARROW, fields=["id_number"],
               today=FORWARDED_ON)  # fmt: skip
    granted = svc.execute(settings, catalog, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    assert granted.state is S.APPROVED and granted.grant_id
    svc.dispute(settings, request.id, actor="wangjingyi", reason="还需要姓名", today=FORWARDED_ON)
    from govhub.services.workspaces import api_copies

    copy = api_copies(settings, "mzj") / "gaj.hjrk.rows.-.S1.fp.parquet"  # as a docking-API walk leaves one
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(b"PAR1")
    refused = svc.decide(settings, catalog, request.id, actor="zhaoqiang", decision=Decision.REFUSE,
                         reason="经复核不予共享", legal_basis="《个人信息保护法》第三十四条", today=FORWARDED_ON)  # fmt: skip
    assert refused.state is S.REFUSED
    (grant,) = list_grants(settings, consumer="mzj")
    assert grant.id == granted.grant_id and not grant.live(FORWARDED_ON) and grant.revoke_reason
    assert grant_service.visible_grants(settings, actor="wangjingyi", live_on=FORWARDED_ON) == []
    assert [e.kind for e in list_events(settings, subject=f"grant/{grant.id}")] == [
        "grant.issued",
        "grant.revoked",
    ]
    assert not copy.exists()  # none of the retired grant's rows stay on disk


def test_the_same_request_twice_while_the_first_is_open_is_refused(hub) -> None:
    """A double submit (or a second steward filing the same): one request to answer, not two on the office's queue;
    once the first is closed, or for another purpose, a new one may be filed."""
    settings, _ = hub
    first = file(hub, "mzj/shzz", by="zhanghaifeng")
    with pytest.raises(GovhubError) as err:
        file(hub, "mzj/shzz", by="zhanghaifeng")
    assert err.value.problems[0].code == "sharing.duplicate" and first.id in err.value.problems[0].message_zh
    other = file(hub, "mzj/shzz", by="zhanghaifeng", purpose="另一项履职用途")
    svc.withdraw(settings, first.id, actor="zhanghaifeng", reason="重复", today=FORWARDED_ON)
    again = file(hub, "mzj/shzz", by="zhanghaifeng")
    assert len({first.id, other.id, again.id}) == 3


def test_a_withdrawn_request_stops_its_clock(hub) -> None:
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number"])
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    with pytest.raises(AccessDenied, match="不能为松江区民政局撤回共享申请"):  # the move refused is named
        svc.withdraw(settings, request.id, actor="lujianhua", today=FORWARDED_ON)
    withdrawn = svc.withdraw(settings, request.id, actor="mzj_fenxi", reason="需求取消", today=FORWARDED_ON)
    assert withdrawn.state is S.WITHDRAWN and withdrawn.deadline is None
    later = ANSWER_DUE + dt.timedelta(days=5)
    report = tick(settings, catalog, today=later)
    assert report.escalated == [] and report.reminded == []
    with pytest.raises(GovhubError, match="当前为「已撤回」"):
        svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.APPROVE, today=later)


def test_a_request_withdrawn_while_disputed_takes_its_grant_with_it(hub) -> None:
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number", "name"])
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.NARROW, fields=["id_number"],
               today=FORWARDED_ON)  # fmt: skip
    granted = svc.execute(settings, catalog, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    svc.dispute(settings, request.id, actor="wangjingyi", reason="还需要姓名", today=FORWARDED_ON)
    withdrawn = svc.withdraw(settings, request.id, actor="wangjingyi", reason="不再需要", today=FORWARDED_ON)
    (grant,) = [g for g in list_grants(settings) if g.id == granted.grant_id]
    assert withdrawn.state is S.WITHDRAWN and grant.state.value == "revoked"
    assert grant.revoke_reason == f"申请{request.id}已撤回"
    assert "grant.revoked" in [e.kind for e in list_events(settings, subject=f"grant/{grant.id}")]


def test_a_not_shared_resource_or_field_cannot_be_requested_and_the_catalog_basis_is_cited(hub) -> None:
    _, catalog = hub
    with pytest.raises(GovhubError) as err:
        file(hub, "gaj/wfjl")  # 违法记录: not shared
    assert err.value.problems[0].code == "sharing.not_shared"
    assert catalog.resource("gaj/wfjl").share.legal_basis in err.value.problems[0].message_zh
    with pytest.raises(GovhubError) as err:
        file(hub, "gaj/hjrk", fields=["id_number", "mobile"])  # 联系电话: a not-shared field
    assert (
        err.value.problems[0].code == "sharing.field_not_shared"
        and "「联系电话」" in err.value.problems[0].message_zh
    )
    with pytest.raises(GovhubError, match="本单位的资源"):
        file(hub, "mzj/hydj")
    assert "mobile" not in file(hub, "gaj/hjrk").fields  # "every field" means every field that may be shared


def test_an_unconditional_resource_with_conditional_fields_goes_to_its_provider(hub) -> None:
    plain = file(hub, "scjgj/qydj", fields=["uscc", "org_name"])
    assert plain.share_type.value == "unconditional"
    with_id = file(hub, "scjgj/qydj", fields=["uscc", "legal_rep_id"])  # 法定代表人身份证号: conditional
    assert with_id.share_type.value == "conditional"


def test_requests_and_grants_are_seen_by_their_parties_only_and_revoked_by_the_provider(hub, capsys) -> None:
    settings, catalog = hub
    request = file(hub, "mzj/shzz", by="zhanghaifeng")
    svc.review(settings, catalog, request.id, actor="zhaoqiang", approve=True, today=FORWARDED_ON)
    assert [r.id for r in svc.visible_requests(settings, actor="wangjingyi")] == [request.id]  # provider
    assert svc.visible_requests(settings, actor="lujianhua") == []  # a third agency sees nothing
    with pytest.raises(AccessDenied):
        svc.show_request(settings, request.id, actor="lujianhua")
    (grant,) = grant_service.visible_grants(settings, actor="zhanghaifeng")
    with pytest.raises(AccessDenied):  # the consumer cannot revoke
        grant_service.revoke(settings, grant.id, actor="zhanghaifeng", reason="不需要了")
    revoked = grant_service.revoke(settings, grant.id, actor="wangjingyi", reason="发现超范围使用")
    assert not revoked.live(FORWARDED_ON) and revoked.revoked_by == "王静怡"
    assert grant_service.visible_grants(settings, actor="zhanghaifeng", live_on=FORWARDED_ON) == []
    assert [e.kind for e in list_events(settings, subject=f"grant/{grant.id}")] == [
        "grant.issued",
        "grant.revoked",
    ]
    with pytest.raises(GovhubError) as again:  # when it was revoked: Beijing time, as people read it
        grant_service.revoke(settings, grant.id, actor="wangjingyi", reason="再次撤销")
    assert (
        again.value.problems[0].message_zh
        == f"共享授权 {grant.id} 已于 {beijing_text(revoked.revoked_at)} 撤销"
    )
    assert (
        "（北京时间）" in again.value.problems[0].message_zh and "Z" not in again.value.problems[0].message_zh
    )
    # the request still reads 已同意; its grant says it no longer works, in the list and the request itself
    from govhub.cli.main import main

    for verb in (["show", request.id], ["list"]):
        main(
            [
                "--home",
                str(settings.home),
                "--catalog",
                str(REPO_CATALOG),
                "request",
                *verb,
                "--by",
                "zhaoqiang",
            ]
        )
        assert f"{grant.id}（已撤销）" in capsys.readouterr().out, verb


def test_a_step_in_the_wrong_state_says_the_state_in_words(hub) -> None:
    settings, catalog = hub
    request = file(hub, "mzj/shzz", by="zhanghaifeng")
    svc.review(settings, catalog, request.id, actor="zhaoqiang", approve=True, today=FORWARDED_ON)
    with pytest.raises(GovhubError) as err:  # reviewed already
        svc.review(settings, catalog, request.id, actor="zhaoqiang", approve=True, today=FORWARDED_ON)
    problem = err.value.problems[0]
    now = svc.show_request(settings, request.id, actor="zhaoqiang")[0].state
    assert problem.code == "sharing.wrong_state" and f"当前为「{now.label}」" in str(problem)
    assert now.value not in str(problem)  # the label, never the code (approved, submitted, …)
    with pytest.raises(
        GovhubError
    ) as err:  # a withdrawal of a closed request: the open states, in their order
        svc.withdraw(settings, request.id, actor="zhanghaifeng", today=FORWARDED_ON)
    opened = [s for s in S if s.open]
    assert err.value.problems[0].expected == "或".join(f"「{s.label}」" for s in opened) and len(opened) > 2


def test_an_expired_grant_is_recorded_once(hub) -> None:
    settings, catalog = hub
    request = file(hub, "mzj/shzz", by="zhanghaifeng")
    svc.review(settings, catalog, request.id, actor="zhaoqiang", approve=True, today=FORWARDED_ON)
    after = request.use_until + dt.timedelta(days=1)
    assert tick(settings, catalog, today=request.use_until).expired == []
    assert len(tick(settings, catalog, today=after).expired) == 1
    assert tick(settings, catalog, today=after + dt.timedelta(days=1)).expired == []


def test_deadlines_are_configurable_per_step(hub) -> None:
    settings, catalog = hub
    assert not (settings.catalog_dir / "sharing.yaml").exists()  # the repo's catalog has none: §13's 10 days
    custom = Path(settings.home) / "catalog"
    import shutil

    shutil.copytree(REPO_CATALOG, custom)
    (custom / "sharing.yaml").write_text("deadlines: {answer: 5}\nremind_before: 1\n", encoding="utf-8")
    short = get_settings(
        settings.home, custom, env={"GOVHUB_STATE_URL": settings.state_url}
    )  # the same store
    request = svc.file_request(short, catalog, catalog.resource("gaj/hjrk"), actor="wangjingyi", fields=["name"],
                               purpose="核查", basis="职责", use_from=FORWARDED_ON, use_until=dt.date(2027, 1, 1),
                               today=FORWARDED_ON)  # fmt: skip
    assert svc.forward(short, request.id, actor="zhaoqiang", today=FORWARDED_ON).deadline == dt.date(
        2026, 10, 8
    )


def test_scorecards_measure_answers_on_time_median_days_escalations_and_disputes(hub) -> None:
    from govhub.governance.scorecard import agency_scores

    settings, catalog = hub
    quick = file(hub, "gaj/hjrk", fields=["id_number"])
    svc.forward(settings, quick.id, actor="zhaoqiang", today=FORWARDED_ON)
    svc.answer(settings, catalog, quick.id, actor="lujianhua", decision=Decision.REFUSE, reason="涉及隐私",
               legal_basis="《个人信息保护法》", today=dt.date(2026, 9, 29))  # 3 working days: 24, 28, 29 Sep  # fmt: skip
    svc.execute(settings, catalog, quick.id, actor="zhaoqiang", today=dt.date(2026, 9, 29))
    svc.dispute(settings, quick.id, actor="wangjingyi", reason="法定职责", today=dt.date(2026, 9, 30))
    slow = file(hub, "gaj/hjrk", fields=["name"])
    svc.forward(settings, slow.id, actor="zhaoqiang", today=FORWARDED_ON)
    tick(settings, catalog, today=ANSWER_DUE + dt.timedelta(days=1))  # escalated
    svc.answer(
        settings, catalog, slow.id, actor="lujianhua", decision=Decision.APPROVE, today=dt.date(2026, 10, 19)
    )
    scores = {
        s.agency: s for s in agency_scores(settings, catalog, dt.date(2026, 9, 1), dt.date(2026, 10, 31))
    }
    gaj = scores["gaj"]
    assert gaj.requests_answered_rate == 50.0  # one on time, one late
    assert gaj.median_answer_days == (3 + 13) / 2  # 19 Oct is the 13th working day after 23 Sep
    assert (gaj.escalations, gaj.disputes) == (1, 1)
    assert "1件共享申请逾期未答复" in "；".join(gaj.rectification)
    assert scores["mzj"].requests_answered_rate is None  # nothing was forwarded to mzj


def test_request_show_prints_what_was_granted_the_leading_group_and_beijing_times(hub, capsys) -> None:
    from govhub.cli.main import main

    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number", "name"],
                   row_scope=[{"field": "town_code", "in": ["310117101", "310117102"]}])  # fmt: skip
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.NARROW, fields=["id_number"],
               row_scope=[{"field": "town_code", "in": ["310117102"]}], today=FORWARDED_ON)  # fmt: skip
    main(["--home", str(settings.home), "--catalog", str(REPO_CATALOG), "request", "show", request.id,
          "--by", "zhaoqiang"])  # fmt: skip
    out = capsys.readouterr().out
    assert "记录范围：town_code 为 310117101、310117102" in out or "310117101" in out.split("授权记录范围")[0]
    granted = out.split("授权记录范围：")[1].splitlines()[0]
    assert "310117102" in granted and "310117101" not in granted and "授权信息项：id_number" in out
    assert "（北京时间）  提出申请：— → " in out and "转发提供方：" in out and "Z  " not in out


def test_no_one_coordinates_their_own_request(hub) -> None:
    """The office may request for its own duties; another person of the office reviews it, never the applicant."""
    settings, catalog = hub
    own = file(hub, "mzj/shzz", by="zhaoqiang", fields=["uscc", "org_name"])
    assert own.consumer == "kw"
    with pytest.raises(GovhubError, match="本人提出的申请") as caught:
        svc.review(settings, catalog, own.id, actor="zhaoqiang", approve=True, today=FORWARDED_ON)
    assert caught.value.problems[0].code == "sharing.own_request"
    assert own.created_by_id == "zhaoqiang"
    # the applicant is known by login, not by name: a colleague who shares the name coordinates it
    register_person(settings, "zhaoqiang2", name=own.created_by, agency="kw", roles=[Role.OFFICE],
                    actor="zhaoqiang", known_agencies=set(catalog.agencies))  # fmt: skip
    approved = svc.review(settings, catalog, own.id, actor="zhaoqiang2", approve=True, today=FORWARDED_ON)
    assert approved.state is S.APPROVED


def test_a_request_filed_before_logins_were_kept_is_judged_by_name(hub) -> None:
    settings, catalog = hub
    own = file(hub, "mzj/shzz", by="zhaoqiang", fields=["uscc", "org_name"])
    with store.write_transaction(settings) as conn:  # as revision 0008 leaves a name two people shared
        conn.execute(store.sharing_requests.update().values(created_by_id=None))
    with pytest.raises(GovhubError, match="本人提出的申请"):
        svc.review(settings, catalog, own.id, actor="zhaoqiang", approve=True, today=FORWARDED_ON)
    register_person(settings, "qianli", name="钱莉", agency="kw", roles=[Role.OFFICE], actor="zhaoqiang",
                    known_agencies=set(catalog.agencies))  # fmt: skip
    approved = svc.review(settings, catalog, own.id, actor="qianli", approve=True, today=FORWARDED_ON)
    assert approved.state is S.APPROVED


@pytest.mark.parametrize(
    "start, end, words",
    [
        (FORWARDED_ON - dt.timedelta(days=400), FORWARDED_ON + dt.timedelta(days=30), "早于今天"),
        (dt.date(2099, 12, 1), dt.date(2099, 12, 31), "一年以后"),
    ],
    ids=["backdated", "far-future"],
)
def test_a_period_of_use_starts_from_today_and_within_a_year(hub, start, end, words) -> None:
    settings, catalog = hub
    with pytest.raises(GovhubError, match=words):
        svc.file_request(settings, catalog, catalog.resource("mzj/shzz"), actor="lujianhua",
                         fields=["uscc"], purpose="核查", basis="依据", use_from=start, use_until=end,
                         today=FORWARDED_ON)  # fmt: skip


@pytest.mark.parametrize(
    "start_days, ok",
    [(-2, False), (-1, True), (0, True), (366, True), (367, False)],
    ids=["two-days-back", "yesterday", "today", "366-days-on", "367-days-on"],
)
def test_the_period_of_use_boundaries_are_exact(hub, start_days: int, ok: bool) -> None:
    """A day's slack backwards (a form left open over midnight), up to 366 days forwards — each edge exact."""
    settings, catalog = hub
    start = FORWARDED_ON + dt.timedelta(days=start_days)
    file_it = lambda: svc.file_request(  # noqa: E731
        settings, catalog, catalog.resource("mzj/shzz"), actor="lujianhua", fields=["uscc"],
        purpose=f"核查{start_days}", basis="依据", use_from=start, use_until=start + dt.timedelta(days=30),
        today=FORWARDED_ON)  # fmt: skip
    if ok:
        assert file_it().use_from == start
    else:
        with pytest.raises(GovhubError) as caught:
            file_it()
        assert caught.value.problems[0].code == "sharing.bad_period"


def test_an_escalated_request_is_decided_by_the_office_and_the_sensor_escalates_it(hub) -> None:
    """The provider never answers: Dagster's sharing-clock sensor (evaluated as the daemon does, on a frozen clock)
    escalates it the day after the 10th working day, and the office decides in the provider's stead (§13)."""
    import dagster as dg

    from govhub.pipelines.sharing import build_sharing_clock_sensor
    from tests.pipelines.conftest import hub_resources

    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number", "name"])
    svc.forward(settings, request.id, actor="zhaoqiang", today=FORWARDED_ON)
    day = [ANSWER_DUE]
    sensor = build_sharing_clock_sensor(catalog, today=lambda: day[0])
    with dg.instance_for_test() as instance:
        for on, escalated in ((ANSWER_DUE, 0), (ANSWER_DUE + dt.timedelta(days=1), 1)):
            day[0] = on
            result = sensor(dg.build_sensor_context(instance=instance, resources=hub_resources(settings)))
            assert isinstance(result, dg.SkipReason) and f"escalated {escalated}," in result.skip_message, on
    assert svc.show_request(settings, request.id, actor="zhaoqiang")[0].state is S.ESCALATED
    with pytest.raises(GovhubError, match="依据"):  # a refusal in the provider's stead needs its basis too
        svc.decide(settings, catalog, request.id, actor="zhaoqiang", decision=Decision.REFUSE, reason="无必要",
                   today=ANSWER_DUE + dt.timedelta(days=2))  # fmt: skip
    decided = svc.decide(settings, catalog, request.id, actor="zhaoqiang", decision=Decision.NARROW,
                         fields=["id_number"], today=ANSWER_DUE + dt.timedelta(days=2))  # fmt: skip
    (grant,) = [g for g in list_grants(settings) if g.id == decided.grant_id]
    assert decided.state is S.APPROVED and decided.answered_late and grant.fields == ["id_number"]


def _to_state(hub, state: RequestState):
    """A request of mzj's for gaj/hjrk (conditional) brought to `state` by the moves that lead there."""
    settings, catalog = hub
    request = file(hub, "gaj/hjrk", fields=["id_number"], purpose=f"核查（{state.value}）")
    on = FORWARDED_ON
    if state is S.SUBMITTED:
        return request
    svc.forward(settings, request.id, actor="zhaoqiang", today=on)
    if state is S.FORWARDED:
        return request
    if state is S.ESCALATED:
        tick(settings, catalog, today=ANSWER_DUE + dt.timedelta(days=30))
        return request
    svc.answer(settings, catalog, request.id, actor="lujianhua", decision=Decision.REFUSE, reason="涉及隐私",
               legal_basis="《个人信息保护法》第十三条", today=on)  # fmt: skip
    if state is S.ANSWERED:
        return request
    svc.execute(settings, catalog, request.id, actor="zhaoqiang", today=on)
    svc.dispute(settings, request.id, actor="wangjingyi", reason="履职确需", today=on)
    if state is S.DISPUTED:
        return request
    svc.refer(settings, request.id, actor="zhaoqiang", note="报请领导小组", today=on)
    return request


@pytest.mark.parametrize("state", [s for s in RequestState if s.open], ids=lambda s: s.value)
def test_a_request_can_be_withdrawn_from_every_open_state_and_its_clock_stops(
    hub, state: RequestState
) -> None:
    settings, _ = hub
    request = _to_state(hub, state)
    assert svc.show_request(settings, request.id, actor="zhaoqiang")[0].state is state
    withdrawn = svc.withdraw(settings, request.id, actor="wangjingyi", reason="不再需要", today=FORWARDED_ON)
    assert withdrawn.state is S.WITHDRAWN and withdrawn.deadline is None
