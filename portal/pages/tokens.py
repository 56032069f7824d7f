"""The agency's docking API tokens (资源共享对接服务): list, issue — the secret shown once, on the answer to the form
and never again — and revoke. For the agency's steward and the office (`Action.MANAGE_TOKENS`, applied by the guard
with the agency from the URL); `services.tokens` authorizes again when it acts."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from govhub.access import Action
from govhub.portal import auth
from govhub.portal.views import catalog_of, page, person, settings_of
from govhub.problems import GovhubError, Problem

TOKENS = "/agencies/{agency:str}/tokens"


def _context(request: Request, agency: str) -> dict[str, Any]:
    from govhub.services.tokens import list_tokens

    settings = settings_of(request)
    catalog = catalog_of(settings)
    if agency not in catalog.agencies:
        raise NotFoundException()
    tokens = list_tokens(settings, actor=person(request).id, agency=agency)
    base = str(request.base_url).rstrip("/")
    return {"agency": catalog.agencies[agency], "tokens": tokens, "api_url": f"{base}/api/v1"}


def _answer(request: Request, agency: str, **extra: Any) -> Template:
    response = page(request, "tokens.html", **_context(request, agency), **extra)
    response.headers["Cache-Control"] = "no-store"  # a page that may carry a secret is kept by no cache
    return response


@get(TOKENS, opt=auth.allow(Action.MANAGE_TOKENS))
async def tokens_page(request: Request, agency: str) -> Template:
    # async with its work in a thread, not sync_to_thread: Litestar 2.25 wrapped a sync_to_thread handler twice when
    # a POST joined its path after it, and the page answered 500 (an unawaited coroutine)
    return await anyio.to_thread.run_sync(
        lambda: _answer(request, agency, issued=None, problems=[], revoked=None)
    )


@post(TOKENS, opt=auth.allow(Action.MANAGE_TOKENS), status_code=200)
async def issue_token(request: Request, agency: str) -> Template:
    from govhub.services.tokens import create_token

    settings, who = settings_of(request), person(request)
    system = str((await request.form()).get("system", ""))[:500]

    def work() -> Template:
        try:
            issued = create_token(settings, catalog_of(settings), agency=agency, system=system, actor=who.id)
        except GovhubError as exc:
            return _answer(request, agency, issued=None, problems=exc.problems, revoked=None)
        return _answer(request, agency, issued=issued, problems=[], revoked=None)

    return await anyio.to_thread.run_sync(work)


@post(f"{TOKENS}/revoke", opt=auth.allow(Action.MANAGE_TOKENS), status_code=200)
async def revoke_token_form(request: Request, agency: str) -> Template:
    from govhub.services.tokens import get_token, revoke_token

    settings, who = settings_of(request), person(request)
    token_id = str((await request.form()).get("token_id", ""))[:40]

    def work() -> Template:
        try:
            # another agency's token under this agency's URL
            if get_token(settings, token_id).agency != agency:
                raise GovhubError(
                    Problem("token.unknown", f"本部门没有编号为“{token_id}”的接口令牌", value=token_id)
                )
            revoked = revoke_token(settings, token_id, actor=who.id)
        except GovhubError as exc:
            return _answer(request, agency, issued=None, problems=exc.problems, revoked=None)
        return _answer(request, agency, issued=None, problems=[], revoked=revoked)

    return await anyio.to_thread.run_sync(work)
