"""The home page, by role: a steward sees what their agency owes, the office and engineers the district's state."""

from __future__ import annotations

from collections import Counter

from litestar import Request, get
from litestar.response import Template

from govhub.access import Action
from govhub.portal import auth
from govhub.portal.views import catalog_of, freshness_today, page, person, settings_of
from govhub.states import FreshnessState


@get("/", opt=auth.signed_in(), sync_to_thread=True)
def home(request: Request) -> Template:

    settings, who = settings_of(request), person(request)
    catalog = catalog_of(settings)
    rows = freshness_today(settings, catalog)
    steward = auth.may(settings, who, Action.UPLOAD, who.agency)
    oversee = auth.may(settings, who, Action.OVERSEE)
    mine = [r for r in rows if r.agency == who.agency]
    owed = [r for r in (rows if oversee and not steward else mine) if not r.state.passing]
    counts = Counter(r.state for r in rows)
    agency = catalog.agencies.get(who.agency)
    return page(request, "home.html", agency=agency, steward=steward, oversee=oversee, mine=mine, owed=owed,
                counts=[(s, counts.get(s, 0)) for s in FreshnessState], total=len(rows),
                own_resources=catalog.of_agency(who.agency))  # fmt: skip
