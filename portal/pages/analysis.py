"""The analysts' pages (§14): SQL over their agency's workspace, downloads of the rows, a statistics view with a
chart, and the workspace file itself.

Every query goes through `services.query.run_sql` — the same authorization, sandbox, limits, scope refresh and
audit event as `govhub query`; downloads through `services.query.export` (provenance with the file, the export
recorded, CSV text cells neutralised) and `services.workspaces.download`. The agency in the URL must be the
analyst's own (the guard applies `Action.QUERY` / `DOWNLOAD_WORKSPACE` to it); the services use the signed-in
person's agency whatever the URL says. SQL and cell contents are shown as text by the templates' autoescaping.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import anyio.to_thread
import pyarrow as pa
from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import NotFoundException
from litestar.response import File, Response, Template

from govhub.access import Action
from govhub.catalog.model import Catalog
from govhub.clock import BEIJING
from govhub.config import Settings
from govhub.portal import auth
from govhub.portal.pages.steward import attachment
from govhub.portal.views import catalog_of, page, person, settings_of, today_of
from govhub.problems import GovhubError, Problem

QUERY = "/agencies/{agency:str}/query"
MAX_SQL = 20_000
SHOWN_ROWS = 500  # rows shown on the page (downloads carry all the query returned)
STAT_GROUPS = 30
SHOWN_BYTES = 32  # bytes of a BLOB shown as hex; longer ones end with their size
MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "zip": "application/zip"}
PROVENANCE_NOTE = (
    "来源说明.json"  # beside the CSV in its package: who, agency, grants, purposes, tables, date, rows
)


def _csv_package(written: Path, name: str) -> bytes:
    """The CSV and its provenance (`warehouse.export.write_csv`'s `.meta.json`) as one zip, so that whoever the file
    is passed on to learns where it came from (§17)."""
    import zipfile

    from govhub.warehouse.export import sidecar_path

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(written, f"{name}.csv")
        zf.write(sidecar_path(written), PROVENANCE_NOTE)
    return out.getvalue()


def interval_words(value: Any) -> str:
    """An interval in words: "1 年 2 个月 3 天 12:00:00" (a clock part only when there is one)."""
    from govhub.warehouse.export import clock_text

    months, days, nanos = value.months, value.days, value.nanoseconds
    years = int(months / 12)
    parts = [f"{n} {unit}" for n, unit in ((years, "年"), (months - years * 12, "个月"), (days, "天")) if n]
    if nanos or not parts:
        parts.append(clock_text(nanos))
    return " ".join(parts)


def cell(value: Any, t: pa.DataType) -> str | None:
    """One result cell as people read it, by its column's type; None (a NULL) stays None (an empty cell).
    Booleans 是/否, intervals in words, moments with a zone in Beijing time ("+08:00"), bytes as hex (long ones
    cut, with their size), lists, structs and maps as JSON (Chinese as is, null for missing values)."""
    from govhub.warehouse.export import hex_text, json_text

    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, pa.MonthDayNano):
        return interval_words(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(BEIJING).isoformat(sep=" ")
    if isinstance(value, bytes):
        if len(value) <= SHOWN_BYTES:
            return hex_text(value)
        return f"{hex_text(value[:SHOWN_BYTES])}…（共 {len(value)} 字节）"
    if isinstance(value, dt.timedelta):
        days, rest = divmod(value, dt.timedelta(days=1))
        clock = str(rest).rjust(8, "0")
        return f"{days} 天 {clock}" if days else clock
    if pa.types.is_nested(t) or pa.types.is_union(t) or isinstance(value, list | dict | tuple):
        return json_text(value, t, zone=BEIJING)
    return str(value)


def result_rows(table: pa.Table) -> list[list[str | None]]:
    """The rows as lists of shown cells, by column position (names may repeat: `SELECT 1 AS a, 2 AS a`)."""
    columns = [(column.to_pylist(), column.type) for column in table.columns]
    return [[cell(values[i], t) for values, t in columns] for i in range(table.num_rows)]


def _tables(settings: Settings, catalog: Catalog, agency: str, today: Any) -> list[dict[str, Any]]:
    """What the analyst may query today: each table of the agency's scope, its fields, and why it is there."""
    from govhub.services.workspaces import agency_scope

    found = []
    for t in agency_scope(settings, catalog, agency, today).tables:
        try:
            resource = catalog.resource(f"{t.agency}/{t.resource}")
            labels, title = {f.name: f.label for f in resource.fields}, resource.name
        except KeyError:
            labels, title = {}, ""
        found.append({"name": t.name, "title": title, "basis": t.basis.label, "grants": list(t.grant_ids),
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
    rows = result_rows(result.table.slice(0, SHOWN_ROWS)) if result is not None and result.ok else []
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
    if fmt not in ("csv", "parquet"):
        raise NotFoundException()

    def work() -> Response | Template:
        try:
            outcome = run_sql(settings, catalog_of(settings), sql, actor=who.id, today=today)
        except GovhubError as exc:
            return _query_page(request, agency, sql, problems=exc.problems)
        if not outcome.result.ok:
            return _query_page(request, agency, sql, outcome)
        with tempfile.TemporaryDirectory(prefix="govhub-export-") as tmp:
            try:
                written = export(settings, outcome, Path(tmp) / f"query.{fmt}", fmt, via="portal")
            except GovhubError as exc:  # a type the file format cannot hold: said on the page
                return _query_page(request, agency, sql, problems=exc.problems)
            stamp = today.strftime("%Y%m%d")
            if fmt == "csv":  # a CSV has no room for its provenance: it travels beside it, in one package
                content, sent = _csv_package(written, f"{agency}-查询结果-{stamp}"), "zip"
            else:  # Parquet keeps it in the file's own metadata
                content, sent = written.read_bytes(), fmt
        return Response(content, media_type=MEDIA[sent],
                        headers=attachment(f"{agency}-查询结果-{stamp}.{sent}", f"{agency}-query-{stamp}.{sent}"))  # fmt: skip

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
        labels = dict(chosen["columns"]) if chosen else {}
        columns = list(labels)
        column_label = labels.get(column, "")
        counts, problems, chart = [], [], ""
        if chosen and column in columns:
            schema, name = chosen["name"].split(".", 1)
            sql = (f"SELECT CAST({_quoted(column)} AS VARCHAR) AS value, count(*) AS records "
                   f"FROM {_quoted(schema)}.{_quoted(name)} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {STAT_GROUPS}")  # fmt: skip
            outcome = run_sql(settings, catalog, sql, actor=who.id, today=today)
            if outcome.result.ok:
                counts = [(r["value"], r["records"]) for r in outcome.result.table.to_pylist()]
                title = f"{chosen['title'] or chosen['name']} 按 {column_label or column} 统计"
                chart = json.dumps({"labels": ["（空）" if v is None else v for v, _ in counts],
                                    "values": [n for _, n in counts], "title": title}, ensure_ascii=False)  # fmt: skip
            else:
                problems = [outcome.result.error.problem()]
        return page(request, "statistics.html", agency=catalog.agencies[agency], tables=tables, table=table,
                    column=column, columns=columns, labels=labels, column_label=column_label, chosen=chosen,
                    counts=counts, chart=chart, problems=problems, groups=STAT_GROUPS)  # fmt: skip

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
