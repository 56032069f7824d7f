"""The periodic scorecard report (§18): one self-contained Chinese HTML page per window, with bar charts drawn as inline
SVG (no script, no CDN: it opens from disk or the reports site on a network without internet).

`reports/scorecards/<start>_<end>.html`, plus `reports/scorecards/index.html` listing every report written.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from govhub.clock import beijing_text
from govhub.config import Settings
from govhub.governance.scorecard import RECTIFY_BELOW, AgencyScore, in_service_note, percent_text

COLUMNS = [
    ("catalog_compiled", "目录编制"),
    ("catalog_up_to_date", "目录及时更新"),
    ("annual_review", "年度全面维护"),
    ("aggregated", "资源归集"),
    ("refreshed_on_time", "按期更新"),
    ("requests_answered_on_time", "需求按期答复"),
]
_STYLE = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em}
th{background:#f0f3f7}td.num{text-align:right}.low{color:#b00020;font-weight:bold}.notice{background:#fff4f4;
border-left:4px solid #b00020;padding:.5em 1em;margin:.5em 0}.note{color:#666;font-size:.9em}
"""


def _bars(scores: list[AgencyScore]) -> str:
    """Horizontal bars of the scores, 0–100, with the rectification line."""
    row_h, label_w, bar_w = 26, 150, 400
    height = row_h * len(scores) + 30
    parts = [
        f'<svg class="bars" width="{label_w + bar_w + 60}" height="{height}" role="img" aria-label="综合得分">'
    ]
    for i, s in enumerate(scores):
        y = i * row_h + 4
        score = s.score or 0.0
        colour = "#b00020" if s.score is not None and score < RECTIFY_BELOW else "#2e7d32"
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{html.escape(s.name)}</text>')
        parts.append(
            f'<rect class="bar" data-agency="{html.escape(s.agency)}" x="{label_w}" y="{y}" '
            f'width="{bar_w * score / 100:.1f}" height="{row_h - 8}" fill="{colour}"/>'
        )
        parts.append(f'<text x="{label_w + bar_w * score / 100 + 6:.1f}" y="{y + 15}" font-size="12">'
                     f"{percent_text(s.score, '')}</text>")  # fmt: skip
    line_x = label_w + bar_w * RECTIFY_BELOW / 100
    parts.append(
        f'<line x1="{line_x}" y1="0" x2="{line_x}" y2="{height - 20}" stroke="#999" stroke-dasharray="4"/>'
    )
    parts.append(
        f'<text x="{line_x - 40}" y="{height - 5}" font-size="11" fill="#666">整改线 {RECTIFY_BELOW:g}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def render(scores: list[AgencyScore], start: dt.date, end: dt.date) -> str:
    head = "".join(f"<th>{label}</th>" for _, label in COLUMNS)
    rows = []
    for s in scores:
        rates = s.rates
        cells = "".join(
            f'<td class="num{" low" if (v := rates[key]) is not None and v < RECTIFY_BELOW else ""}">{percent_text(v)}</td>'
            for key, _ in COLUMNS
        )
        score = percent_text(s.score, "")
        days = "—" if s.median_answer_days is None else f"{s.median_answer_days:g}"
        rows.append(
            f'<tr data-agency="{html.escape(s.agency)}"><td>{html.escape(s.name)}</td>'
            f'<td class="num">{s.in_force}/{s.catalogued}</td><td class="num">{s.on_time}/{s.periods_owed}</td>'
            f'{cells}<td class="num">{days}</td><td class="num">{s.escalations}</td><td class="num">{s.disputes}</td>'
            f'<td class="num">{s.data_used}</td><td class="num"><b>{score}</b></td></tr>'
        )
    notices = "".join(
        f'<div class="notice"><b>整改通知：{html.escape(s.name)}</b><ul>'
        + "".join(f"<li>{html.escape(t)}</li>" for t in s.rectification)
        + "</ul></div>"
        for s in scores
        if s.rectification
    )
    said = in_service_note(scores, start)
    note = f'\n<p class="note" id="in-service">{html.escape(said)}</p>' if said else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>政务数据资源共享考核 {start} 至 {end}</title>
<style>{_STYLE}</style></head><body>
<h1>政务数据资源共享考核（{start} 至 {end}）</h1>{note}
<p class="note">依据《松江区政务数据资源共享管理办法》第十八条、第十九条。按期更新：到期日在本期内的各报送周期中，
按时更新或申报零更新的比例。需求按期答复：转至本单位的共享申请在10个工作日内答复的比例（逾期答复、逾期未答复均计为未按期）；
答复用时为工作日中位数；数据使用：通过共享授权进行的查询、导出和接口调用次数。</p>
<h2>综合得分</h2>{_bars(scores)}
<h2>分项指标</h2>
<table><thead><tr><th>机构</th><th>在用资源/目录</th><th>按期/应报</th>{head}<th>答复用时（工作日）</th>
<th>逾期升级</th><th>异议</th><th>数据使用</th><th>综合得分</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<h2>整改通知</h2>{notices or "<p>无</p>"}
<p class="note">生成时间：{beijing_text(dt.datetime.now(dt.UTC))}</p>
</body></html>
"""


def write_scorecard_report(
    settings: Settings, scores: list[AgencyScore], start: dt.date, end: dt.date
) -> Path:
    """Write the report for [start, end] and refresh the index; returns the report's path."""
    folder = settings.reports_dir / "scorecards"
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{start}_{end}.html"
    page.write_text(render(scores, start, end), encoding="utf-8")
    links = "".join(
        f'<li><a href="{p.name}">{p.stem.replace("_", " 至 ")}</a></li>'
        for p in sorted(folder.glob("*_*.html"), reverse=True)
    )
    (folder / "index.html").write_text(
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>考核报告</title>'
        f"<style>{_STYLE}</style></head><body><h1>政务数据资源共享考核报告</h1><ul>{links}</ul></body></html>",
        encoding="utf-8",
    )
    return page
