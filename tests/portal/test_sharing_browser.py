"""The sharing half of "Done when" in a real browser (Debian's Chromium, offline, 1366×768): a requester files a
conditional request, the office forwards it, the provider answers (narrowed) from its inbox, the office executes it,
and the grant appears on the analyst's SQL page, which returns only the granted fields; a statistics chart over them;
and, with the portal's clock moved past a deadline, the office sees the escalation. Screenshots and axe for each
role's new main pages (no serious/critical violation), no script run, no CSP violation, nothing leaving the machine."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from govhub.clock import BEIJING
from govhub.governance.requests import get_request
from govhub.services import requests as svc
from govhub.services.sharing_clock import tick
from govhub.services.upload import upload_sheet
from govhub.states import RequestState
from tests.portal.conftest import GAJ_ANALYST, OFFICE, STEWARD, Portal
from tests.portal.test_pages_browser import check, page, sign_in

pytestmark = pytest.mark.browser
__all__ = ["page"]  # the 1366×768 offline page fixture, shared with the steward's browser tests
GRANTED = ["cert_no", "reg_type", "registered_on"]


def switch_to(pg: Any, portal: Portal, login: str) -> None:
    """Sign the current person out (the header's button) and `login` in."""
    if pg.locator("form[action='/signout'] button").count():
        pg.click("form[action='/signout'] button")
        pg.wait_for_url(re.compile(r"/signin"))
    sign_in(pg, portal, login)


def test_a_conditional_request_from_filing_to_the_analysts_sql_page(portal: Portal, page: Any) -> None:
    pg, settings = page, portal.settings
    hydj = portal.catalog.resource("mzj/hydj")
    sheet = settings.home / "demo" / "sheets" / "mzj" / "hydj.xlsx"
    assert upload_sheet(settings, hydj, sheet, actor=STEWARD, via="test").status == "published"

    # the requester (公安局's analyst) files a conditional request for 婚姻登记
    sign_in(pg, portal, GAJ_ANALYST)
    pg.click("nav a[href='/agencies/gaj/sharing']")
    pg.click("#new-request")
    pg.select_option("#pick", "mzj/hydj")
    pg.click("#pick-submit")
    pg.fill("#purpose", "核查户籍人员婚姻状况变更")
    pg.fill("#basis", "《婚姻登记条例》第二条")
    pg.fill("#rows", "reg_type in 结婚登记")
    check(pg, "requester-new-request")
    pg.click("#request-submit")
    pg.wait_for_url(re.compile(r"/agencies/gaj/sharing/requests/SQ-"))
    request_id = pg.url.rsplit("/", 1)[1]
    assert "待审核" in pg.inner_text("h1") and "剩 5 个工作日" in pg.inner_text("#request-due")
    check(pg, "requester-request")

    # the office forwards it from its queue
    switch_to(pg, portal, OFFICE)
    pg.goto(f"{portal.url}/office/sharing")
    pg.click(f"#forward-{request_id}")
    pg.wait_for_selector(f"#queue-{request_id} .req-forwarded")
    check(pg, "office-sharing-queue")

    # the provider (民政局's steward) answers from its inbox: fewer fields, with a condition
    switch_to(pg, portal, STEWARD)
    pg.goto(f"{portal.url}/agencies/mzj/sharing")
    assert "剩 10 个工作日" in pg.inner_text("#inbox")
    check(pg, "provider-sharing-inbox")
    pg.click(f"#inbox a[href$='{request_id}']")
    pg.check("#answer-narrow")
    for box in pg.locator(
        "input[id^='answer-f-']"
    ).all():  # every field asked for (all that may be): keep three
        if box.get_attribute("value") not in GRANTED:
            box.uncheck()
    pg.fill("#answer-conditions", "仅限逐人核验，不得留存")
    check(pg, "provider-answer")
    pg.click("#answer-submit")
    pg.wait_for_selector("#request-answer")
    assert "有条件同意" in pg.inner_text("#request-answer")

    # the office executes the answer: a grant
    switch_to(pg, portal, OFFICE)
    pg.goto(f"{portal.url}/office/sharing")
    pg.click(f"#execute-{request_id}")
    pg.wait_for_url(f"{portal.url}/office/sharing")
    grant_id = get_request(settings, request_id).grant_id
    assert grant_id and grant_id in pg.inner_text("#grants")

    # the analyst's SQL page: the grant is there, and the query returns only its fields
    switch_to(pg, portal, GAJ_ANALYST)
    pg.click("nav a[href='/agencies/gaj/query']")
    assert grant_id in pg.inner_text("#scope-tables")
    pg.fill("#sql", "SELECT * FROM mzj.hydj ORDER BY cert_no")
    pg.click("#query-submit")
    pg.wait_for_selector("#result")
    assert pg.locator("#result thead th").all_text_contents() == GRANTED
    assert set(pg.locator("#result tbody tr td:nth-child(2)").all_text_contents()) == {"结婚登记"}
    check(pg, "analyst-query")
    pg.fill("#sql", "SELECT male_id FROM mzj.hydj")
    pg.click("#query-submit")
    pg.wait_for_selector("#query-problems")
    # hostile text in the SQL and in the rows it returns is shown as text (the fixture fails on a dialog or CSP report)
    hostile = "<img src=x onerror=alert(1)>"
    pg.fill("#sql", f"SELECT '{hostile}' AS \"{{{{7*7}}}}\", '=HYPERLINK(\"http://evil.example/\")' AS f")
    pg.click("#query-submit")
    pg.wait_for_selector("#result")
    assert pg.inner_text("#result tbody td") == hostile and pg.locator("#result img").count() == 0
    assert pg.locator("#result thead th").first.text_content() == "{{7*7}}"
    pg.goto(f"{portal.url}/agencies/gaj/statistics?table=mzj.hydj&column=reg_type")
    pg.wait_for_selector("#stat-chart svg")  # drawn by the vendored ECharts
    check(pg, "analyst-statistics")

    # a second request the provider leaves unanswered: after its deadline (the portal's clock moved on, the sharing
    # clock run for that day as the Dagster sensor runs it) the office sees it escalated and late
    s, c = settings, portal.catalog
    today = portal.clock().astimezone(BEIJING).date()
    late = svc.file_request(s, c, hydj, actor=GAJ_ANALYST, fields=["cert_no"], purpose="核查", basis="依据",
                            use_from=today, use_until=today + dt.timedelta(days=90), today=today)  # fmt: skip
    svc.forward(s, late.id, actor=OFFICE, today=today)
    portal.clock.advance(dt.timedelta(days=21))
    frozen = portal.clock().astimezone(BEIJING).date()
    assert late.id in tick(s, c, today=frozen).escalated
    assert get_request(s, late.id).state is RequestState.ESCALATED
    pg.context.clear_cookies()  # three weeks on, every session has expired
    sign_in(pg, portal, OFFICE)
    pg.goto(f"{portal.url}/office/sharing")
    row = pg.inner_text(f"#late a[href$='{late.id}'] >> xpath=ancestor::tr")
    assert "逾期未答复" in row
    assert "逾期未答复" in pg.inner_text(f"#queue-{late.id}")
    check(pg, "office-sharing-escalated")
