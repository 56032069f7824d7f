"""The portal's sharing half over HTTP: requesters file (not-shared refused with the catalog's basis), follow, dispute
and withdraw; the provider answers from its inbox with the working-day countdown; the office reviews, forwards,
executes and decides; grants revoked by provider or office; the analyst's SQL page, downloads (CSV neutralised),
statistics and workspace file — each move done by the services and in the event log, ids from another agency
reaching nothing, hostile text shown as text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile

import duckdb
import httpx
import pyarrow.parquet as pq
import pytest

from govhub.events import list_events
from govhub.governance.grants import get_grant, list_grants
from govhub.governance.requests import get_request
from govhub.services.upload import upload_sheet
from govhub.states import RequestState
from tests.portal.conftest import (
    GAJ_ANALYST,
    OFFICE,
    OTHER_STEWARD,
    STEWARD,
    Portal,
    csrf,
)

HOSTILE = "<img src=x onerror=alert(1)>{{7*7}}"
ASKED = ["cert_no", "reg_type", "male_id", "female_id", "registered_on"]
GRANTED = ["cert_no", "reg_type", "registered_on"]


@pytest.fixture(scope="module")
def granted(hub: Portal) -> str:
    """A grant of hydj to gaj (three fields, marriages only), made through the services as the CLI would."""
    from govhub.services import requests as svc
    from govhub.states import Decision

    s, c, today = hub.settings, hub.catalog, dt.date.today()
    r = svc.file_request(s, c, c.resource("mzj/hydj"), actor=GAJ_ANALYST, fields=ASKED, purpose="核查", basis="依据",
                         use_from=today, use_until=today + dt.timedelta(days=90))  # fmt: skip
    svc.forward(s, r.id, actor=OFFICE)
    svc.answer(s, c, r.id, actor=STEWARD, decision=Decision.APPROVE, fields=GRANTED,
               row_scope=[{"field": "reg_type", "in": ["结婚登记"]}])  # fmt: skip
    return svc.execute(s, c, r.id, actor=OFFICE).grant_id


@pytest.fixture(scope="module")
def hub(portal: Portal) -> Portal:
    """The portal's hub with 婚姻登记 (mzj/hydj, conditionally shared, sheet-fed) published by its steward."""
    resource = portal.catalog.resource("mzj/hydj")
    sheet = portal.settings.home / "demo" / "sheets" / "mzj" / "hydj.xlsx"
    assert upload_sheet(portal.settings, resource, sheet, actor=STEWARD, via="test").status == "published"
    return portal


def form(c: httpx.Client, **data: object) -> dict[str, object]:
    return {"_csrf_token": csrf(c), **data}


def file_hydj(portal: Portal, c: httpx.Client, *, purpose: str = "核查户籍婚姻状况变更") -> str:
    today = dt.date.today()
    r = c.post("/agencies/gaj/sharing/requests", data=form(
        c, resource="mzj/hydj", fields=ASKED, purpose=purpose, basis="《婚姻登记条例》第二条",
        rows="reg_type in 结婚登记", use_from=today.isoformat(), use_until=(today + dt.timedelta(days=200)).isoformat()))  # fmt: skip
    assert r.status_code == 303, r.text[:500]
    found = re.search(r"/requests/(SQ-\d{8}-\d{4})$", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)


def test_a_conditional_request_from_filing_to_the_analysts_sql_page(hub: Portal) -> None:
    requester, office, provider = hub.sign_in(GAJ_ANALYST), hub.sign_in(OFFICE), hub.sign_in(STEWARD)
    # the picker lists other agencies' resources; a not-shared one says why and is refused with the catalog's basis
    picker = requester.get("/agencies/gaj/sharing/new?resource=mzj/shjz")
    assert picker.status_code == 200 and "不共享" in picker.text and 'id="request-form"' not in picker.text
    r = requester.post("/agencies/gaj/sharing/requests", data=form(requester, resource="mzj/shjz", purpose="x",
                       basis="y", use_from="2026-01-01", use_until="2026-12-31"))  # fmt: skip
    assert r.status_code == 200 and "列为不共享类资源" in r.text and "依据" in r.text
    today = dt.date.today()
    r = requester.post("/agencies/gaj/sharing/requests", data=form(  # nothing ticked is not every field
        requester, resource="mzj/hydj", purpose="核查", basis="《婚姻登记条例》", use_from=today.isoformat(),
        use_until=(today + dt.timedelta(days=30)).isoformat()))  # fmt: skip
    assert r.status_code == 200 and "请至少选择一个申请的信息项" in r.text
    for purpose, said in (("查" * 1001, "用途不能超过 1000 个字"), ("核查\x00户籍", "用途含有控制字符")):
        r = requester.post("/agencies/gaj/sharing/requests", data=form(  # the form's limits hold for a script too
            requester, resource="mzj/hydj", fields=ASKED, purpose=purpose, basis="《婚姻登记条例》",
            use_from=today.isoformat(), use_until=(today + dt.timedelta(days=30)).isoformat()))  # fmt: skip
        assert r.status_code == 200 and said in r.text, said
    assert (
        'value="gaj/hjrk"' not in picker.text and 'value="mzj/hydj"' in picker.text
    )  # its own: nothing to ask

    request_id = file_hydj(hub, requester, purpose=f"核查户籍婚姻状况变更 {HOSTILE}")
    page = requester.get(f"/agencies/gaj/sharing/requests/{request_id}").text
    assert RequestState.SUBMITTED.label in page and "剩 5 个工作日" in page  # the office's review clock
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;{{7*7}}" in page  # text, not markup
    assert get_request(hub.settings, request_id).state is RequestState.SUBMITTED

    # the office forwards it (a conditional request cannot be approved in the provider's stead)
    r = office.post(f"/office/sharing/requests/{request_id}/approve", data=form(office))
    assert r.status_code == 200 and "须转发提供方答复" in r.text
    r = office.post(f"/office/sharing/requests/{request_id}/forward", data=form(office, back="queue"))
    assert (r.status_code, r.headers["location"]) == (303, "/office/sharing")
    assert get_request(hub.settings, request_id).state is RequestState.FORWARDED

    # the provider's inbox: the request with its working-day countdown
    inbox = provider.get("/agencies/mzj/sharing").text
    assert request_id in inbox and "剩 10 个工作日" in inbox
    counted = re.search(r"本部门资源的申请 (\d+) 件，待本部门答复 (\d+) 件", inbox)  # both counts, each said
    assert counted and int(counted.group(1)) >= int(counted.group(2)) >= 1
    assert re.search(
        r"待本部门答复的共享申请 <strong>[1-9]\d*</strong> 件", provider.get("/").text
    )  # the home page
    assert re.search(r"待办共享申请 [1-9]\d* 件", office.get("/").text)
    # the office cannot answer for the provider; a refusal needs its legal basis
    assert office.post(f"/agencies/mzj/sharing/requests/{request_id}/answer",
                       data=form(office, decision="approve")).status_code == 403  # fmt: skip
    r = provider.post(f"/agencies/mzj/sharing/requests/{request_id}/answer",
                      data=form(provider, decision="refuse", reason="不符合条件"))  # fmt: skip
    assert r.status_code == 200 and "法律、法规或规章依据" in r.text
    # no field ticked: the form says unticked fields are not shared, so it is no grant at all (never "every field")
    r = provider.post(f"/agencies/mzj/sharing/requests/{request_id}/answer",
                      data=form(provider, decision="approve", rows=""))  # fmt: skip
    assert r.status_code == 200 and "请至少勾选一个同意共享的信息项" in r.text
    assert get_request(hub.settings, request_id).state is RequestState.FORWARDED
    r = provider.post(f"/agencies/mzj/sharing/requests/{request_id}/answer",
                      data=form(provider, decision="narrow", fields=GRANTED, rows="reg_type in 结婚登记",
                                conditions="仅限逐人核验"))  # fmt: skip
    assert r.status_code == 303
    answered = get_request(hub.settings, request_id)
    assert answered.state is RequestState.ANSWERED and answered.answer and answered.answer.fields == GRANTED
    assert answered.answer.row_scope == [{"field": "reg_type", "in": ["结婚登记"]}]

    r = office.post(f"/office/sharing/requests/{request_id}/execute", data=form(office))
    assert r.status_code == 303
    done = get_request(hub.settings, request_id)
    assert done.state is RequestState.APPROVED and done.grant_id
    history = requester.get(f"/agencies/gaj/sharing/requests/{request_id}").text
    for action, who in (
        ("提出申请", "钱立军"),
        ("转发提供方", "赵强"),
        ("提供方答复", "王静怡"),
        ("执行答复", "赵强"),
    ):
        assert re.search(rf"<td>{action}</td><td>{who}</td>", history), action
    assert done.grant_id in requester.get("/agencies/gaj/sharing").text

    # the analyst's SQL page: the granted fields only, and not the others
    r = requester.post("/agencies/gaj/query", data=form(requester, sql="SELECT * FROM mzj.hydj"))
    header = re.search(
        r'<table class="table card-table table-sm" id="result">.*?<thead><tr>(.*?)</tr>', r.text, re.S
    )
    assert header, r.text[:2000]
    assert re.findall(r"<th scope=\"col\">(\w+)</th>", header.group(1)) == GRANTED
    r = requester.post("/agencies/gaj/query", data=form(requester, sql="SELECT male_id FROM mzj.hydj"))
    assert 'id="query-problems"' in r.text and 'id="result"' not in r.text
    ran = list_events(hub.settings, kind="query.*", actor="钱立军")
    assert [e.kind for e in ran[-2:]] == ["query.run", "query.failed"] and done.grant_id in ran[-2].payload[
        "grants"
    ]
    # the provider sees what the grant was used for (§15): the one query that ran, not the refused one
    grants = provider.get("/agencies/mzj/sharing").text
    used = re.search(rf"<td>{done.grant_id}</td>.*?<td class=\"grant-use\">(.*?)</td>", grants, re.S)
    assert used and used.group(1).startswith("查询 1 次；最近使用 "), used and used.group(1)


def test_downloads_statistics_and_the_workspace_file(hub: Portal, granted: str, tmp_path) -> None:
    analyst = hub.sign_in(GAJ_ANALYST)
    sql = "SELECT '=HYPERLINK(\"http://evil.example/\",\"x\")' AS cell, 1 AS n, '-3' AS minus"
    r = analyst.post("/agencies/gaj/query/download", data=form(analyst, sql=sql, format="csv"))
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.headers["content-type"] == "application/zip" and ".zip" in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as package:  # the CSV and, beside it, where it came from
        (csv_name,) = [n for n in package.namelist() if n.endswith(".csv")]
        note = json.loads(package.read("来源说明.json"))
        content = package.read(csv_name)
    assert csv_name.startswith("gaj-查询结果-") and note["rows"] == 1
    assert (
        note["person"] == "钱立军" and note["agency"] == "gaj" and {"grants", "purposes", "date"} <= set(note)
    )
    empty = analyst.post("/agencies/gaj/query/download", data=form(analyst, sql="  ", format="csv"))
    assert "请输入要执行的 SQL 查询" in empty.text and "attachment" not in empty.headers.get(
        "content-disposition", ""
    )
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["cell", "n", "minus"]
    assert rows[1] == ['\'=HYPERLINK("http://evil.example/","x")', "1", "'-3"]
    r = analyst.post(
        "/agencies/gaj/query/download", data=form(analyst, sql="SELECT 42 AS answer", format="parquet")
    )
    path = tmp_path / "q.parquet"
    path.write_bytes(r.content)
    table = pq.read_table(path)
    assert table.column("answer").to_pylist() == [42] and b"govhub.provenance" in table.schema.metadata
    exports = list_events(hub.settings, kind="export.written", actor="钱立军")
    assert [e.payload["format"] for e in exports[-2:]] == ["csv", "parquet"]

    # statistics over the granted rows only (marriages), recorded as the analyst's query
    stats = analyst.get("/agencies/gaj/statistics?table=mzj.hydj&column=reg_type")
    assert stats.status_code == 200 and 'data-chart="counts"' in stats.text
    assert re.findall(r"<tr><td>([^<]*)</td><td>\d+</td></tr>", stats.text) == ["结婚登记"]
    # a table or field not in the scope's lists runs nothing
    before = len(list_events(hub.settings, kind="query.*", actor="钱立军"))
    assert analyst.get("/agencies/gaj/statistics?table=mzj.hydj&column=male_id").status_code == 200
    assert analyst.get('/agencies/gaj/statistics?table=mzj.hydj&column=reg_type"; DROP').status_code == 200
    assert len(list_events(hub.settings, kind="query.*", actor="钱立军")) == before

    r = analyst.get("/agencies/gaj/workspace.duckdb")
    assert r.status_code == 200 and "workspace-gaj.duckdb" in r.headers["content-disposition"]
    path = tmp_path / "ws.duckdb"
    path.write_bytes(r.content)
    with duckdb.connect(str(path), read_only=True) as con:
        columns = [r[0] for r in con.execute("DESCRIBE mzj.hydj").fetchall()]
        kinds = {r[0] for r in con.execute("SELECT DISTINCT reg_type FROM mzj.hydj").fetchall()}
    assert columns == GRANTED and kinds == {"结婚登记"}
    assert list_events(hub.settings, kind="workspace.downloaded", actor="钱立军")
    # another agency's analyst page, or the office: refused
    assert analyst.get("/agencies/mzj/query").status_code == 403
    assert hub.sign_in(OFFICE).get("/agencies/gaj/query").status_code == 403


def test_withdrawing_a_disputed_request_warns_that_its_grant_goes_too(hub: Portal) -> None:
    requester, office, provider = hub.sign_in(GAJ_ANALYST), hub.sign_in(OFFICE), hub.sign_in(STEWARD)
    request_id = file_hydj(hub, requester, purpose="核查婚姻登记（异议后撤回）")  # the hub is the module's
    office.post(f"/office/sharing/requests/{request_id}/forward", data=form(office))
    asked = get_request(hub.settings, request_id).fields
    provider.post(f"/agencies/mzj/sharing/requests/{request_id}/answer",
                  data=form(provider, decision="narrow", fields=asked[:1], rows=""))  # fmt: skip
    office.post(f"/office/sharing/requests/{request_id}/execute", data=form(office))
    page = requester.get(f"/agencies/gaj/sharing/requests/{request_id}").text
    assert 'id="withdraw-warning"' not in page  # approved: nothing to withdraw
    requester.post(
        f"/agencies/gaj/sharing/requests/{request_id}/dispute",
        data=form(requester, reason="还需要其他信息项"),
    )
    disputed = get_request(hub.settings, request_id)
    assert disputed.state is RequestState.DISPUTED and disputed.grant_id
    page = requester.get(f"/agencies/gaj/sharing/requests/{request_id}").text
    assert f"已获得的授权 {disputed.grant_id} 将一并撤销" in page


def test_dispute_withdraw_decide_and_revoke(hub: Portal) -> None:
    requester, office, provider = hub.sign_in(GAJ_ANALYST), hub.sign_in(OFFICE), hub.sign_in(STEWARD)
    # withdrawn while open: its clock stops
    first = file_hydj(hub, requester)
    assert (
        requester.post(f"/agencies/gaj/sharing/requests/{first}/withdraw", data=form(requester)).status_code
        == 303
    )
    assert (
        get_request(hub.settings, first).state is RequestState.WITHDRAWN
        and get_request(hub.settings, first).deadline is None
    )
    # refused with basis, disputed, decided by the office (narrowed), then the grant revoked by the provider
    second = file_hydj(hub, requester)
    office.post(f"/office/sharing/requests/{second}/forward", data=form(office))
    provider.post(f"/agencies/mzj/sharing/requests/{second}/answer",
                  data=form(provider, decision="refuse", reason="涉及个人隐私", legal_basis="《个人信息保护法》第十三条"))  # fmt: skip
    office.post(f"/office/sharing/requests/{second}/execute", data=form(office))
    assert get_request(hub.settings, second).state is RequestState.REFUSED
    page = requester.get(f"/agencies/gaj/sharing/requests/{second}").text
    assert "《个人信息保护法》第十三条" in page and 'id="dispute-submit"' in page
    r = requester.post(
        f"/agencies/gaj/sharing/requests/{second}/dispute", data=form(requester, reason="履职确需")
    )
    assert r.status_code == 303 and get_request(hub.settings, second).state is RequestState.DISPUTED
    r = office.post(f"/office/sharing/requests/{second}/decide",
                    data=form(office, decision="narrow", fields=["cert_no"], rows=""))  # fmt: skip
    decided = get_request(hub.settings, second)
    assert (
        r.status_code == 303
        and decided.state is RequestState.APPROVED
        and decided.answer.fields == ["cert_no"]
    )
    # the steward of another agency cannot revoke it, under either URL; the provider's steward can
    other = hub.sign_in(OTHER_STEWARD)
    assert other.post(f"/agencies/mzj/grants/{decided.grant_id}/revoke", data=form(other)).status_code == 403
    assert other.post(f"/agencies/gaj/grants/{decided.grant_id}/revoke", data=form(other)).status_code == 404
    r = provider.post(f"/agencies/mzj/grants/{decided.grant_id}/revoke", data=form(provider, reason=" "))
    assert "撤销共享授权须写明原因" in r.text  # no reason made up in the revoker's stead
    assert get_grant(hub.settings, decided.grant_id).state.value == "active"
    r = provider.post(
        f"/agencies/mzj/grants/{decided.grant_id}/revoke", data=form(provider, reason="核验完毕")
    )
    assert r.status_code == 303
    (grant,) = [g for g in list_grants(hub.settings) if g.id == decided.grant_id]
    assert grant.state.value == "revoked" and grant.revoked_by == "王静怡"
    page = provider.get(f"/agencies/mzj/sharing/requests/{decided.id}").text  # the request says so
    assert (
        f"{decided.grant_id}（已撤销：" in page and "由王静怡撤销，理由：核验完毕" in page
    )  # who, when, why
    # the office finds the refused steward's events by name too (a refusal records the login given)
    trail = office.get("/office/events", params={"actor": "陆建华", "kind": "access.denied"}).text
    assert (
        "拒绝越权操作" in trail
        and '<code class="small">access.denied</code>' in trail
        and "lujianhua" in trail
    )
    # and reads the request's trail in words: kinds, keys, agencies, states and decisions, the request linked
    trail = office.get("/office/events", params={"kind": "request.*"}).text
    rows = trail[trail.index("<tbody>") :]
    for words in ("共享申请：提出异议", "共享申请：作出决定", "<dt>申请方</dt><dd>松江区公安分局</dd>", "<dt>意见</dt><dd>有条件同意</dd>",
                  "<dt>状态</dt><dd>异议协调中</dd>", f'href="/agencies/gaj/sharing/requests/{second}"'):  # fmt: skip
        assert words in rows, words
    assert not re.search(r"<dt>(consumer|provider|state|decision|fields)</dt>", rows)
    assert office.get(f"/agencies/gaj/sharing/requests/{second}").status_code == 200  # where the link leads


def test_the_office_reviews_returns_refers_and_records_the_leading_groups_decision(hub: Portal) -> None:
    requester, office, provider = hub.sign_in(GAJ_ANALYST), hub.sign_in(OFFICE), hub.sign_in(STEWARD)
    today = dt.date.today()

    def file(resource: str, fields: list[str]) -> str:
        r = requester.post("/agencies/gaj/sharing/requests", data=form(
            requester, resource=resource, fields=fields, purpose="社会组织登记核查", basis="《社会组织登记管理条例》",
            use_from=today.isoformat(), use_until=(today + dt.timedelta(days=60)).isoformat()))  # fmt: skip
        assert r.status_code == 303, r.text[:300]
        return r.headers["location"].rsplit("/", 1)[1]

    # an unconditional request: the office reviews it (approve → a grant; or return it with a reason)
    approved, returned = file("mzj/shzz", ["uscc", "org_name"]), file("mzj/shzz", ["uscc"])
    queue = office.get("/office/sharing").text
    assert f'id="approve-{approved}"' in queue and f'id="forward-{approved}"' not in queue
    assert office.post(f"/office/sharing/requests/{approved}/approve", data=form(office)).status_code == 303
    assert get_request(hub.settings, approved).state is RequestState.APPROVED
    r = office.post(f"/office/sharing/requests/{returned}/return", data=form(office, reason=""))
    assert r.status_code == 200 and "须写明理由" in r.text
    assert (
        office.post(
            f"/office/sharing/requests/{returned}/return", data=form(office, reason="用途不具体")
        ).status_code
        == 303
    )
    assert get_request(hub.settings, returned).state is RequestState.RETURNED
    assert office.post(f"/office/sharing/requests/{returned}/nonsense", data=form(office)).status_code == 404

    # a dispute referred to the leading group, whose decision the office records
    disputed = file_hydj(hub, requester)
    office.post(f"/office/sharing/requests/{disputed}/forward", data=form(office))
    provider.post(f"/agencies/mzj/sharing/requests/{disputed}/answer",
                  data=form(provider, decision="refuse", reason="不符合共享条件", legal_basis="《婚姻登记条例》"))  # fmt: skip
    office.post(f"/office/sharing/requests/{disputed}/execute", data=form(office))
    requester.post(
        f"/agencies/gaj/sharing/requests/{disputed}/dispute", data=form(requester, reason="确需核验")
    )
    assert (
        office.post(
            f"/office/sharing/requests/{disputed}/refer", data=form(office, note="报领导小组")
        ).status_code
        == 303
    )
    assert get_request(hub.settings, disputed).state is RequestState.REFERRED
    r = office.post(f"/office/sharing/requests/{disputed}/decide", data=form(office, decision="approve"))
    assert (
        r.status_code == 200 and "领导小组" in r.text
    )  # a referred request takes the leading group's decision
    r = office.post(f"/office/sharing/requests/{disputed}/leading_group", data=form(office, decision="narrow",
                    fields=["cert_no"], rows=""))  # fmt: skip
    final = get_request(hub.settings, disputed)
    assert r.status_code == 303 and final.state is RequestState.APPROVED and final.answer.leading_group
    assert "领导小组决定" in requester.get(f"/agencies/gaj/sharing/requests/{disputed}").text


def test_ids_of_another_agency_reach_nothing(hub: Portal) -> None:
    requester, provider, other = hub.sign_in(GAJ_ANALYST), hub.sign_in(STEWARD), hub.sign_in(OTHER_STEWARD)
    request_id = file_hydj(hub, requester)
    office = hub.sign_in(OFFICE)
    office.post(f"/office/sharing/requests/{request_id}/forward", data=form(office))
    # gaj's steward (the consumer's) cannot answer for mzj, by either URL
    assert other.post(f"/agencies/mzj/sharing/requests/{request_id}/answer",
                      data=form(other, decision="approve")).status_code == 403  # fmt: skip
    assert other.post(f"/agencies/gaj/sharing/requests/{request_id}/answer",
                      data=form(other, decision="approve")).status_code == 404  # fmt: skip
    # mzj's steward (the provider's) cannot withdraw or dispute gaj's request
    assert (
        provider.post(
            f"/agencies/mzj/sharing/requests/{request_id}/withdraw", data=form(provider)
        ).status_code
        == 404
    )
    assert (
        provider.post(
            f"/agencies/gaj/sharing/requests/{request_id}/withdraw", data=form(provider)
        ).status_code
        == 403
    )
    # someone of a third agency sees it under neither their own URL (404) nor a party's (403)
    third = hub.sign_in("rsj_shenhe")
    assert third.get(f"/agencies/rsj/sharing/requests/{request_id}").status_code == 404
    assert third.get(f"/agencies/gaj/sharing/requests/{request_id}").status_code == 403
    # an agency or person smuggled into the form changes nothing: the URL's agency, the session's person
    r = requester.post("/agencies/gaj/sharing/requests", data=form(requester, resource="mzj/hydj", consumer="rsj",
                       actor=OFFICE, fields=ASKED, purpose="p", basis="b", use_from=dt.date.today().isoformat(),
                       use_until=(dt.date.today() + dt.timedelta(days=30)).isoformat()))  # fmt: skip
    filed = get_request(hub.settings, r.headers["location"].rsplit("/", 1)[1])
    assert (filed.consumer, filed.created_by) == ("gaj", "钱立军")
    assert get_request(hub.settings, request_id).state is RequestState.FORWARDED


def test_the_request_form_never_files_what_was_not_typed_and_keeps_what_was_ticked(hub: Portal) -> None:
    requester = hub.sign_in(GAJ_ANALYST)
    today = dt.date.today()
    base = dict(resource="mzj/hydj", purpose="核查", basis="《婚姻登记条例》", use_from=today.isoformat(),
                use_until=(today + dt.timedelta(days=30)).isoformat())  # fmt: skip
    before = len(list_events(hub.settings, kind="request.create"))
    # a row box over its limit is refused with its real length — never cut and filed with a value no one typed
    codes = ",".join(f"3101171{i:05d}" for i in range(2000))
    r = requester.post(
        "/agencies/gaj/sharing/requests",
        data=form(requester, fields=ASKED, rows=f"reg_type in {codes}", **base),
    )
    assert r.status_code == 200 and f"现为 {len('reg_type in ') + len(codes)} 个字" in r.text
    # a purpose over its limit: the count said is the count typed
    r = requester.post(
        "/agencies/gaj/sharing/requests",
        data=form(requester, fields=ASKED, **{**base, "purpose": "用" * 5000}),
    )
    assert r.status_code == 200 and "现为 5000 个字" in r.text
    assert len(list_events(hub.settings, kind="request.create")) == before
    # no field ticked: refused, and the form comes back with none ticked (a hurried resubmit must not ask for all)
    r = requester.post("/agencies/gaj/sharing/requests", data=form(requester, **base))
    assert "请至少选择一个申请的信息项" in r.text and 'name="fields"' in r.text
    assert not re.search(r'name="fields"[^>]*checked', r.text)


def test_the_office_is_offered_no_move_on_its_own_request_and_grants_name_agencies(hub: Portal) -> None:
    office = hub.sign_in(OFFICE)
    today = dt.date.today()
    r = office.post("/agencies/gaj/sharing/requests", data=form(
        office, resource="mzj/hydj", fields=ASKED, purpose="区科委核查", basis="《婚姻登记条例》",
        use_from=today.isoformat(), use_until=(today + dt.timedelta(days=30)).isoformat()))  # fmt: skip
    assert r.status_code == 303
    request_id = r.headers["location"].rsplit("/", 1)[1]
    page = office.get(f"/agencies/gaj/sharing/requests/{request_id}").text
    assert "区科委办理" not in page and "撤回" in page  # no office move; it may withdraw it
    queue = office.get("/office/sharing").text
    row = queue[queue.index(f'id="queue-{request_id}"') :].split("</tr>", 1)[0]
    assert "<form" not in row  # nothing offered that the service would refuse
    assert not re.search(r"<td>(gaj|mzj|rsj|wjw)</td>", queue)  # grants and outcomes name agencies
