"""The hub's Data Docs: one GE site whose index links every resource's suite and latest validation, pages in Chinese,
nothing fetched from off the machine, and a per-resource build that leaves the other pages alone.

The demo district is ingested and the site built once for the module: GE costs ≈4 s to import and ≈0.3 s per
resource to validate and render, so every test reads that one site (the incremental build comes last).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin

import pytest
import yaml

from govhub.expectations.docs import (
    DocsBuild,
    ResourceDocs,
    build_hub_data_docs,
    build_resource_docs,
    data_docs_dir,
    data_docs_index,
    docs_suite_name,
    latest_validation,
    suite_page,
)
from govhub.warehouse.snapshots import current_info
from tests.browser import screenshot
from tests.conftest import DemoHub

pytestmark = pytest.mark.slow
PLANTED = (
    "gaj/hjrk"  # its ID numbers are also checked as USCCs (a rule added after its snapshot was published)
)

PLANTED_RULE = "统一社会信用代码格式、登记管理部门与机构类别、校验码正确（GB 32100）"


@dataclass
class Site:
    hub: DemoHub
    build: DocsBuild
    progress: list[tuple[int, int, ResourceDocs]]
    retired: str  # the suite of a resource no longer in the catalog, rendered before the full build


@pytest.fixture(scope="module")
def site(ingested_hub: DemoHub) -> Site:
    hub = ingested_hub
    override = hub.settings.catalog_dir / "_expectations" / "gaj" / "hjrk.yaml"
    override.parent.mkdir(parents=True)
    rule = {"type": "expect_column_values_to_be_valid_uscc", "kwargs": {"column": "id_number"}}
    override.write_text(yaml.safe_dump({"add": [rule]}), encoding="utf-8")
    retired = hub.resource(PLANTED).model_copy(update={"code": "101009999/000001", "name": "已撤销资源"})
    build_resource_docs(hub.settings, hub.catalog, [retired])
    progress: list[tuple[int, int, ResourceDocs]] = []
    build = build_hub_data_docs(hub.settings, hub.catalog, lambda *step: progress.append(step))
    return Site(hub, build, progress, docs_suite_name(retired))


def index_links(site: Site) -> list[str]:
    """The index's row links (GE keeps them in the tables' data: rows are links by script)."""
    html = data_docs_index(site.hub.settings).read_text(encoding="utf-8")
    return [unquote(link) for link in re.findall(r"'_table_row_link_path': '([^']+)'", html)]


def test_every_resource_is_rendered_with_progress_reported(site: Site) -> None:
    catalog = site.hub.catalog
    assert [(done, total) for done, total, _ in site.progress] == [
        (i, len(catalog.resources)) for i in range(1, len(catalog.resources) + 1)
    ]
    assert [r.code for _, _, r in site.progress] == [r.code for r in catalog.resources]
    outcomes = {r.code: r for r in site.build.resources}
    assert all(r.status == "validated" for r in outcomes.values()), [
        r.summary_zh() for r in outcomes.values()
    ]
    planted = outcomes[site.hub.resource(PLANTED).code]
    assert planted.success is False and planted.unsuccessful == 1
    assert planted.summary_zh().startswith("户籍人口基本信息（101001001/000001）：未通过 1 项")
    assert all(r.success for code, r in outcomes.items() if code != planted.code)


def test_the_index_links_every_resources_suite_and_latest_validation(site: Site) -> None:
    settings, catalog = site.hub.settings, site.hub.catalog
    links = index_links(site)
    suites = {f"expectations/{docs_suite_name(r)}.html" for r in catalog.resources}
    assert {link for link in links if link.startswith("expectations/")} == suites
    validations = [link for link in links if link.startswith("validations/")]
    assert len(validations) == len(catalog.resources)  # the latest result only, one per resource
    for resource in catalog.resources:
        snapshot = current_info(settings, resource).id  # the result is of the current snapshot
        mine = [
            v for v in validations if v.startswith(f"validations/{docs_suite_name(resource)}/{snapshot}/")
        ]
        assert len(mine) == 1, (resource.code, validations)
        assert Path(latest_validation(settings, resource).page) == data_docs_dir(settings) / mine[0]
    assert all((data_docs_dir(settings) / link).is_file() for link in links)
    # run times in Beijing time, as every page people read (GE would show the server's zone: UTC on a container)
    text = data_docs_index(settings).read_text(encoding="utf-8")
    assert "校验时间（北京时间）" in text and "UTC" not in text
    shown = re.findall(r"['\"]run_time['\"]: ['\"]([^'\"]*)['\"]", text)  # a Python dict's repr in a script
    assert len(shown) == len(catalog.resources) and all(
        re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in shown
    )


def test_a_resource_gone_from_the_catalog_leaves_the_site(site: Site) -> None:
    assert site.build.removed == [site.retired]
    assert "已撤销资源" not in data_docs_index(site.hub.settings).read_text(encoding="utf-8")
    assert not list(data_docs_dir(site.hub.settings).rglob(f"{site.retired}*"))


def test_a_browser_follows_every_link_of_the_index_to_its_chinese_page(site: Site, offline_page) -> None:
    """Chromium with no way off the machine opens the index, clicks a row, then follows every row link: each page
    loads under its resource's Chinese name and code, and never shows a raw `expect_…(**{…})`."""
    settings, catalog = site.hub.settings, site.hub.catalog
    index = data_docs_index(settings).as_uri()
    offline_page.goto(index)
    assert offline_page.title() == "数据质量报告"
    links = offline_page.evaluate(
        """() => $('table').toArray().filter(t => $(t).data('bootstrap.table'))
                  .flatMap(t => $(t).bootstrapTable('getData').map(row => row._table_row_link_path))"""
    )
    assert sorted(unquote(link) for link in links) == sorted(index_links(site))
    offline_page.locator("tr.clickable-row").first.click()  # rows are links: a click opens the result
    offline_page.wait_for_url("**/validations/**")
    titles = {f"校验规则：{docs_suite_name(r)}" for r in catalog.resources}
    titles |= {f"质量校验结果：{docs_suite_name(r)}" for r in catalog.resources}
    for link in links:
        offline_page.goto(urljoin(index, link))
        assert offline_page.title() in titles, (link, offline_page.title())
        text = offline_page.inner_text("body")
        assert "expect_column_values" not in text and "**{" not in text, link
    assert offline_page.refused == []


def test_custom_expectations_read_in_chinese(site: Site, offline_page) -> None:
    """What GE would print as `expect_column_values_to_be_valid_uscc(**{…})` reads as the rule, what was found and
    a table of the values, in Chinese; so do GE's own expectations the suites use."""
    settings = site.hub.settings
    resource = site.hub.resource(PLANTED)
    offline_page.goto(suite_page(settings, resource).as_uri())
    rules = offline_page.inner_text("body")
    assert "公民身份号码格式与校验码正确（GB 11643）" in rules
    assert "行政区划代码存在" in rules and "为大陆手机号码" in rules
    # GE's built-in expectations, in Chinese too (GE: "values must never be null.", "values must be unique.")
    assert "values must" not in rules and "must be" not in rules, rules[:3000]
    assert (
        "数据类型为 VARCHAR、str 之一（空值不检查）" in rules
        and "取值为以下之一：男、女（空值不检查）" in rules
    )
    assert "取值不重复（空值不检查）" in rules and "表的列与资源目录一致：id_number、name" in rules
    # and GE's page around them
    assert (
        "概览" in rules and "表级规则" in rules and re.search(r"本规则集共 \d+ 条规则，涉及 \d+ 列。", rules)
    )
    for english in (
        "Table of Contents",
        "Overview",
        "Notes",
        "Expectation Suite Name",
        "This Expectation suite",
    ):
        assert english not in rules, english

    offline_page.goto(latest_validation(settings, resource).page.as_uri())
    result = offline_page.inner_text("body")
    assert PLANTED_RULE in result
    rows = current_info(settings, resource).rows
    assert re.search(rf"发现 {rows:,} 个不符合的值，占非空值的 100%（共 {rows:,} 行）", result), result[:2000]
    assert "100% 不符合" in result and "全部符合" in result  # observed values: the planted rule, the real one
    assert offline_page.locator("th", has_text="不符合的值").count() >= 1  # the sample table's header
    assert re.search(r"状态：\s+未通过", result) and "通过率" in result and "实际情况" in result
    for english in ("Validation Filter", "Show All", "Failed Only", "Statistics", "Evaluated Expectations",
                    "Observed Value", "Status:", "Failed", "Show more info"):  # fmt: skip
        assert english not in result, english
    folded = latest_validation(settings, resource).page.read_text(encoding="utf-8")  # "更多信息…", folded
    assert re.search(r"校验时间（北京时间）.{0,400}?20\d\d-\d\d-\d\d \d\d:\d\d:\d\d", folded, re.S), folded[
        :200
    ]
    assert "Run Time" not in folded and "Great Expectations 版本" in folded
    passing = offline_page.get_by_text("取值不重复（空值不检查）").first
    assert passing.is_visible()
    offline_page.get_by_text("仅未通过").click()  # the page's filter: only the rules that failed
    passing.wait_for(state="hidden", timeout=5000)
    assert offline_page.get_by_text(PLANTED_RULE).first.is_visible()
    assert offline_page.refused == []


def test_pages_ask_for_nothing_outside_the_site(site: Site) -> None:
    """Every stylesheet, script and link of every page stays in the site (relative paths that exist) or leads back
    to the reports front page: no CDN, no link to GE's website, no newsletter footer — no internet there."""
    from govhub.expectations.offline_docs import LOCAL

    root = data_docs_dir(site.hub.settings)
    pages = list(root.rglob("*.html"))
    assert len(pages) == 1 + 2 * len(site.hub.catalog.resources)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        refs = re.findall(r'(?:href|src)="([^"#][^"]*)"', html)
        assert refs, page
        assert [r for r in refs if re.match(r"(https?:)?//", r)] == [], page
        for ref in refs:
            target = (page.parent / unquote(ref.split("?")[0])).resolve()
            if root.resolve() in target.parents:
                assert target.is_file(), (page, ref)
            else:  # the way back to the reports front page (services/reports_index.py writes it)
                assert target == site.hub.settings.reports_dir.resolve() / "index.html", (page, ref)
        assert "greatexpectations.io" not in html and "Subscribe" not in html, page
        assert "integrity=" not in html and 'lang="zh-CN"' in html
    vendor = root / "static" / "vendor"
    assert set(LOCAL.values()) <= {p.relative_to(vendor).as_posix() for p in vendor.rglob("*.*")}


def test_pages_render_styled_in_a_browser_without_internet(site: Site, offline_page) -> None:
    """Bootstrap's styles apply, jQuery and bootstrap-table run, GE's logo comes from the site."""
    settings = site.hub.settings
    pages = {
        "data_docs_index": data_docs_index(settings),
        "data_docs_validation": latest_validation(settings, site.hub.resource(PLANTED)).page,
    }
    offline_page.set_viewport_size({"width": 1280, "height": 900})
    for name, page in pages.items():
        offline_page.goto(page.as_uri())
        assert offline_page.evaluate("typeof window.jQuery.fn.bootstrapTable") == "function"
        font = offline_page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "Segoe UI" in font and "WenQuanYi Micro Hei" in font, font
        assert offline_page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
        assert offline_page.evaluate("document.querySelector('.navbar img').naturalWidth") > 0
        screenshot(offline_page, name, full_page=name != "data_docs_index")  # the result: all its sections
    assert offline_page.refused == []


def test_rules_in_error_leave_the_resources_pages_as_they_were_and_say_why(site: Site) -> None:
    settings, catalog = site.hub.settings, site.hub.catalog
    resource = site.hub.resource("mzj/hydj")
    override = settings.catalog_dir / "_expectations" / "mzj" / "hydj.yaml"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text("drop: [{type: expect_column_values_to_be_unique, column: nope}]\n", encoding="utf-8")
    rules, result = suite_page(settings, resource).read_bytes(), latest_validation(settings, resource).page
    try:
        [outcome] = build_resource_docs(settings, catalog, [resource]).resources
    finally:
        override.unlink()
    assert outcome.status == "failed" and outcome.message_zh.startswith("校验规则有误，页面未更新：")
    assert "要删除的规则在生成的规则中不存在" in outcome.message_zh
    assert suite_page(settings, resource).read_bytes() == rules and result.is_file()


def test_one_resource_is_rebuilt_alone_and_the_index_still_lists_all(site: Site) -> None:
    """After a load, its resource's pages are replaced; the other resources' pages are not touched."""
    settings, catalog = site.hub.settings, site.hub.catalog
    resource = site.hub.resource("fgj/fwjbxx")
    root = data_docs_dir(settings)
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*.html")}
    old_result = latest_validation(settings, resource).page

    build = build_resource_docs(settings, catalog, [resource])

    assert [r.code for r in build.resources] == [resource.code] and build.resources[0].success
    assert build.seconds < site.build.seconds / 2, (build.seconds, site.build.seconds)
    new_result = latest_validation(settings, resource).page
    assert new_result != old_result and not old_result.exists()
    after = {p: p.stat().st_mtime_ns for p in root.rglob("*.html")}
    changed = {p for p in after if before.get(p) != after[p]}
    assert changed == {data_docs_index(settings), suite_page(settings, resource), new_result}
    assert len(index_links(site)) == 2 * len(catalog.resources)
