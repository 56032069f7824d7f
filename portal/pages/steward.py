"""Steward pages (§11): the agency's feeds and ledger, fill-in templates, uploads with their outcome and history,
zero updates.

The agency is in every URL and the guard allows exactly who `Action.UPLOAD` / `Action.ZERO_UPDATE` allow for it (the
agency's stewards, the office); the services authorize again when they act. Nothing here decides anything: the upload
goes to `upload_sheet` as the file was received, the declaration to `declare_zero_update`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path, PurePath
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.response import File, Response, Template

from govhub.access import Action
from govhub.portal import auth
from govhub.portal.views import catalog_of, freshness_today, is_htmx, page, person, resource_in, settings_of
from govhub.problems import GovhubError, Problem

RESOURCE = "/agencies/{agency:str}/resources/{resource:str}"
LOAD_ID = re.compile(r"^[0-9A-Za-z_.-]{1,80}$")
_CHUNK = 1 << 20


def attachment(filename: str, fallback: str) -> dict[str, str]:
    """A download's Content-Disposition with its Chinese name (RFC 6266/5987) and an ASCII fallback."""
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"}


@get("/agencies/{agency:str}/feeds", opt=auth.allow(Action.UPLOAD), sync_to_thread=True)
def feeds_page(request: Request, agency: str) -> Template:
    from govhub.governance.ledger import ledger_rows

    settings = settings_of(request)
    catalog = catalog_of(settings)
    if agency not in catalog.agencies:
        raise NotFoundException()
    feeds = [r for r in freshness_today(settings, catalog) if r.agency == agency]
    resources = {r.id: r for r in catalog.of_agency(agency)}
    ledger = sorted(ledger_rows(settings, agency=agency), key=lambda e: e.at, reverse=True)[:100]
    return page(request, "feeds.html", agency=catalog.agencies[agency], feeds=feeds, resources=resources,
                ledger=ledger)  # fmt: skip


def _deliver_context(request: Request, agency: str, resource: str, before: int | None = None) -> dict:
    from govhub.governance.ledger import ledger_rows
    from govhub.services.history import deliveries

    settings = settings_of(request)
    catalog = catalog_of(settings)
    res = resource_in(catalog, agency, resource)
    fresh = next((r for r in freshness_today(settings, catalog) if (r.agency, r.resource) == res.key), None)
    ledger = sorted(
        ledger_rows(settings, agency=agency, resource=res.id), key=lambda e: e.period, reverse=True
    )
    owed = fresh.period if fresh and not fresh.state.passing else ""
    limit_mb = request.app.state["portal"].max_upload_bytes >> 20
    return {"r": res, "agency": catalog.agencies.get(agency), "fresh": fresh, "ledger": ledger[:24],
            "owed": owed, "limit_mb": limit_mb, "before": before,
            "history": deliveries(settings, res, actor=person(request).id, before=before)}  # fmt: skip


@get(f"{RESOURCE}/deliver", opt=auth.allow(Action.UPLOAD), sync_to_thread=True)
def deliver_page(request: Request, agency: str, resource: str, before: str | None = None) -> Template:
    """`before`: the delivery history goes back from that event (the "更早的报送记录" link); anything but a number
    shows the latest."""
    older = int(before) if before and re.fullmatch(r"[0-9]{1,18}", before) else None  # ASCII digits only
    return page(request, "deliver.html", **_deliver_context(request, agency, resource, older), outcome=None,
                declared=None)  # fmt: skip


@get(f"{RESOURCE}/template.xlsx", opt=auth.allow(Action.UPLOAD), sync_to_thread=True)
def template_download(request: Request, agency: str, resource: str) -> Response:
    from govhub.services.templates import issue_template

    settings = settings_of(request)
    catalog = catalog_of(settings)
    res = resource_in(catalog, agency, resource)
    with tempfile.TemporaryDirectory(prefix="govhub-template-") as tmp:
        path = issue_template(settings, catalog, res, Path(tmp) / "template.xlsx")
        content = path.read_bytes()
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=attachment(f"{res.name}-填报模板.xlsx", f"{res.id}-template.xlsx"),
    )


def _safe_name(filename: str | None) -> str:
    """The uploaded file's own name, without any folder part (landing records it; the suffix says its type)."""
    name = PurePath((filename or "").replace("\\", "/")).name.strip().lstrip(".")
    return (name or "upload")[-120:]


async def _save(upload_file: UploadFile, dest: Path) -> None:
    """Copy the spooled upload to a file of our own, chunk by chunk (it may be tens of MB)."""
    with dest.open("wb") as out:
        while chunk := await upload_file.read(_CHUNK):
            out.write(chunk)


@post(f"{RESOURCE}/upload", opt=auth.allow(Action.UPLOAD), status_code=200)
async def upload(request: Request, agency: str, resource: str) -> Template:
    from govhub.services.upload import upload_sheet

    settings, who = settings_of(request), person(request)
    res = resource_in(catalog_of(settings), agency, resource)
    form = await request.form()
    sheet = form.get("sheet")
    outcome, problems = None, []
    if not isinstance(sheet, UploadFile) or not sheet.filename:
        problems = [Problem("sheet.no_upload", "请选择要上传的填报文件（.xlsx 或 .csv）")]
    else:
        tmp = Path(tempfile.mkdtemp(prefix="govhub-upload-"))
        try:
            path = tmp / _safe_name(sheet.filename)
            await _save(sheet, path)
            await sheet.close()
            try:
                outcome = await anyio.to_thread.run_sync(
                    lambda: upload_sheet(settings, res, path, actor=who.id, via="portal")
                )
            except GovhubError as exc:  # AccessDenied included: the service's own refusal, in Chinese
                problems = exc.problems
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    context = {"outcome": outcome, "problems": problems, "r": res}
    full = await anyio.to_thread.run_sync(lambda: _deliver_context(request, agency, resource))
    if is_htmx(request):  # the outcome; the status, history and ledger brought up to date (out of band)
        return page(request, "_upload_result.html", **{**full, **context})
    return page(request, "deliver.html", **{**full, **context, "declared": None})


@post(f"{RESOURCE}/zero-update", opt=auth.allow(Action.ZERO_UPDATE), status_code=200)
async def zero_update(request: Request, agency: str, resource: str) -> Template:
    from govhub.services.zero_update import declare_zero_update

    settings, who = settings_of(request), person(request)
    res = resource_in(catalog_of(settings), agency, resource)
    form = await request.form()
    period = str(form.get("period", "")).strip() or None
    note = str(form.get("note", "")).strip()[:500] or None
    try:
        entry = await anyio.to_thread.run_sync(
            lambda: declare_zero_update(settings, res, actor=who.id, period=period, note=note)
        )
        problems: list[Problem] = []
    except GovhubError as exc:
        entry, problems = None, exc.problems
    context = {"declared": entry, "zero_problems": problems, "r": res}
    full = await anyio.to_thread.run_sync(lambda: _deliver_context(request, agency, resource))
    if is_htmx(request):  # the answer; the status and ledger brought up to date (out of band)
        return page(request, "_zero_result.html", **{**full, **context})
    return page(request, "deliver.html", **{**full, **context, "outcome": None})


def _report_dir(request: Request, agency: str, resource: str, load_id: str) -> Path:
    if not LOAD_ID.match(load_id):
        raise NotFoundException()
    settings = settings_of(request)
    res = resource_in(catalog_of(settings), agency, resource)
    from govhub.warehouse.reports import report_dir

    folder = report_dir(settings, res, load_id)
    if not folder.is_dir():
        raise NotFoundException()
    return folder


@get(f"{RESOURCE}/loads/{{load_id:str}}/annotated.xlsx", opt=auth.allow(Action.UPLOAD), sync_to_thread=True)
def annotated_workbook(request: Request, agency: str, resource: str, load_id: str) -> File:
    folder = _report_dir(request, agency, resource, load_id)
    from govhub.services.loads import ANNOTATED_NAME

    found = sorted(folder.glob(f"*{ANNOTATED_NAME}"))
    if not found:
        raise NotFoundException()
    return File(path=found[0], filename=found[0].name, content_disposition_type="attachment")


@get(f"{RESOURCE}/loads/{{load_id:str}}/problems.csv", opt=auth.allow(Action.UPLOAD), sync_to_thread=True)
def problems_csv(request: Request, agency: str, resource: str, load_id: str) -> Response:
    """The load's problems as CSV, every cell neutralised (a delivered `=HYPERLINK(…)` stays text in Excel)."""
    import csv
    import io

    from govhub.problems import code_info
    from govhub.warehouse.meta import read_json
    from govhub.warehouse.reports import csv_cell

    folder = _report_dir(request, agency, resource, load_id)
    if not (folder / "problems.json").is_file():
        raise NotFoundException()
    problems = [Problem.from_dict(p) for p in read_json(folder / "problems.json").get("problems", [])]
    buf = io.StringIO()
    writer = csv.writer(buf)
    # for the steward: the problem's kind in words and 是/否; the stable code last, for whoever they ask for help
    writer.writerow(["行", "列", "值", "应为", "问题", "问题类别", "信息项", "阻止发布", "代码"])
    for p in problems:
        writer.writerow([csv_cell(v) for v in (p.row, p.column, p.value, p.expected, p.message_zh,
                                               code_info(p.code).title_zh, p.field, "是" if p.blocking else "否",
                                               p.code)])  # fmt: skip
    return Response(
        "\ufeff" + buf.getvalue(),
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
        headers=attachment(f"{resource}-{load_id}-问题清单.csv", f"{resource}-{load_id}-problems.csv"),
    )
