"""The reports site's front page: the catalog, the Data Docs (index and each resource's pages), the scorecards and
every load's problem report, all linked, in Chinese, times in Beijing time, opening offline.

One demo hub for the module: every resource published, then the demo's broken sheets delivered (their reports,
quarantined rows and marked workbooks), Data Docs of two resources, this quarter's scorecard.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin

import pytest

from govhub.catalog.model import Resource
from govhub.expectations.docs import build_resource_docs, data_docs_dir, latest_validation
from govhub.services.reports_index import write_reports_index
from tests.browser import screenshot
from tests.conftest import DemoHub, deliver

pytestmark = pytest.mark.slow


@dataclass
class Reports:
    hub: DemoHub
    index: Path
    load_folders: list[Path]  # the reports of the broken sheets' loads
    documented: list[Resource]
    scorecard: Path


@pytest.fixture(scope="module")
def reports(ingested_hub: DemoHub) -> Reports:
    from govhub.governance.scorecard import agency_scores, scorecard_window
    from govhub.governance.scorecard_report import write_scorecard_report

    hub = ingested_hub
    settings, catalog = hub.settings, hub.catalog
    manifest = json.loads((settings.demo_dir / "manifest.json").read_text(encoding="utf-8"))
    folders = []
    for broken in manifest[
        "broken"
    ]:  # refused (missing column…), rows quarantined (bad check digits…), or fine
        resource = hub.resource(broken["resource"])
        outcome = deliver(settings, resource, settings.demo_dir / broken["path"])
        folder = settings.reports_dir / resource.agency / resource.id / outcome.load_id
        folders += [folder] if folder.is_dir() else []
    assert len(folders) >= 3
    documented = [hub.resource("gaj/hjrk"), hub.resource("rsj/jydj")]
    build_resource_docs(settings, catalog, documented)
    start, end = scorecard_window()
    scorecard = write_scorecard_report(settings, agency_scores(settings, catalog, start, end), start, end)
    index = write_reports_index(settings, catalog)
    return Reports(hub, index, folders, documented, scorecard)


def links(page: Path) -> set[Path]:
    hrefs = re.findall(r'href="([^"#][^"]*)"', page.read_text(encoding="utf-8"))
    return {(page.parent / unquote(h)).resolve() for h in hrefs}


def rows(page: Path) -> list[str]:
    """The text of every table body row, cells separated by spaces."""
    bodies = "".join(re.findall(r"<tbody>(.*?)</tbody>", page.read_text(encoding="utf-8"), re.S))
    return [re.sub(r"<[^>]+>", " ", row) for row in re.findall(r"<tr>(.*?)</tr>", bodies, re.S)]


def test_the_catalog_page_lists_every_resource_with_name_code_agency_and_share_type(reports: Reports) -> None:
    catalog = reports.hub.catalog
    table = rows(reports.index.parent / "catalog.html")
    assert len(table) == len(catalog.resources)
    for r in catalog.resources:
        [row] = [row for row in table if f" {r.code} " in row]
        assert r.name in row and catalog.agencies[r.agency].name in row and r.share.type.label in row


def test_the_index_links_everything_the_reports_folder_holds(reports: Reports) -> None:
    settings = reports.hub.settings
    site = data_docs_dir(settings)
    expected = {
        reports.index.parent / "catalog.html",
        site / "index.html",
        *(site / "expectations").glob("*.html"),
        *(site / "validations").rglob("*.html"),
        *(settings.reports_dir / "scorecards").glob("*_*.html"),
        *(p for folder in reports.load_folders for p in folder.iterdir()),
    }
    assert len(list((site / "validations").rglob("*.html"))) == len(reports.documented)
    files = {p.name for folder in reports.load_folders for p in folder.iterdir()}
    assert {"problems.csv", "problems.json", "quarantine.parquet"} <= files
    assert any(name.endswith("-错误标注.xlsx") for name in files)  # a refused workbook returned, marked
    linked = links(reports.index)
    assert {p.resolve() for p in expected} <= linked
    assert all(p.is_file() for p in linked)


def test_times_are_beijing_time_with_the_zone_stated(reports: Reports) -> None:
    html = reports.index.read_text(encoding="utf-8")
    load_rows = [row for row in rows(reports.index) if "问题清单（CSV）" in row]
    assert len(load_rows) == len(reports.load_folders)
    for folder in reports.load_folders:
        at = dt.datetime.strptime(folder.name.split("-")[0], "%Y%m%dT%H%M%S%fZ") + dt.timedelta(hours=8)
        assert any(f"{at:%Y-%m-%d %H:%M}（北京时间）" in row for row in load_rows), folder.name
    for resource in reports.documented:
        checked = latest_validation(reports.hub.settings, resource).validated_at + dt.timedelta(hours=8)
        [row] = [row for row in rows(reports.index) if resource.code in row and "校验规则" in row]
        assert f"{checked:%Y-%m-%d %H:%M}（北京时间）" in row and "通过" in row
    times = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d(.{6})", re.sub(r"<[^>]+>", "", html))
    assert times and set(times) == {"（北京时间）"}


def test_the_pages_are_self_contained_chinese_pages(reports: Reports) -> None:
    for page in (reports.index, reports.index.parent / "catalog.html"):
        html = page.read_text(encoding="utf-8")
        assert '<html lang="zh-CN">' in html and "<style>" in html
        assert "<script" not in html and "http" not in html


def test_a_browser_follows_every_link_of_the_front_page(reports: Reports, offline_page) -> None:
    """Chromium with no way off the machine: each page linked opens with a Chinese title; the files (CSV, JSON,
    Parquet, workbook) exist; nothing is fetched from anywhere."""
    offline_page.set_viewport_size({"width": 1200, "height": 900})
    offline_page.goto(reports.index.as_uri())
    assert offline_page.title() == "政务数据资源共享报告"
    screenshot(offline_page, "reports_index")
    hrefs = offline_page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    pages = [h for h in hrefs if not h.startswith("#") and h.endswith(".html")]
    assert len(pages) >= 3 + 2 * len(reports.documented)
    for href in pages:
        offline_page.goto(urljoin(reports.index.as_uri(), href))
        assert re.search(r"[\u4e00-\u9fff]", offline_page.title()), href
    offline_page.goto(reports.scorecard.as_uri())
    screenshot(offline_page, "scorecard")
    assert offline_page.refused == []
