"""The catalog (§7–§10) for everyone signed in: browse and search, and one resource's page."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from govhub.access import Action
from govhub.catalog.model import ResourceClass, ShareType, UpdateCycle
from govhub.portal import auth
from govhub.portal.views import catalog_of, freshness_today, page, person, resource_in, settings_of
from govhub.states import FreshnessState

NOT_IN_FORCE = "not_in_force"


@get("/catalog", opt=auth.signed_in(), sync_to_thread=True)
def catalog_page(
    request: Request,
    agency: str | None = None,
    cls: str | None = None,
    share: str | None = None,
    cycle: str | None = None,
    feed_state: Annotated[str | None, Parameter(query="state")] = None,
    q: str | None = None,
) -> Template:

    settings = settings_of(request)
    catalog = catalog_of(settings)
    freshness = {(r.agency, r.resource): r for r in freshness_today(settings, catalog)}
    text = (q or "").strip().lower()
    rows = []
    for r in catalog.resources:
        fresh = freshness.get(r.key)
        state_value = fresh.state.value if fresh else NOT_IN_FORCE
        if (
            (agency and r.agency != agency)
            or (cls and r.resource_class.value != cls)
            or (share and r.share.type.value != share)
            or (cycle and r.cycle.value != cycle)
            or (feed_state and state_value != feed_state)
            or (text and not any(text in v.lower() for v in (r.name, r.code, r.summary, r.id, *r.tags)))
        ):
            continue
        rows.append((r, catalog.agencies.get(r.agency), fresh))
    filters = {"agency": agency or "", "cls": cls or "", "share": share or "", "cycle": cycle or "",
               "state": feed_state or "", "q": q or ""}  # fmt: skip
    return page(request, "catalog.html", rows=rows, filters=filters, agencies=catalog.agencies.values(),
                classes=list(ResourceClass), shares=list(ShareType), cycles=list(UpdateCycle),
                states=list(FreshnessState), total=len(catalog.resources))  # fmt: skip


@get("/catalog/{agency:str}/{resource:str}", opt=auth.signed_in(), sync_to_thread=True)
def resource_page(request: Request, agency: str, resource: str) -> Template:
    from govhub.events import list_events
    from govhub.expectations.docs import data_docs_index
    from govhub.warehouse.snapshots import current_info

    settings, who = settings_of(request), person(request)
    catalog = catalog_of(settings)
    res = resource_in(catalog, agency, resource)
    fresh = next((r for r in freshness_today(settings, catalog) if (r.agency, r.resource) == res.key), None)
    info = current_info(settings, res)
    last = list_events(settings, kind="load.*", subject=f"{res.agency}/{res.id}", newest_first=True, limit=1)
    docs = auth.may(settings, who, Action.OVERSEE) and data_docs_index(settings).exists()
    return page(request, "resource.html", r=res, agency=catalog.agencies.get(res.agency), fresh=fresh,
                info=None if info is None or info.initial else info, last_load=last[0] if last else None,
                last_status=_status_zh(last[0].kind) if last else None,
                docs=docs, can_deliver=auth.may(settings, who, Action.UPLOAD, res.agency))  # fmt: skip


def _status_zh(kind: str) -> str:
    """A load event's outcome as people read it ("load.published" → 已发布)."""
    from govhub.states import LoadStatus

    try:
        return LoadStatus(kind.removeprefix("load.")).label
    except ValueError:
        return "载入记录"
