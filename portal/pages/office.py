"""Office pages (§16, §18–§19): every agency's freshness, overdue feeds, scorecards with charts, the audit log."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import File, Template

from govhub.access import Action
from govhub.catalog.model import Catalog
from govhub.portal import auth
from govhub.portal.event_text import KIND_FAMILIES, kind_label, payload_items
from govhub.portal.views import catalog_of, freshness_today, page, settings_of, today_of
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
    first, last = scorecard_window(_date(start), _date(end), today=today_of(request))
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
                in_service=in_service_note(scores, first),
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
    from govhub.clock import BEIJING
    from govhub.events import list_events

    def moment(day: dt.date | None, plus: int = 0) -> dt.datetime | None:
        if day is None:
            return None
        return dt.datetime.combine(day + dt.timedelta(days=plus), dt.time(), tzinfo=BEIJING)

    settings = settings_of(request)
    from govhub.people import names_of

    actors = names_of(settings, actor) if actor else None  # under the login and the name alike
    events = list_events(settings, kind=kind or None, agency=agency or None, actors=actors,
                         since=moment(_date(since)), until=moment(_date(until), 1), newest_first=True,
                         limit=200)  # fmt: skip
    filters = {"kind": kind or "", "agency": agency or "", "actor": actor or "", "since": since or "",
               "until": until or ""}  # fmt: skip
    catalog = catalog_of(settings)
    return page(request, "events.html", events=events, filters=filters, agencies=catalog.agencies,
                kind_label=kind_label, families=KIND_FAMILIES, payload=lambda e: payload_items(e.payload, catalog.agencies),
                subject_link=lambda e: _subject_link(catalog, e.subject, e.agency))  # fmt: skip


def _subject_link(catalog: Catalog, subject: str, agency: str | None) -> str | None:
    """Where the portal shows what an event is about: a request's page (under its consumer), a resource's page."""
    what, _, name = subject.partition("/")
    if what == "request" and agency:
        return f"/agencies/{agency}/sharing/requests/{name}"
    return f"/catalog/{subject}" if any(subject == f"{r.agency}/{r.id}" for r in catalog.resources) else None


@post("/office/events/verify", opt=auth.allow(Action.AUDIT), status_code=200, sync_to_thread=True)
def verify_events(request: Request) -> Template:
    from govhub.events import chain_head, verify_chain

    settings = settings_of(request)
    problems = verify_chain(settings)
    return page(request, "_verify.html", problems=problems, head=chain_head(settings))


@get("/data-docs/{path:path}", opt=auth.allow(Action.OVERSEE), sync_to_thread=True)
def data_docs(request: Request, path: str) -> File:
    """Great Expectations' Data Docs of the hub (validation results of every resource), for the office and
    engineers; only files inside the site's folder."""
    from govhub.expectations.docs import data_docs_index

    root = data_docs_index(settings_of(request)).parent.resolve()
    target = (root / path.lstrip("/")).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFoundException()
    return File(path=Path(target), content_disposition_type="inline")
