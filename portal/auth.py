"""Who is asking, and may they see this page: the signed-in person, session expiry, and one guard for every route.

Every route declares who it is for in its `opt["allow"]` (`PUBLIC`, `SIGNED_IN`, or an `Action` of
`govhub.access`): the guard applies `authorize` — the same rule table the services apply, with the agency taken from
the URL — so a page is shown to exactly the people the service behind it would let act, and a refusal is recorded as
`access.denied` like any other. A route that declares nothing is closed. The services check again when they act.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.utils.scope.state import ScopeState

from govhub.access import Action, authorize, decide
from govhub.config import Settings
from govhub.people import Person, list_people
from govhub.problems import AccessDenied, Problem
from govhub.services.accounts import password_seal, record_sign_out
from govhub.services.sessions import past_its_end

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PEOPLE = "govhub.people"  # scope key: the people registry as this request read it


@dataclass(frozen=True)
class Allow:
    """Who a route is for: anyone (`public`), any signed-in person (`action` None), those `action` allows, or the
    holder of a docking API token (`token`: checked by the API itself, `portal.api`; sessions count for nothing)."""

    public: bool = False
    action: Action | None = None
    token: bool = False

    @property
    def label(self) -> str:
        if self.token:
            return "对接系统（接口令牌）"
        return "公开" if self.public else "已登录人员" if self.action is None else self.action.rule.action_zh


PUBLIC = Allow(public=True)
SIGNED_IN = Allow()


def allow(action: Action) -> dict[str, Any]:
    """The `opt` of a route for the people `action` allows (for the agency in the URL, when it has one)."""
    return {"allow": Allow(action=action)}


def signed_in() -> dict[str, Any]:
    return {"allow": SIGNED_IN}


def public() -> dict[str, Any]:
    return {"allow": PUBLIC}


def bearer_token() -> dict[str, Any]:
    """The `opt` of the docking API's routes: a bearer token, checked by the API (no session, no CSRF)."""
    return {"allow": Allow(token=True)}


def person_of(connection: ASGIConnection) -> Person | None:
    return connection.scope.get("govhub.person")  # type: ignore[return-value]


def _settings(connection: ASGIConnection) -> Settings:
    return connection.app.state["settings"]


async def load_person(request: Request) -> None:
    """Before every handler: the person the session belongs to, while the session is still valid.

    A session past its absolute lifetime, whose person left the registry or was deactivated, or opened with a
    password that is no longer theirs (`password_seal`), is ended here (and the sign-out recorded); idle sessions
    never get this far (the store no longer returns them)."""
    session = request.scope.get("session") or {}
    if not isinstance(session, dict) or session.get("person") is None:
        return
    config = request.app.state["portal"]
    now = config.now()
    settings = _settings(request)

    def holder() -> tuple[list[Person], tuple[Person | None, str | None]]:
        people = list_people(settings)  # read once per request: the menu and every link's `may` ask it again
        return people, holder_of(settings, config, session, now, people)

    people, (person, ended) = await anyio.to_thread.run_sync(holder)
    if person is None or ended is not None:
        request.clear_session()
        if person is not None:
            await anyio.to_thread.run_sync(lambda: record_sign_out(settings, person, at=now, reason=ended))
        return
    request.scope["govhub.person"] = person  # type: ignore[typeddict-unknown-key]
    request.scope[_PEOPLE] = people  # type: ignore[literal-required]


def holder_of(
    settings: Settings,
    config: Any,
    session: dict[str, Any],
    now: dt.datetime,
    people: list[Person] | None = None,
) -> tuple[Person | None, str | None]:
    """The session's person (None: gone or deactivated) and why the session has ended (None: it is valid);
    `people`: the registry when the caller has just read it."""
    person, seal = _holder(settings, session["person"], list_people(settings) if people is None else people)
    signed_in_at = dt.datetime.fromisoformat(session["signed_in_at"])
    ended = (
        None if person is None
        else "expired" if now - signed_in_at >= config.absolute_timeout or past_its_end(session, now)
        else "upgraded" if "seal" not in session  # opened by a portal that did not seal sessions yet
        else "password_changed" if seal != session["seal"]
        else None
    )  # fmt: skip
    return person, ended


def session_data(
    request: Request,
    person: Person,
    seal: str,
    signed_in_at: dt.datetime,
    csrf: str,
    *,
    client: str | None,
    agent: str | None,
) -> dict[str, Any]:
    """What a signed-in session keeps: who, since when and until when at most (the absolute lifetime, enforced by
    `load_person`; `services.sessions` lists no session past it), its CSRF token, the seal of the password it was
    opened with — the one the sign-in (or the change) proved, never read again afterwards (`accounts.SignedIn`) —
    and the address and browser it signed in from (shown to its owner among their open sessions)."""
    ends_at = signed_in_at + request.app.state["portal"].absolute_timeout
    return {"person": person.id, "signed_in_at": signed_in_at.isoformat(), "ends_at": ends_at.isoformat(),
            "csrf": csrf, "seal": seal, "client": client, "agent": (agent or "")[:200] or None}  # fmt: skip


def _holder(settings: Settings, person_id: str, people: list[Person]) -> tuple[Person | None, str | None]:
    person = next((p for p in people if p.id == person_id and p.active), None)
    return person, None if person is None else password_seal(settings, person_id)


async def check_access(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The one guard (see the module docstring): 401 → the sign-in page, 403 → "no access"."""
    rule = handler.opt.get("allow")
    if not isinstance(rule, Allow):
        raise PermissionDeniedException("route declares no access rule")
    if rule.public or rule.token:
        return
    person = person_of(connection)
    if person is None:
        raise NotAuthorizedException()
    if connection.scope.get("method") in UNSAFE:
        _session_bound_csrf(connection)
    if rule.action is None:
        return
    agency = connection.path_params.get("agency")
    settings = _settings(connection)
    if agency is not None and not await anyio.to_thread.run_sync(_known_agency, settings, agency):
        raise NotFoundException()  # no such agency: nothing there to refuse (every agency is in the catalog)
    try:
        await anyio.to_thread.run_sync(lambda: authorize(settings, person.id, rule.action, agency))
    except AccessDenied as exc:
        raise PermissionDeniedException(exc.problems[0].message_zh) from None


def _known_agency(settings: Settings, agency: str) -> bool:
    from govhub.portal.views import catalog_of  # views builds on this module

    return agency in catalog_of(settings).agencies


def _session_bound_csrf(connection: ASGIConnection) -> None:
    """A signed-in session's state-changing requests must carry ITS CSRF token (issued at sign-in, kept in the
    session; Litestar's middleware has already checked its signature against the cookie): a token from another
    session, or one planted in the browser before sign-in, is refused. Guards run after the CSRF middleware."""
    session = connection.scope.get("session") or {}
    submitted = ScopeState.from_scope(connection.scope).csrf_token
    if not isinstance(session, dict) or not session.get("csrf") or submitted != session["csrf"]:
        raise PermissionDeniedException("CSRF token verification failed")


def registry(connection: ASGIConnection) -> list[Person]:
    """The people registry as this request read it (once: `load_person`, or here on first use)."""
    people = connection.scope.get(_PEOPLE)
    if people is None:
        people = connection.scope[_PEOPLE] = list_people(_settings(connection))  # type: ignore[literal-required]
    return people  # type: ignore[return-value]


def may(connection: ASGIConnection, action: Action, agency: str | None = None) -> bool:
    """Whether to SHOW the signed-in person a link or a button (no event recorded: showing is not acting)."""
    who = person_of(connection)
    return who is not None and allowed(registry(connection), who, action, agency)


def allowed(people: list[Person], who: Person, action: Action, agency: str | None = None) -> bool:
    """`may` for a person and a registry already in hand (the menu of an error page no route matched)."""
    return not isinstance(decide(people, who.id, action, agency), Problem)
