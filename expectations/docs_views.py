"""GE's Jinja page views with govhub's templates in front (`templates/data_docs/`): Chinese titles and breadcrumbs,
no newsletter footer, no links off the machine. The site config names these classes (`docs_site.site_config`).

GE appends a site's `custom_data_docs/views` folder *after* its own templates, so it can add templates but not
replace one; these views put ours first instead. Imported by GE when it builds the site (GE is loaded by then).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from great_expectations.render.components import RenderedTabsContent
from great_expectations.render.renderer import SiteIndexPageRenderer
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
