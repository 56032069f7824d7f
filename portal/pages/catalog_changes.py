"""Catalog changes (§10): a steward proposes the new entry of a resource from its page; the office reviews the queue
(each change as a diff against the entry in force) and approves or returns it.

The guards apply `PROPOSE_CATALOG_CHANGE` for the agency in the URL and `REVIEW_CATALOG_CHANGE` for the office's
moves; `services.catalog_changes` authorizes again, validates exactly as `govhub catalog validate` does and writes
the catalog file. A resource of another agency under an agency's URL, or an unknown change, is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from govhub.access import Action
from govhub.portal import auth
from govhub.portal.pages.catalog import resource_view
from govhub.portal.views import catalog_of, forget_catalog, page, person, resource_in, settings_of, today_of
from govhub.problems import GovhubError, Problem

OFFICE_QUEUE = "/office/catalog-changes"
MOVES = ("approve", "return")


def _in_thread(work: Callable[[], Any]) -> Any:
    return anyio.to_thread.run_sync(work)


@post("/agencies/{agency:str}/resources/{resource:str}/catalog-changes",
      opt=auth.allow(Action.PROPOSE_CATALOG_CHANGE), status_code=200)  # fmt: skip
async def propose_change(request: Request, agency: str, resource: str) -> Template | Redirect:
    """A steward proposes the resource's new entry; refused with the validator's problems, the text kept."""
    from govhub.services.catalog_changes import propose

    settings, who, today = settings_of(request), person(request), today_of(request)
    form = await request.form()
    typed = {"yaml_text": str(form.get("yaml_text", "")), "note": str(form.get("note", "")).strip()}

    def work() -> Template | Redirect:
        catalog = catalog_of(settings)
        res = resource_in(catalog, agency, resource)
        try:
            propose(settings, catalog, f"{res.agency}/{res.id}", actor=who.id, yaml_text=typed["yaml_text"],
                    note=typed["note"], today=today)  # fmt: skip
        except GovhubError as exc:
            return resource_view(request, agency, resource, problems=exc.problems, form=typed)
        return Redirect(f"/catalog/{agency}/{resource}#catalog-changes", status_code=303)

    return await _in_thread(work)


def _queue(request: Request, *, problems: list[Problem], status_code: int = 200) -> Template:
    from govhub.services.catalog_changes import diff_to_current, due_text, list_changes
    from govhub.states import ChangeState

    settings, who, today = settings_of(request), person(request), today_of(request)
    catalog = catalog_of(settings)
    changes = list_changes(settings, actor=who.id)
    pending = [{"c": c, "diff": diff_to_current(settings, catalog, c), "due": due_text(settings, c, today)}
               for c in changes if c.state is ChangeState.PENDING]  # fmt: skip
    recent = [c for c in changes if c.state is not ChangeState.PENDING][:50]
    return page(request, "office_catalog_changes.html", pending=pending, recent=recent, agencies=catalog.agencies,
                problems=problems, status_code=status_code)  # fmt: skip


@get(OFFICE_QUEUE, opt=auth.allow(Action.REVIEW_CATALOG_CHANGE))
async def catalog_changes_queue(request: Request) -> Template:
    return await _in_thread(lambda: _queue(request, problems=[]))


@post(f"{OFFICE_QUEUE}/{{change_id:str}}/{{move:str}}", opt=auth.allow(Action.REVIEW_CATALOG_CHANGE),
      status_code=200)  # fmt: skip
async def review_change(request: Request, change_id: str, move: str) -> Template | Redirect:
    """The office approves a change (the catalog file is replaced) or returns it with a reason."""
    from govhub.services import catalog_changes as svc

    if move not in MOVES:
        raise NotFoundException()
    settings, who = settings_of(request), person(request)
    form = await request.form()
    reason = str(form.get("reason", "")).strip()

    def work() -> Template | Redirect:
        try:
            svc.get_change(settings, change_id)
        except GovhubError:
            raise NotFoundException() from None
        try:
            if move == "approve":
                svc.approve(settings, change_id, actor=who.id)
                forget_catalog(settings)
            else:
                svc.return_change(settings, change_id, actor=who.id, reason=reason)
        except GovhubError as exc:
            return _queue(request, problems=exc.problems)
        return Redirect(OFFICE_QUEUE, status_code=303)

    return await _in_thread(work)
