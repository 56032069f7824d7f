"""Where a person is signed in to the portal, and ending those sessions (§16).

A person sees their own open sessions (when and from where each was opened, when it was last used) and can end
every other one — as after leaving a shared computer signed in; the office can list and end all of anyone's (a lost
laptop). Deactivating a person ends theirs at once. The sessions are the portal's rows in `web_sessions`, each with
its owner (`portal.sessions` writes it); ending one marks its row (`ended_at`), which the portal's store then neither
loads nor saves again — so its next request is anonymous, even if a response was still being written when it ended.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select

from govhub import store
from govhub.access import Action, Actor, authorize
from govhub.clock import stored_moment
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.people import Person, find_person, list_people
from govhub.problems import GovhubError, Problem

SESSIONS_LOCK = "govhub.web_sessions"  # as the portal's session store writes them


@dataclass(frozen=True)
class OpenSession:
    key: str  # the stored key: a digest of the session id (it names the session; it opens nothing)
    signed_in_at: dt.datetime | None
    seen_at: dt.datetime | None  # its last request
    client: str | None  # the address it signed in from
    agent: str | None  # the browser it signed in with, as it named itself

    @property
    def browser(self) -> str:
        """The browser and system, as people name them ("Chrome（Windows）"); the agent text itself otherwise."""
        return browser_of(self.agent)

    def to_dict(self) -> dict[str, str | None]:
        def stamp(at: dt.datetime | None) -> str | None:
            return None if at is None else utc_stamp(at)

        return {"session": self.key[:12], "signed_in_at": stamp(self.signed_in_at), "seen_at": stamp(self.seen_at),
                "client": self.client, "browser": self.browser, "agent": self.agent}  # fmt: skip


# the first token found names it: Edge and Opera say "Chrome" too, Chrome says "Safari" too
_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("python-httpx", "httpx"), ("curl/", "curl")]  # fmt: skip
_SYSTEMS = [("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]  # fmt: skip


def browser_of(agent: str | None) -> str:
    if not agent:
        return "未知"
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    if browser is None:
        return agent[:60]
    return f"{browser}（{system}）" if system else browser


def _for(settings: Settings, actor: str, person_id: str) -> tuple[Actor, Person]:
    """Who may see or end `person_id`'s sessions: the person themselves, or the office."""
    people = list_people(settings)
    me = find_person(people, actor)
    if me is not None and me.id == person_id and me.active:
        return Actor(me.name, me), me
    who = authorize(settings, actor, Action.MANAGE_PEOPLE)
    person = find_person(people, person_id)
    if person is None or person.id != person_id:
        raise GovhubError(
            [Problem("people.unknown_person", f"没有登录名为“{person_id}”的人员", value=person_id)]
        )
    return who, person


def open_sessions(settings: Settings, person_id: str, *, actor: str, at: dt.datetime) -> list[OpenSession]:
    """`person_id`'s live portal sessions, the most recently used first: unexpired (neither idle too long nor past
    their absolute lifetime), not ended, and opened with the password they have now (one opened with an earlier
    password, or past its lifetime, ends at its next request: `accounts.SignedIn`, the portal's `load_person`)."""
    from govhub.services.accounts import password_seal

    _for(settings, actor, person_id)
    seal = password_seal(settings, person_id)
    t = store.web_sessions
    with store.read_connection(settings) as conn:
        rows = conn.execute(
            select(t.c.key, t.c.data, t.c.seen_at)
            .where(t.c.person == person_id, t.c.expires_at > utc_stamp(at), t.c.ended_at.is_(None))
            .order_by(t.c.seen_at.desc())
        ).all()
    kept = [(r, session_fields(r.data)) for r in rows]
    return [
        _session(r.key, data, r.seen_at)
        for r, data in kept
        if data.get("seal") == seal and not past_its_end(data, at)
    ]


def past_its_end(data: dict, at: dt.datetime) -> bool:
    """Past the absolute end the portal gave the session at sign-in (`ends_at`): then no longer listed here, and
    ended by the portal at its next request. A session opened before the end was kept has none (its idle expiry
    and the portal's setting end it)."""
    ends_at = data.get("ends_at")
    try:
        return isinstance(ends_at, str) and at >= dt.datetime.fromisoformat(ends_at)
    except (ValueError, TypeError):  # not a moment with its zone
        return False


def session_fields(data: str) -> dict:
    """What a session row's data holds (the portal writes it as JSON; anything else holds nothing)."""
    try:
        kept = json.loads(data)
    except ValueError:
        return {}
    return kept if isinstance(kept, dict) else {}


def _session(key: str, kept: dict, seen_at: str | None) -> OpenSession:
    from govhub.connectors.headers import shown

    signed_in_at = kept.get("signed_in_at")

    def text(name: str) -> str | None:
        """As the browser sent it, escape codes shown as "�" (a terminal shows it too)."""
        value = kept.get(name)
        return shown(value[:200]) if isinstance(value, str) and value else None

    return OpenSession(
        key=key,
        signed_in_at=dt.datetime.fromisoformat(signed_in_at) if isinstance(signed_in_at, str) else None,
        seen_at=stored_moment(seen_at) if seen_at else None,
        client=text("client"),
        agent=text("agent"),
    )


def end_sessions(
    settings: Settings, person_id: str, *, actor: str, at: dt.datetime, keep: str | None = None
) -> int:
    """End `person_id`'s portal sessions but `keep` (the stored key of the one asking, to stay signed in there);
    returns how many ended, and records who ended them."""
    who, person = _for(settings, actor, person_id)
    t = store.web_sessions
    doomed = t.update().where(t.c.person == person_id, t.c.ended_at.is_(None), t.c.expires_at > utc_stamp(at))
    if keep is not None:
        doomed = doomed.where(t.c.key != keep)
    with store.write_transaction(settings, SESSIONS_LOCK) as conn:
        ended = int(conn.execute(doomed.values(ended_at=utc_stamp(at))).rowcount or 0)
    record_event(settings, kind="session.ended", actor=who.name, agency=person.agency,
                 subject=f"person/{person.id}", payload={"sessions": ended, "kept_own": keep is not None},
                 at=at)  # fmt: skip
    return ended
