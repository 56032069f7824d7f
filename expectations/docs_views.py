"""GE's Jinja page views with govhub's templates in front (`templates/data_docs/`): Chinese titles and breadcrumbs,
no newsletter footer, no links off the machine; and GE's page renderers with their labels in Chinese (the rules
themselves: `ge_render_zh`). The site config names these classes (`docs_site.site_config`).

GE appends a site's `custom_data_docs/views` folder *after* its own templates, so it can add templates but not
replace one; these views put ours first instead. Imported by GE when it builds the site (GE is loaded by then).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from great_expectations.render.components import RenderedTableContent, RenderedTabsContent
from great_expectations.render.renderer import (
    ExpectationSuitePageRenderer,
    SiteIndexPageRenderer,
    ValidationResultsPageRenderer,
)
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

TEMPLATES = Path(__file__).parent / "templates" / "data_docs"
# the index's tabs and column headers (GE writes them in English)
INDEX_LABELS = {
    "Validation Results": "校验结果",
    "Expectation Suites": "校验规则",
    "Status": "状态",
    "Run Time": "校验时间（北京时间）",
    "Run Name": "快照",
    "Asset Name": "数据资产",
    "Batch ID": "批次",
    "Expectation Suite": "校验规则",
    "Data Docs": "数据质量报告",
}


class IndexPageRenderer(SiteIndexPageRenderer):
    """GE's index page with Chinese tab names, column headers and title, run times in Beijing time (GE shows them
    in the server's own zone, UTC on a container)."""

    @classmethod
    def _get_formatted_datetime(cls, _datetime: Any) -> str | None:
        from govhub.clock import beijing_text, stored_moment

        if not isinstance(_datetime, dt.datetime | str) or not _datetime:
            return None
        try:
            return beijing_text(stored_moment(_datetime), seconds=True, zone=False)
        except ValueError:  # a run time GE wrote in a form of its own: as written
            return str(_datetime)

    @classmethod
    def render(cls, index_links_dict: dict[str, Any]) -> Any:
        document = super().render(index_links_dict)
        for section in document.sections if document else []:
            for block in section.content_blocks:
                if isinstance(block, RenderedTabsContent):
                    for tab in block.tabs:
                        tab["tab_name"] = INDEX_LABELS.get(tab["tab_name"], tab["tab_name"])
                        for column in tab["tab_content"].table_columns:
                            column["title"] = INDEX_LABELS.get(column["title"], column["title"])
                elif getattr(block, "header", None) is not None:
                    params = block.header.string_template.get("params", {})
                    if "title_prefix" in params:
                        params["title_prefix"] = INDEX_LABELS.get(
                            params["title_prefix"], params["title_prefix"]
                        )
        return document


# the suite and validation pages' headers, table labels and statuses (GE writes them in English)
PAGE_LABELS = {
    "Overview": "概览",
    "Info": "基本信息",
    "Notes": "说明",
    "Statistics": "统计",
    "Table-Level Expectations": "表级规则",
    "Expectation Suite:": "校验规则：",
    "Data asset:": "数据资产：",
    "Status:": "状态：",
    "Succeeded": "通过",
    "Failed": "未通过",
    "Great Expectations Version": "Great Expectations 版本",
    "Expectation Suite Name": "校验规则",
    "Run Name": "快照",
    "Run Time": "校验时间（北京时间）",
    "Evaluated Expectations": "校验规则数",
    "Successful Expectations": "通过",
    "Unsuccessful Expectations": "未通过",
    "Success Percent": "通过率",
    "Show more info...": "更多信息…",
    "Status": "状态",
    "Expectation": "规则",
    "Observed Value": "实际情况",
    "Batch Markers": "批次标记",
    "Batch Spec": "批次说明",
}
_PARAM_LABELS = {"suite_title", "data_asset", "status_title", "success"}  # params GE fills with its own words
_TOTALS = re.compile(
    r"This Expectation suite currently contains (\d+) total Expectations across (\d+) columns\."
)


def _label(text: str) -> str:
    totals = _TOTALS.fullmatch(text)
    if totals:
        return f"本规则集共 {totals[1]} 条规则，涉及 {totals[2]} 列。"
    return PAGE_LABELS.get(text, text)


def _in_chinese(node: Any) -> None:
    """GE's own words in a rendered page, in Chinese, in place: labels, headers, statuses and the run time (Beijing).
    Values stay as they are: a template's params (but the labels GE puts there) and the sample table of values."""
    if isinstance(node, RenderedTableContent) and any(
        "不符合" in str(h) or "nexpected" in str(h) for h in node.header_row or []
    ):
        return  # the sample of unexpected values: data, never relabelled
    if isinstance(node, list):
        if len(node) == 2 and node[0] == "Run Time" and isinstance(node[1], str):
            node[1] = IndexPageRenderer._get_formatted_datetime(node[1]) or node[1]
        for i, item in enumerate(node):
            if isinstance(item, str):
                node[i] = _label(item)
            else:
                _in_chinese(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "params" and isinstance(value, dict):
                for name in _PARAM_LABELS & value.keys():
                    value[name] = _label(value[name]) if isinstance(value[name], str) else value[name]
            elif key in ("template", "header", "subheader", "collapse_toggle_link") and isinstance(
                value, str
            ):
                node[key] = _label(value)
            elif not isinstance(value, str):
                _in_chinese(value)
    elif hasattr(node, "__dict__"):
        for key, value in vars(node).items():
            if isinstance(value, str):
                if key in ("header", "subheader", "collapse_toggle_link", "text"):
                    setattr(node, key, _label(value))
            else:
                _in_chinese(value)


class SuitePageRenderer(ExpectationSuitePageRenderer):
    """A suite's page, GE's labels in Chinese."""

    def render(self, *args: Any, **kwargs: Any) -> Any:
        document = super().render(*args, **kwargs)
        _in_chinese(document)
        return document


class ValidationPageRenderer(ValidationResultsPageRenderer):
    """A validation result's page, GE's labels in Chinese and its run time in Beijing time."""

    def render(self, *args: Any, **kwargs: Any) -> Any:
        document = super().render(*args, **kwargs)
        _in_chinese(document)
        return document


def _templates_first(view: DefaultJinjaPageView) -> None:
    view.env.loader = ChoiceLoader([FileSystemLoader(TEMPLATES), view.env.loader])


class PageView(DefaultJinjaPageView):
    """Suite and validation-result pages."""

    _template = "govhub_page.j2"

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None):
        super().__init__(custom_styles_directory, custom_views_directory)
        _templates_first(self)


class IndexPageView(DefaultJinjaIndexPageView):
    """The site's index page."""

    _template = "govhub_page.j2"

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None):
        super().__init__(custom_styles_directory, custom_views_directory)
        _templates_first(self)
