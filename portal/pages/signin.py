"""Sign-in and sign-out (§16): the sign-in service decides, the page starts or ends the session."""

from __future__ import annotations

import anyio.to_thread
from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.middleware.csrf import generate_csrf_token
from litestar.response import Redirect, Response, Template

from govhub.portal import auth
from govhub.portal.app import CSRF_COOKIE
from govhub.portal.config import portal_secret
from govhub.portal.sessions import rotate_session
from govhub.portal.views import page, settings_of
from govhub.services.accounts import SIGN_IN_REFUSED_ZH, record_sign_out, sign_in


def _next(target: str | None) -> str:
    """Only a path on this site (never `//elsewhere` or a full address): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@get("/signin", opt=auth.public(), name="signin")
async def sign_in_form(request: Request, next: str | None = None) -> Response | Template:
    if auth.person_of(request) is not None:
        return Redirect(path="/")
    return page(request, "signin.html", next=_next(next), login="", error=None)


@post("/signin", opt=auth.public(), status_code=200)
async def sign_in_submit(request: Request) -> Response | Template:
    form = await request.form()
    login, password = str(form.get("login", "")), str(form.get("password", ""))
    settings, config = settings_of(request), request.app.state["portal"]
    now = config.now()
    client = request.client.host if request.client else None
    signed = await anyio.to_thread.run_sync(
        lambda: sign_in(settings, login, password, at=now, policy=config.sign_in, client=client)
    )
    if signed is None:
        return page(request, "signin.html", next=_next(str(form.get("next", ""))), login=login[:100],
                    error=SIGN_IN_REFUSED_ZH, status_code=401)  # fmt: skip
    csrf = generate_csrf_token(portal_secret(settings))
    agent = request.headers.get("user-agent")
    await rotate_session(
        request, auth.session_data(request, signed.person, signed.seal, now, csrf, client=client, agent=agent)
    )
    cookie = Cookie(key=CSRF_COOKIE, value=csrf, httponly=True, samesite="lax", secure=config.secure_cookies)
    return Redirect(path=_next(str(form.get("next", ""))), status_code=303, cookies=[cookie])


@post("/signout", opt=auth.signed_in(), status_code=303)
async def sign_out(request: Request) -> Response:
    who = auth.person_of(request)
    settings, now = settings_of(request), request.app.state["portal"].now()
    if who is not None:
        await anyio.to_thread.run_sync(lambda: record_sign_out(settings, who, at=now))
    request.clear_session()
    response = Redirect(path="/signin", status_code=303)
    response.delete_cookie(CSRF_COOKIE)  # the next page issues a fresh token
    return response
