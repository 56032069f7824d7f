"""The reports site's front page (`reports/index.html`) and its catalog page (`reports/catalog.html`), and the
Data Docs build that rewrites it after rendering (`render_data_docs`: what the CLI and the Dagster job call).

One self-contained Chinese page (inline CSS, no script, no CDN: it opens from disk or the reports site on a network
without internet) linking what the reports folder holds: the catalog, the Data Docs (index and each resource's suite
and latest validation), the scorecards, and every load's problem report (quarantined rows, the marked workbook).
It lists files as they are on disk, so it is cheap to rewrite after anything lands there; times are Beijing time.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from pathlib import Path
from urllib.parse import quote

from govhub.catalog.model import Catalog, Resource
from govhub.clock import beijing_text
from govhub.config import Settings
from govhub.expectations.docs import (
    DocsBuild,
    Progress,
    build_hub_data_docs,
    build_resource_docs,
    data_docs_index,
    latest_validation,
    suite_page,
)
from govhub.states import LoadStatus

_STYLE = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:2em;
color:#222;max-width:72em}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#f0f3f7}.note{color:#666;font-size:.9em}.bad{color:#b00020}.good{color:#2e7d32}
nav a{margin-right:1.2em}td a{margin-right:.8em}.nowrap{white-space:nowrap}
"""
# what a load's report folder holds (warehouse/reports.py, warehouse/load.py, services/ingest.py)
_FILES = {
    "problems.csv": "问题清单（CSV）",
    "problems.json": "问题清单（JSON）",
    "quarantine.parquet": "隔离行（Parquet）",
}


def _href(path: Path, reports: Path) -> str:
    return quote(Path(os.path.relpath(path, reports)).as_posix())


def _link(path: Path, text: str, reports: Path) -> str:
    return f'<a href="{_href(path, reports)}">{html.escape(text)}</a>'


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _agency_name(catalog: Catalog, resource: Resource) -> str:
    agency = catalog.agencies.get(resource.agency)
    return agency.name if agency else resource.agency


def render_catalog_page(catalog: Catalog) -> str:
    rows = []
    for r in sorted(catalog.resources, key=lambda r: r.code):
        share = r.share.type.label + (f"（{r.share.conditions}）" if r.share.conditions else "")
        rows.append(
            f"<tr><td>{html.escape(r.code)}</td><td>{html.escape(r.name)}</td>"
            f"<td>{html.escape(_agency_name(catalog, r))}</td><td>{html.escape(share)}</td>"
            f"<td>{r.cycle.label}</td><td>{r.delivery.method.label}</td></tr>"
        )
    body = (
        '<p><a href="index.html">← 报告首页</a></p><h1>政务数据资源目录</h1>'
        f'<p class="note">{len(catalog.resources)} 项资源，{len(catalog.agencies)} 个机构。</p>'
        "<table><thead><tr><th>资源代码</th><th>资源名称</th><th>提供机构</th><th>共享类型</th><th>更新周期</th>"
        f"<th>提供方式</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return _page("政务数据资源目录", body)


def _data_docs_section(settings: Settings, catalog: Catalog) -> str:
    reports = settings.reports_dir
    index = data_docs_index(settings)
    if not index.is_file():
        return "<p>尚未生成（govhub quality docs）。</p>"
    rows = []
    for r in sorted(catalog.resources, key=lambda r: r.code):
        suite = suite_page(settings, r)
        latest = latest_validation(settings, r)
        rule = _link(suite, "校验规则", reports) if suite.is_file() else "—"
        if latest is None:
            checked, verdict = "尚无校验结果", ""
        else:
            checked = _link(latest.page, beijing_text(latest.validated_at), reports)
            verdict = {True: '<span class="good">通过</span>', False: '<span class="bad">未通过</span>'}.get(
                latest.success, ""
            )
        rows.append(
            f"<tr><td>{html.escape(r.name)}（{html.escape(r.code)}）</td><td>{rule}</td><td>{checked}</td>"
            f"<td>{verdict}</td></tr>"
        )
    return (
        f"<p>{_link(index, '全部资源的校验规则与校验结果（Data Docs）', reports)}</p>"
        "<table><thead><tr><th>资源</th><th>校验规则</th><th>最近一次校验</th><th>结论</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _scorecards_section(settings: Settings) -> str:
    folder = settings.reports_dir / "scorecards"
    pages = sorted(folder.glob("*_*.html"), reverse=True)
    if not pages:
        return "<p>尚未生成（govhub scorecard --html）。</p>"
    items = "".join(
        f"<li>{_link(p, p.stem.replace('_', ' 至 '), settings.reports_dir)}"
        f' <span class="note">生成于 {beijing_text(dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC))}</span></li>'
        for p in pages
    )
    return f"<ul>{items}</ul>"


def _load_time(load_id: str) -> dt.datetime | None:
    """A load id starts with its UTC start time: 20261127T123111103007Z-535f0a."""
    try:
        return dt.datetime.strptime(load_id.split("-")[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _load_reports(settings: Settings, catalog: Catalog) -> list[tuple[dt.datetime, str]]:
    """(load time, table row) of every load report under reports/<agency>/<resource>/<load_id>/."""
    reports = settings.reports_dir
    out = []
    for r in catalog.resources:
        for folder in (reports / r.agency / r.id).glob("*/"):
            at = _load_time(folder.name)
            files = sorted(p for p in folder.iterdir() if p.is_file())
            if at is None or not files:
                continue
            try:
                summary = json.loads((folder / "problems.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                summary = {}
            try:
                status = LoadStatus(summary.get("status")).label
            except ValueError:  # a report of an older or unknown kind: say what it says
                status = str(summary.get("status") or "")
            links = " ".join(
                _link(p, _FILES.get(p.name, "错误标注的填报文件" if p.suffix == ".xlsx" else p.name), reports)
                for p in files
            )
            out.append(
                (
                    at,
                    f'<tr><td class="nowrap">{beijing_text(at)}</td>'
                    f"<td>{html.escape(r.name)}（{html.escape(r.code)}）</td>"
                    f'<td class="nowrap">{html.escape(status)}</td><td>{summary.get("problem_count", "")}</td>'
                    f"<td>{summary.get('quarantined', '')}</td><td>{links}</td></tr>",
                )
            )
    return sorted(out, reverse=True)


def _load_reports_section(settings: Settings, catalog: Catalog) -> str:
    rows = _load_reports(settings, catalog)
    if not rows:
        return "<p>暂无：还没有被拒收或隔离了数据行的加载。</p>"
    return (
        "<table><thead><tr><th>加载时间</th><th>资源</th><th>结果</th><th>问题数</th><th>隔离行数</th>"
        f"<th>文件</th></tr></thead><tbody>{''.join(row for _, row in rows)}</tbody></table>"
    )


def render_reports_index(settings: Settings, catalog: Catalog, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    body = f"""<h1>政务数据资源共享报告</h1>
<p class="note">更新于 {beijing_text(now)}。本页及所链接的报告均无需互联网即可查看。</p>
<nav><a href="#catalog">资源目录</a><a href="#quality">数据质量报告</a><a href="#scorecards">考核报告</a>
<a href="#loads">问题数据报告</a></nav>
<h2 id="catalog">资源目录</h2>
<p><a href="catalog.html">资源目录</a>：{len(catalog.resources)} 项资源（中文名称、代码、提供机构、共享类型）。</p>
<h2 id="quality">数据质量报告</h2>
{_data_docs_section(settings, catalog)}
<h2 id="scorecards">考核报告</h2>
{_scorecards_section(settings)}
<h2 id="loads">问题数据报告</h2>
<p class="note">被拒收或隔离了数据行的每次加载：问题清单、隔离的数据行和退回机构的错误标注文件。</p>
{_load_reports_section(settings, catalog)}"""
    return _page("政务数据资源共享报告", body)


def write_reports_index(settings: Settings, catalog: Catalog) -> Path:
    """Write reports/index.html and reports/catalog.html from what the reports folder holds now; returns the index."""
    reports = settings.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("catalog.html", render_catalog_page(catalog)),
        ("index.html", render_reports_index(settings, catalog)),
    ):
        tmp = reports / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(reports / name)  # the site may be serving the old page meanwhile
    return reports / "index.html"


def render_data_docs(
    settings: Settings,
    catalog: Catalog,
    resources: list[Resource] | None = None,
    on_progress: Progress | None = None,
) -> DocsBuild:
    """Data Docs of every resource (or just `resources`, the others' pages untouched), then the front page, whose
    table of latest results follows."""
    if resources is None:
        build = build_hub_data_docs(settings, catalog, on_progress)
    else:
        build = build_resource_docs(settings, catalog, resources, on_progress)
    build.reports_index = write_reports_index(settings, catalog)
    return build
