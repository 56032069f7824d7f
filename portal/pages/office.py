"""Office pages (§16, §18–§19): every agency's freshness, overdue feeds, scorecards with charts, the audit log."""

from __future__ import annotations

import datetime as dt
import json
import mimetypes
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import File, Template

from govhub.access import Action
from govhub.portal import auth
from govhub.portal.event_text import KIND_FAMILIES, kind_label, payload_items
from govhub.portal.views import catalog_of, freshness_today, is_htmx, page, settings_of, today_of
from govhub.states import FreshnessState

LATE = (FreshnessState.OVERDUE, FreshnessState.STALE)


@get("/office/freshness", opt=auth.allow(Action.OVERSEE), sync_to_thread=True)
def freshness_board(
    request: Request,
    feed_state: Annotated[str | None, Parameter(query="state")] = None,
    agency: str | None = None,
) -> Template:
    state = feed_state

    settings = settings_of(request)
    catalog = catalog_of(settings)
    rows = freshness_today(settings, catalog)
    by_agency: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        by_agency[r.agency][r.state] += 1
    board = [(a, by_agency.get(a.id, Counter())) for a in catalog.agencies.values() if not a.coordinator]
    shown = [
        r for r in rows
        if (not state or r.state.value == state or (state == "late" and r.state in LATE))
        and (not agency or r.agency == agency)
    ]  # fmt: skip
    overdue = sorted((r for r in rows if r.state in LATE), key=lambda r: -r.overdue_working_days)
    return page(request, "freshness.html", board=board, rows=shown, overdue=overdue, states=list(FreshnessState),
                agencies=catalog.agencies, state=state or "", agency=agency or "")  # fmt: skip


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


SCORECARD_FLOOR = dt.date(2000, 1, 1)  # no scorecard window reaches before it (a typo such as 0001-01-01)


def _scorecard_dates(
    start_text: str | None, end_text: str | None, today: dt.date, since: dt.date | None
) -> tuple[dt.date | None, dt.date | None, list[str]]:
    """The window's start and end as asked, made sensible, and what the page tells the user it changed: a start
    after today (nothing has fallen due yet) gives this quarter so far; a day before 2000 is a typo, the window
    starts when the hub went into service (or on 2000-01-01); an end after today ends today; start and end the
    wrong way round are swapped."""
    notes: list[str] = []
    start, end = _date(start_text), _date(end_text)
    for text, day, what in ((start_text, start, "起始日期"), (end_text, end, "截止日期")):
        if text and day is None:
            notes.append(f"{what}“{text[:20]}”不是有效日期（应为 YYYY-MM-DD），已忽略。")
    floor = max(since, SCORECARD_FLOOR) if since else SCORECARD_FLOOR
    if start and start > today:
        notes.append(
            f"起始日期 {start} 晚于今天（{today}），尚无到期的报送周期可以考核，已改为显示本季度至今。"
        )
        return None, None, notes
    if start and start < SCORECARD_FLOOR:
        began = "（平台启用日期）" if since and floor == since else ""
        notes.append(f"起始日期 {start} 早于 {SCORECARD_FLOOR}，已改为从 {floor}{began}起。")
        start = floor
    if end and end < SCORECARD_FLOOR:
        notes.append(f"截止日期 {end} 早于 {SCORECARD_FLOOR}，已忽略，截止到今天。")
        end = None
    if end and end > today:
        notes.append(f"截止日期 {end} 晚于今天，尚未到期的报送周期不计入考核，已截止到今天（{today}）。")
        end = today
    if start and end and start > end:
        notes.append(f"起始日期 {start} 晚于截止日期 {end}，已将两者对调。")
        start, end = end, start
    return start, end, notes


@get("/office/scorecards", opt=auth.allow(Action.OVERSEE), sync_to_thread=True)
def scorecards(request: Request, start: str | None = None, end: str | None = None) -> Template:
    from govhub.governance.scorecard import (
        RECTIFY_BELOW,
        agency_scores,
        in_service_note,
        percent_text,
        scorecard_window,
    )

    settings = settings_of(request)
    today = today_of(request)
    asked_start, asked_end, notes = _scorecard_dates(start, end, today, settings.in_service_since)
    first, last = scorecard_window(asked_start, asked_end, today=today)
    # no start given and an end before this quarter began: the quarter's first day is after it
    if first > last:
        first, last = last, first
    scores = agency_scores(settings, catalog_of(settings), first, last)
    labels = {
        "catalog_compiled": "目录编制", "catalog_up_to_date": "目录及时", "annual_review": "年度维护",
        "aggregated": "已归集", "refreshed_on_time": "按期更新",
    }  # fmt: skip
    chart = {  # read by portal.js (no inline script under the CSP)
        "agencies": [s.name for s in scores],
        "score": [s.score for s in scores],
        "line": RECTIFY_BELOW,
        "series": [{"name": n, "data": [s.rates[k] for s in scores]} for k, n in labels.items()],
    }
    return page(request, "scorecards.html", scores=scores, start=first, end=last, labels=labels,
                in_service=in_service_note(scores, first), notes=notes,
                chart=json.dumps(chart, ensure_ascii=False), pct=percent_text, line=RECTIFY_BELOW)  # fmt: skip


@get("/office/events", opt=auth.allow(Action.AUDIT), sync_to_thread=True)
def events_page(
    request: Request,
    kind: str | None = None,
    agency: str | None = None,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Template:
    filters = {"kind": kind, "agency": agency, "actor": actor, "since": since, "until": until}
    return page(request, "events.html", **_events_context(request, {k: v or "" for k, v in filters.items()}))


def _events_context(request: Request, filters: dict[str, str] | None = None) -> dict[str, Any]:
    """What the audit log page shows: the newest events under the filters, and the helpers that word them."""
    from govhub.clock import BEIJING
    from govhub.events import list_events

    def moment(day: dt.date | None, plus: int = 0) -> dt.datetime | None:
        if day is None:
            return None
        return dt.datetime.combine(day + dt.timedelta(days=plus), dt.time(), tzinfo=BEIJING)

    from govhub.people import names_of

    settings = settings_of(request)
    f = filters or dict.fromkeys(("kind", "agency", "actor", "since", "until"), "")
    actors = names_of(settings, f["actor"]) if f["actor"] else None  # under the login and the name alike
    events = list_events(settings, kind=f["kind"] or None, agency=f["agency"] or None, actors=actors,
                         since=moment(_date(f["since"])), until=moment(_date(f["until"]), 1), newest_first=True,
                         limit=200)  # fmt: skip
    catalog = catalog_of(settings)
    resources = {f"{r.agency}/{r.id}" for r in catalog.resources}
    return dict(events=events, filters=f, agencies=catalog.agencies, kind_label=kind_label,
                families=KIND_FAMILIES, payload=lambda e: payload_items(e.payload, catalog.agencies),
                subject_link=lambda e: _subject_link(resources, e.subject, e.agency))  # fmt: skip


def _subject_link(resources: set[str], subject: str, agency: str | None) -> str | None:
    """Where the portal shows what an event is about: a request's page (under the agency the event is filed
    under, a party to it), a resource's page."""
    what, _, name = subject.partition("/")
    if what == "request" and agency:
        return f"/agencies/{agency}/sharing/requests/{name}"
    return f"/catalog/{subject}" if subject in resources else None


@post("/office/events/verify", opt=auth.allow(Action.AUDIT), status_code=200, sync_to_thread=True)
def verify_events(request: Request) -> Template:
    from govhub.events import chain_head, verify_chain

    settings = settings_of(request)
    problems = verify_chain(settings)
    if not is_htmx(request):  # the form sent without JavaScript: the whole audit log page, with the result
        return page(request, "events.html", **_events_context(request), verified=True, problems=problems,
                    head=chain_head(settings))  # fmt: skip
    return page(request, "_verify.html", problems=problems, head=chain_head(settings))


DOCS_MEDIA_TYPES = {  # what Data Docs' site holds, shown in the browser (Litestar adds "; charset=utf-8" to text/*)
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
}


@get("/data-docs/{path:path}", opt=auth.allow(Action.OVERSEE), sync_to_thread=True)
def data_docs(request: Request, path: str) -> File:
    """Great Expectations' Data Docs of the hub (validation results of every resource), for the office and
    engineers; only files inside the site's folder."""
    from govhub.expectations.docs import data_docs_index

    root = data_docs_index(settings_of(request)).parent.resolve()
    target = (root / path.lstrip("/")).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFoundException()
    media_type = DOCS_MEDIA_TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0]
    return File(path=Path(target), filename=target.name, content_disposition_type="inline",
                media_type=media_type or "application/octet-stream")  # fmt: skip
