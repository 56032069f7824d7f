"""The portal in a real browser (Debian's Chromium through Playwright, offline, 1366×768): a steward's day — template,
a sheet with errors shown on the page, the annotated workbook, the fixed sheet published with its diff, a zero
update — hostile cell contents shown as text with no script run and no CSP violation; screenshots of each role's main
pages (tests/screenshots/, git-ignored) and an axe accessibility check of each with no serious/critical violation."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from govhub.demo.people import DEMO_PASSWORD
from tests.portal.conftest import ANALYST, ENGINEER, OFFICE, STEWARD, Portal

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"
HOSTILE = ["<img src=x onerror=alert(1)>", "{{7*7}}", '=HYPERLINK("http://evil.example/","点我")']


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A 1366×768 page: requests leaving the machine refused and recorded, dialogs and CSP reports collected."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN"
    )
    pg = context.new_page()
    pg.refused, pg.dialogs, pg.csp = [], [], []

    def route(r: Any) -> None:
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            pg.refused.append(r.request.url)
            r.abort("internetdisconnected")

    pg.route("**/*", route)
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("console", lambda m: pg.csp.append(m.text) if "Content Security Policy" in m.text else None)
    yield pg
    assert pg.refused == [], f"requests left the machine: {pg.refused}"
    assert pg.dialogs == [], f"a script ran: {pg.dialogs}"
    assert pg.csp == [], f"CSP violations: {pg.csp}"
    context.close()


def sign_in(pg: Any, portal: Portal, login: str) -> None:
    pg.goto(f"{portal.url}/signin")
    pg.fill("#login", login)
    pg.fill("#password", DEMO_PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(f"{portal.url}/")


def check(pg: Any, name: str) -> None:
    """Screenshot, then axe: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    found = Axe().run(pg).response["violations"]
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found
           if v["impact"] in ("serious", "critical")]  # fmt: skip
    assert bad == [], f"{name}: {bad}"


def bad_sheet(portal: Portal, dest: Path) -> Path:
    """The demo's clean 社会救助 sheet with hostile text in three ID-number cells (each an invalid ID)."""
    clean = portal.settings.home / "demo" / "sheets" / "mzj" / "shjz.xlsx"
    wb = openpyxl.load_workbook(clean)
    ws = wb.worksheets[0]
    for row, text in zip((2, 3, 4), HOSTILE, strict=True):
        cell = ws.cell(row=row, column=1)
        cell.value = text
        cell.data_type = "s"  # text, not a formula: as an agency's clerk would paste it
    wb.save(dest)
    return dest


def test_a_stewards_day_in_the_browser(portal: Portal, page: Any, tmp_path: Path) -> None:
    pg = page
    sign_in(pg, portal, STEWARD)
    check(pg, "steward-home")
    pg.goto(f"{portal.url}/agencies/mzj/feeds")
    check(pg, "steward-feeds")
    pg.goto(f"{portal.url}/agencies/mzj/resources/shjz/deliver")
    with pg.expect_download() as got:
        pg.click("#template-link")
    template = tmp_path / "template.xlsx"
    got.value.save_as(template)
    assert "*申请人身份证号" in [c.value for c in openpyxl.load_workbook(template).worksheets[0][1]]

    # a sheet with errors: refused, every problem on the page with its row and column, hostile text as text
    pg.set_input_files("#sheet", str(bad_sheet(portal, tmp_path / "社会救助-有误.xlsx")))
    pg.click("form[hx-post$='/upload'] button[type=submit]")
    pg.wait_for_selector("#outcome-card")
    assert "已拒收" in pg.inner_text("#outcome-title")
    problems = pg.inner_text("table.problems")
    for text in HOSTILE:
        assert text in problems
    assert "49" not in problems and pg.locator("img[src=x]").count() == 0
    check(pg, "steward-upload-rejected")
    with pg.expect_download() as got:
        pg.click("#annotated-link")
    annotated = tmp_path / "annotated.xlsx"
    got.value.save_as(annotated)
    marked = openpyxl.load_workbook(annotated)
    assert len(marked.sheetnames) >= 2  # the agency's own sheet, marked, plus the list of problems
    with pg.expect_download() as got:
        pg.click("#problems-link")
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["行", "列", "值", "应为", "问题", "问题类别", "信息项", "阻止发布", "代码"]
    assert {r[7] for r in rows[1:]} <= {"是", "否"} and all(
        r[5] and r[5] != r[8] for r in rows[1:]
    )  # in words
    values = [r[2] for r in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example/","点我")' in values  # neutralised: text in any spreadsheet
    assert not any(v.startswith(("=", "+", "@")) for v in values)

    # the fixed sheet: published, with its diff
    pg.set_input_files("#sheet", str(portal.settings.home / "demo" / "sheets" / "mzj" / "shjz.xlsx"))
    pg.click("form[hx-post$='/upload'] button[type=submit]")
    pg.wait_for_selector("#outcome-card .status-published")
    inserted = int(pg.inner_text("td.diff-inserted"))
    assert inserted > 0 and "已发布新快照" in pg.inner_text("#outcome-card")
    assert re.search(
        r"文件中 \d+ 条记录", pg.inner_text("#outcome-published")
    )  # what the file held, said as such
    check(pg, "steward-upload-published")
    # the history below, brought up to date by each upload: both deliveries, newest first, who, which file, and the
    # refused one's downloads still there after the page is left and opened again
    for _ in range(2):
        listed = pg.locator("#deliveries tr.delivery")
        assert listed.count() == 2
        first, second = listed.nth(0).inner_text(), listed.nth(1).inner_text()
        cells = [listed.nth(i).locator("td").all_inner_texts() for i in (0, 1)]
        assert cells[0][1:4] == ["shjz.xlsx", "王静怡", "已发布"] and "王静怡" in first
        assert cells[1][1:4] == ["社会救助-有误.xlsx", "王静怡", "已拒收"] and "已拒收" in second
        assert listed.nth(1).locator("a.annotated").count() == 1 and listed.nth(0).locator("a").count() == 0
        pg.goto(f"{portal.url}/agencies/mzj/resources/shjz/deliver")
    with pg.expect_download() as got:
        listed.nth(1).locator("a.problems").click()
    assert "HYPERLINK" in Path(got.value.path()).read_text(encoding="utf-8-sig")
    check(pg, "steward-deliveries")

    # a zero update for another resource's owed period
    pg.goto(f"{portal.url}/agencies/mzj/resources/hydj/deliver")
    owed = pg.inner_text("#feed-status")
    pg.click("form[hx-post$='/zero-update'] button[type=submit]")
    pg.wait_for_selector("#zero-ok")
    assert "已登记零更新" in pg.inner_text("#zero-ok")
    # the status line and the ledger follow at once (out of band): the declared period is no longer the one owed
    declared = pg.inner_text("#zero-ok").split("：")[1].split("，")[0]
    assert f"应报周期 {declared}" in owed and declared not in pg.inner_text("#feed-status")
    assert pg.locator("#ledger tbody tr", has_text=declared).count() == 1
    check(pg, "steward-zero-update")
    pg.goto(f"{portal.url}/catalog/mzj/shjz")
    assert f"{inserted} 条" in pg.inner_text("main")
    check(pg, "steward-resource")


def test_the_office_pages_in_the_browser(portal: Portal, page: Any) -> None:
    pg = page
    sign_in(pg, portal, OFFICE)
    check(pg, "office-home")
    pg.goto(f"{portal.url}/office/freshness")
    assert "逾期未报送" in pg.inner_text("main")
    check(pg, "office-freshness")
    pg.goto(f"{portal.url}/office/scorecards")
    pg.wait_for_selector("#score-chart svg")  # drawn by the vendored ECharts
    check(pg, "office-scorecards")
    pg.goto(f"{portal.url}/office/events?kind=session.*")
    pg.click("#verify-button")
    pg.wait_for_selector("#verify-ok")
    check(pg, "office-events")


@pytest.mark.parametrize("login", [ANALYST, ENGINEER])
def test_other_roles_pages_in_the_browser(portal: Portal, page: Any, login: str) -> None:
    pg = page
    sign_in(pg, portal, login)
    check(pg, f"{login}-home")
    pg.goto(f"{portal.url}/catalog?share=conditional")
    check(pg, f"{login}-catalog")
    pg.goto(f"{portal.url}/account/sessions")
    assert pg.locator("#sessions tr.this-session").count() == 1
    check(pg, f"{login}-sessions")


def test_the_scorecard_says_when_the_hub_went_into_service(portal: Portal, page: Any) -> None:
    """A hub in service for ten days, scored over a window that began before: the page says which periods count."""
    import dataclasses
    import datetime as dt

    from govhub.clock import today_in_beijing
    from govhub.portal.app import create_app
    from tests.portal.conftest import serve, stop

    since = today_in_beijing() - dt.timedelta(days=10)
    served = serve(create_app(dataclasses.replace(portal.settings, in_service_since=since), portal.config))
    try:
        sign_in(page, dataclasses.replace(portal, url=served.url), OFFICE)
        page.goto(f"{served.url}/office/scorecards?start={since - dt.timedelta(days=60)}")
        note = page.inner_text("#in-service")
        assert f"平台于 {since} 启用" in note and f"只计 {since + dt.timedelta(days=1)} 起到期的周期" in note
        check(page, "office-scorecards-in-service")
        page.goto(f"{served.url}/office/scorecards?start={since + dt.timedelta(days=2)}")
        assert page.locator("#in-service").count() == 0  # a window inside the service time needs no note
    finally:
        stop(served)


def test_the_sign_in_page_in_the_browser(portal: Portal, page: Any) -> None:
    pg = page
    pg.goto(f"{portal.url}/signin")
    pg.fill("#login", "nobody")
    pg.fill("#password", "wrong-password")
    pg.click("button[type=submit]")
    pg.wait_for_selector("#signin-error")
    check(pg, "signin-refused")
