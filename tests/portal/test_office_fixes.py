"""Fixes found by exploratory testing, on the real portal: scorecard windows out of range, Data Docs shown in the
browser, the audit log's verification without JavaScript, the catalog's keyword search, field types in Chinese, and
the office's home page."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from govhub.catalog.model import SemanticType
from govhub.clock import BEIJING
from tests.portal.conftest import OFFICE, STEWARD, Portal, csrf

pytestmark = pytest.mark.usefixtures("portal")


def today(portal: Portal) -> dt.date:
    return portal.clock().astimezone(BEIJING).date()


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def title(html: str) -> str:
    found = re.search(r"<h1[^>]*>考核评分（([^<]*)）</h1>", html)
    assert found, html[:500]
    return found.group(1)


def window_note(html: str) -> str:
    found = re.search(r'id="window-note">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


@pytest.mark.parametrize("query", ["start=2030-06-01", "start=2030-01-01&end=2030-12-31"])
def test_a_scorecard_starting_in_the_future_shows_this_quarter_with_a_notice(
    portal: Portal, query: str
) -> None:
    r = portal.sign_in(OFFICE).get(f"/office/scorecards?{query}")
    assert r.status_code == 200
    day = today(portal)
    assert title(r.text) == f"{quarter_start(day)} 至 {day}"  # not "… 至 2030-06-01"
    assert "晚于今天" in window_note(r.text) and "本季度至今" in window_note(r.text)


def test_a_scorecard_starting_before_2000_is_clamped_not_a_server_error(portal: Portal) -> None:
    office = portal.sign_in(OFFICE)
    floor = max(portal.settings.in_service_since or dt.date(2000, 1, 1), dt.date(2000, 1, 1))
    r = office.get("/office/scorecards?start=0001-01-01")
    assert r.status_code == 200
    assert title(r.text) == f"{floor} 至 {today(portal)}"
    assert "0001-01-01 早于 2000-01-01" in window_note(r.text)
    r = office.get("/office/scorecards?end=0001-01-01")
    assert r.status_code == 200
    assert title(r.text) == f"{quarter_start(today(portal))} 至 {today(portal)}"


def test_a_scorecard_within_the_past_needs_no_notice(portal: Portal) -> None:
    day = today(portal)
    start = quarter_start(day)
    r = portal.sign_in(OFFICE).get(f"/office/scorecards?start={start}&end={day}")
    assert r.status_code == 200 and title(r.text) == f"{start} 至 {day}"
    assert 'id="window-note"' not in r.text


def test_data_docs_pages_are_shown_in_the_browser_with_their_types(portal: Portal) -> None:
    from govhub.expectations.docs import data_docs_dir

    site = data_docs_dir(portal.settings)
    site.mkdir(parents=True, exist_ok=True)
    if not (site / "index.html").exists():
        (site / "index.html").write_text(
            "<!doctype html><title>数据质量报告</title><p>校验结果</p>", encoding="utf-8"
        )
    (site / "static").mkdir(exist_ok=True)
    (site / "static" / "fixes.css").write_text("body { color: #000; }", encoding="utf-8")
    (site / "static" / "fixes.json").write_text("{}", encoding="utf-8")
    office = portal.sign_in(OFFICE)

    r = office.get("/data-docs/index.html")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert not r.headers.get("content-disposition", "").startswith("attachment")
    assert 'filename=""' not in r.headers.get("content-disposition", "")
    assert "script-src 'self' 'unsafe-inline'" in r.headers["content-security-policy"]
    assert r.content == (site / "index.html").read_bytes()

    assert office.get("/data-docs/static/fixes.css").headers["content-type"].startswith("text/css")
    assert office.get("/data-docs/static/fixes.json").headers["content-type"].startswith("application/json")
    # outside the site's folder: nothing (path traversal kept out)
    assert office.get("/data-docs/%2e%2e/%2e%2e/govhub.yaml").status_code == 404
    assert office.get("/data-docs/static/..%2f..%2f..%2fgovhub.yaml").status_code == 404


def test_a_resource_page_links_its_own_data_docs_for_the_office(portal: Portal) -> None:
    """The office reads a resource's rules and latest validation from its page (Data Docs built for it); a steward
    sees no link to pages the office alone may open."""
    from govhub.expectations.docs import build_resource_docs
    from govhub.services.upload import upload_sheet

    sheets = portal.settings.home / "demo" / "sheets"
    resource = next(r for r in portal.catalog.resources if (sheets / r.agency / f"{r.id}.xlsx").exists())
    loaded = upload_sheet(
        portal.settings, resource, sheets / resource.agency / f"{resource.id}.xlsx", actor=OFFICE
    )
    assert loaded.status == "published", loaded
    build_resource_docs(portal.settings, portal.catalog, [resource])
    office = portal.sign_in(OFFICE)
    page = office.get(f"/catalog/{resource.agency}/{resource.id}")
    links = dict(
        (label, href)
        for href, label in re.findall(r'<a class="btn" href="(/data-docs/[^"]+)">([^<]+)</a>', page.text)
    )
    assert set(links) == {"本资源的校验规则", "最近一次校验结果", "全部资源的数据质量报告"}, page.text[-3000:]
    rules, result = office.get(links["本资源的校验规则"]), office.get(links["最近一次校验结果"])
    assert rules.status_code == 200 and f"校验规则：{resource.name}" in rules.text
    assert result.status_code == 200 and f"质量校验结果：{resource.name}" in result.text
    steward = portal.sign_in(STEWARD).get(f"/catalog/{resource.agency}/{resource.id}")
    assert steward.status_code == 200 and "/data-docs/" not in steward.text


def test_verifying_the_log_without_javascript_shows_the_whole_page(portal: Portal) -> None:
    office = portal.sign_in(OFFICE)
    office.get("/office/events")
    r = office.post("/office/events/verify", data={"_csrf_token": csrf(office)})
    assert r.status_code == 200
    assert "<html" in r.text and "审计日志</h1>" in r.text  # the page, header and all
    assert re.search(
        r'id="verify-result"[^>]*>\s*<div class="alert alert-success"[^>]*id="verify-ok"', r.text
    )
    # htmx still gets the fragment
    r = office.post(
        "/office/events/verify", data={"_csrf_token": csrf(office)}, headers={"hx-request": "true"}
    )
    assert r.status_code == 200 and 'id="verify-ok"' in r.text and "<html" not in r.text


def found(client: httpx.Client, q: str) -> int:
    r = client.get("/catalog", params={"q": q})
    assert r.status_code == 200
    count = re.search(r"共 (\d+) 个资源", r.text)
    assert count
    return int(count.group(1))


def test_the_catalog_search_looks_in_fields_stewards_and_agencies(portal: Portal) -> None:
    c = portal.sign_in(STEWARD)
    with_id = {r.key for r in portal.catalog.resources if any(f.label == "公民身份号码" for f in r.fields)}
    assert with_id
    assert found(c, "公民身份号码") >= len(with_id)
    gaj = portal.catalog.agencies["gaj"]
    gaj_count = len(portal.catalog.of_agency("gaj"))
    assert found(c, gaj.steward.name) >= gaj_count > 0  # 陆建华, 公安局's data steward
    assert found(c, gaj.name) >= gaj_count
    field = portal.catalog.of_agency("gaj")[0].fields[0]
    assert found(c, field.name) >= 1
    assert found(c, "没有这个词的资源") == 0


def test_field_types_are_shown_in_chinese(portal: Portal) -> None:
    res = next(r for r in portal.catalog.resources if any(f.semantic == SemanticType.CN_ID for f in r.fields))
    html = portal.sign_in(STEWARD).get(f"/catalog/{res.agency}/{res.id}").text
    table = html[html.index('id="fields-title"') :]
    assert "文本（公民身份号码）" in table
    assert "string" not in table and "cn_id" not in table and "（date）" not in table


def test_the_office_home_says_nothing_of_resources_its_agency_does_not_have(portal: Portal) -> None:
    assert portal.catalog.of_agency("kw") == []
    html = portal.sign_in(OFFICE).get("/").text
    assert "本机构所有资源均已按时报送" not in html and "本机构待办" not in html
    assert "全区报送概况" in html
    assert (
        "本机构待办" in portal.sign_in(STEWARD).get("/").text
    )  # a steward of an agency with resources still does
