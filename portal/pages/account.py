"""A person's own account (§16): change one's portal password, proving the current one; see where one is signed in
and end the other sessions."""

from __future__ import annotations

import datetime as dt

import anyio.to_thread
from litestar import Request, get, post
from litestar.response import Template

from govhub.portal import auth
from govhub.portal.sessions import SESSION_COOKIE, rotate_session, session_key
from govhub.portal.views import page, person, settings_of
from govhub.problems import GovhubError, Problem
from govhub.services.accounts import change_own_password
from govhub.services.sessions import end_sessions, open_sessions

ACCOUNT = "/account/password"
SESSIONS = "/account/sessions"


@get(ACCOUNT, opt=auth.signed_in())
async def password_page(request: Request) -> Template:
    return page(request, "account.html", problems=[], changed=False)


@post(ACCOUNT, opt=auth.signed_in(), status_code=200)
async def change_password(request: Request) -> Template:
    form = await request.form()
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    settings, who, config = settings_of(request), person(request), request.app.state["portal"]

    def work() -> str | list[Problem]:
        if new != again:
            return [Problem("people.weak_password", "两次输入的新密码不一致，密码未修改")]
        try:
            return change_own_password(settings, who, current, new, at=config.now(), policy=config.sign_in)
        except GovhubError as exc:
            return exc.problems

    done = await anyio.to_thread.run_sync(work)
    problems = done if isinstance(done, list) else []
    # changed: this session goes on under a new id, sealed with the new password; every other one ends
    if isinstance(done, str):
        old = request.session
        signed_in_at = dt.datetime.fromisoformat(old["signed_in_at"])
        await rotate_session(request, auth.session_data(request, who, done, signed_in_at, old["csrf"],
                                                        client=old.get("client"), agent=old.get("agent")))  # fmt: skip
    # as the portal's other forms
    return page(request, "account.html", problems=problems, changed=not problems)


def _this_session(request: Request) -> str:
    return session_key(request.cookies[SESSION_COOKIE])


def _sessions_page(request: Request, ended: int | None) -> Template:
    who, now = person(request), request.app.state["portal"].now()
    sessions = open_sessions(settings_of(request), who.id, actor=who.id, at=now)
    return page(request, "sessions.html", sessions=sessions, this=_this_session(request), ended=ended)


@get(SESSIONS, opt=auth.signed_in(), sync_to_thread=True)
def sessions_page(request: Request) -> Template:
    return _sessions_page(request, None)


@post(f"{SESSIONS}/end-others", opt=auth.signed_in(), sync_to_thread=True, status_code=200)
def end_other_sessions(request: Request) -> Template:
    """Every other session of this person ends (their rows go: the next request there is anonymous); this one stays."""
    who, now = person(request), request.app.state["portal"].now()
    ended = end_sessions(settings_of(request), who.id, actor=who.id, at=now, keep=_this_session(request))
    return _sessions_page(request, ended)
