"""The home page, by role: a steward sees what their agency owes, the office and engineers the district's state."""

from __future__ import annotations

from collections import Counter
from typing import Any

from litestar import Request, get
from litestar.response import Template

from govhub.access import Action
from govhub.config import Settings
from govhub.people import Person
from govhub.portal import auth
from govhub.portal.views import catalog_of, freshness_today, page, person, settings_of
from govhub.states import FreshnessState, RequestState


@get("/", opt=auth.signed_in(), sync_to_thread=True)
def home(request: Request) -> Template:
    settings, who = settings_of(request), person(request)
    catalog = catalog_of(settings)
    rows = freshness_today(settings, catalog)
    own_resources = catalog.of_agency(who.agency) if who.agency else []
    # "本机构待办" only for an agency with resources to deliver (the office's 科委 has none: nothing to say of them)
    steward = bool(own_resources) and auth.may(request, Action.UPLOAD, who.agency)
    oversee = auth.may(request, Action.OVERSEE)
    mine = [r for r in rows if r.agency == who.agency]
    owed = [r for r in (rows if oversee and not steward else mine) if not r.state.passing]
    counts = Counter(r.state for r in rows)
    agency = catalog.agencies.get(who.agency)
    return page(request, "home.html", agency=agency, steward=steward, oversee=oversee, mine=mine, owed=owed,
                counts=[(s, counts.get(s, 0)) for s in FreshnessState], total=len(rows),
                own_resources=own_resources, sharing=_sharing_todo(request, settings, who))  # fmt: skip


def _sharing_todo(request: Request, settings: Settings, who: Person) -> dict[str, Any] | None:
    """What sharing asks of this person now: the office's open queue, or their agency's requests waiting for its
    answer and its own open requests (one query over open requests); and whether they may query."""
    from govhub.governance.requests import list_requests

    office = auth.may(request, Action.COORDINATE_SHARING)
    if not office and not (who.agency and auth.may(request, Action.VIEW_SHARING, who.agency)):
        return None
    open_requests = list_requests(settings, agency=None if office else who.agency,
                                  states=[s for s in RequestState if s.open])  # fmt: skip
    answer = auth.may(request, Action.ANSWER_SHARING, who.agency) if who.agency else False
    waiting = [r for r in open_requests if r.provider == who.agency and r.state in (RequestState.FORWARDED,
                                                                                   RequestState.ESCALATED)]  # fmt: skip
    return {"office": office, "queue": len(open_requests) if office else 0, "to_answer": len(waiting) if answer else 0,
            "own_open": sum(1 for r in open_requests if r.consumer == who.agency),
            "query": bool(who.agency) and auth.may(request, Action.QUERY, who.agency)}  # fmt: skip
