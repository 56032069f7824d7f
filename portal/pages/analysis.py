"""The analysts' pages (§14): SQL over their agency's workspace, downloads of the rows, a statistics view with a
chart, and the workspace file itself.

Every query goes through `services.query.run_sql` — the same authorization, sandbox, limits, scope refresh and
audit event as `govhub query`; downloads through `services.query.export` (provenance with the file, the export
recorded, CSV text cells neutralised) and `services.workspaces.download`. The agency in the URL must be the
analyst's own (the guard applies `Action.QUERY` / `DOWNLOAD_WORKSPACE` to it); the services use the signed-in
person's agency whatever the URL says. SQL and cell contents are shown as text by the templates' autoescaping.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import NotFoundException
from litestar.response import File, Response, Template

from govhub.access import Action
from govhub.catalog.model import Catalog
from govhub.config import Settings
from govhub.portal import auth
from govhub.portal.pages.steward import attachment
from govhub.portal.views import catalog_of, page, person, settings_of, today_of
from govhub.problems import GovhubError, Problem

QUERY = "/agencies/{agency:str}/query"
MAX_SQL = 20_000
SHOWN_ROWS = 500  # rows shown on the page (downloads carry all the query returned)
STAT_GROUPS = 30
MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def _tables(settings: Settings, catalog: Catalog, agency: str, today: Any) -> list[dict[str, Any]]:
    """What the analyst may query today: each table of the agency's scope, its fields, and why it is there."""
    from govhub.services.workspaces import agency_scope

    found = []
    for t in agency_scope(settings, catalog, agency, today).tables:
        try:
            labels = {f.name: f.label for f in catalog.resource(f"{t.agency}/{t.resource}").fields}
        except KeyError:
            labels = {}
        found.append({"name": t.name, "basis": t.basis.label, "grants": list(t.grant_ids),
                      "columns": [(c, labels.get(c, "")) for c in t.columns]})  # fmt: skip
    return found


def _agency(request: Request, agency: str) -> Catalog:
    catalog = catalog_of(settings_of(request))
    if agency not in catalog.agencies:
        raise NotFoundException()
    return catalog


def _query_page(request: Request, agency: str, sql: str, outcome: Any = None, problems: list[Problem] | None = None,
                ) -> Template:  # fmt: skip
    settings = settings_of(request)
    catalog = _agency(request, agency)
    tables = _tables(settings, catalog, agency, today_of(request))
    if not sql and tables:
        sql = f"SELECT * FROM {tables[0]['name']} LIMIT 20"
    result = outcome.result if outcome is not None else None
    if result is not None and result.error is not None:
        problems = [*(problems or []), result.error.problem()]
    rows = result.table.slice(0, SHOWN_ROWS).to_pylist() if result is not None and result.ok else []
    return page(request, "query.html", agency=catalog.agencies[agency], tables=tables, sql=sql, outcome=outcome,
                result=result if result is not None and result.ok else None, rows=rows, shown=SHOWN_ROWS,
                problems=problems or [])  # fmt: skip


@get(QUERY, opt=auth.allow(Action.QUERY))
async def query_page(request: Request, agency: str) -> Template:
    return await anyio.to_thread.run_sync(lambda: _query_page(request, agency, ""))


async def _sql_of(request: Request) -> tuple[str, dict[str, Any]]:
    form = await request.form()
    return str(form.get("sql", ""))[:MAX_SQL].strip(), {k: str(v) for k, v in form.items()}


@post(QUERY, opt=auth.allow(Action.QUERY), status_code=200)
async def run_query_form(request: Request, agency: str) -> Template:
    from govhub.services.query import run_sql

    settings, who, today = settings_of(request), person(request), today_of(request)
    sql, _ = await _sql_of(request)

    def work() -> Template:
        try:
            outcome = run_sql(settings, catalog_of(settings), sql, actor=who.id, today=today)
        except GovhubError as exc:
            return _query_page(request, agency, sql, problems=exc.problems)
        return _query_page(request, agency, sql, outcome)

    return await anyio.to_thread.run_sync(work)


@post(f"{QUERY}/download", opt=auth.allow(Action.QUERY), status_code=200)
async def download_query(request: Request, agency: str) -> Response | Template:
    """The query's rows as CSV or Parquet, run again now (the scope of today, recorded as a query and an export)."""
    from govhub.services.query import export, run_sql

    settings, who, today = settings_of(request), person(request), today_of(request)
    sql, form = await _sql_of(request)
    fmt = form.get("format", "")
    if fmt not in MEDIA:
        raise NotFoundException()

    def work() -> Response | Template:
        try:
            outcome = run_sql(settings, catalog_of(settings), sql, actor=who.id, today=today)
        except GovhubError as exc:
            return _query_page(request, agency, sql, problems=exc.problems)
        if not outcome.result.ok:
            return _query_page(request, agency, sql, outcome)
        with tempfile.TemporaryDirectory(prefix="govhub-export-") as tmp:
            written = export(settings, outcome, Path(tmp) / f"query.{fmt}", fmt, via="portal")
            content = written.read_bytes()
        stamp = today.strftime("%Y%m%d")
        return Response(content, media_type=MEDIA[fmt],
                        headers=attachment(f"{agency}-查询结果-{stamp}.{fmt}", f"{agency}-query-{stamp}.{fmt}"))  # fmt: skip

    return await anyio.to_thread.run_sync(work)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@get("/agencies/{agency:str}/statistics", opt=auth.allow(Action.QUERY))
async def statistics_page(request: Request, agency: str, table: str = "", column: str = "") -> Template:
    """Records per value of one field of one table in scope, as a table and a bar chart. The table and field are
    chosen from the scope's own lists (anything else shows nothing); the count runs as the analyst's query."""
    from govhub.services.query import run_sql

    settings, who, today = settings_of(request), person(request), today_of(request)

    def work() -> Template:
        catalog = _agency(request, agency)
        tables = _tables(settings, catalog, agency, today)
        chosen = next((t for t in tables if t["name"] == table), None)
        columns = [c for c, _ in chosen["columns"]] if chosen else []
        counts, problems, chart = [], [], ""
        if chosen and column in columns:
            schema, name = chosen["name"].split(".", 1)
            sql = (f"SELECT CAST({_quoted(column)} AS VARCHAR) AS value, count(*) AS records "
                   f"FROM {_quoted(schema)}.{_quoted(name)} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {STAT_GROUPS}")  # fmt: skip
            outcome = run_sql(settings, catalog, sql, actor=who.id, today=today)
            if outcome.result.ok:
                counts = [(r["value"], r["records"]) for r in outcome.result.table.to_pylist()]
                chart = json.dumps({"labels": ["（空）" if v is None else v for v, _ in counts],
                                    "values": [n for _, n in counts], "title": f"{chosen['name']} 按 {column} 统计"},
                                   ensure_ascii=False)  # fmt: skip
            else:
                problems = [outcome.result.error.problem()]
        return page(request, "statistics.html", agency=catalog.agencies[agency], tables=tables, table=table,
                    column=column, columns=columns, counts=counts, chart=chart, problems=problems,
                    groups=STAT_GROUPS)  # fmt: skip

    return await anyio.to_thread.run_sync(work)


@get("/agencies/{agency:str}/workspace.duckdb", opt=auth.allow(Action.DOWNLOAD_WORKSPACE))
async def workspace_download(request: Request, agency: str) -> File:
    """A copy of the agency's workspace file, current first (`services.workspaces.download`, recorded)."""
    from govhub.services.workspaces import download

    settings, who, today = settings_of(request), person(request), today_of(request)

    def work() -> File:
        _agency(request, agency)
        tmp = Path(tempfile.mkdtemp(prefix="govhub-workspace-"))
        try:
            path, _ = download(settings, catalog_of(settings), tmp / f"workspace-{agency}.duckdb", actor=who.id,
                               today=today)  # fmt: skip
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return File(path=path, filename=path.name, content_disposition_type="attachment",
                    media_type="application/octet-stream",
                    background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True))  # fmt: skip

    return await anyio.to_thread.run_sync(work)
