"""Where a person is signed in to the portal, and ending those sessions (§16).

A person sees their own open sessions (when and from where each was opened, when it was last used) and can end
every other one — as after leaving a shared computer signed in; the office can list and end all of anyone's (a lost
laptop). Deactivating a person ends theirs at once. The sessions are the portal's rows in `web_sessions`, each with
its owner (`portal.sessions` writes it); a session whose row is gone is anonymous at its next request.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import delete, select

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
    """`person_id`'s unexpired portal sessions, the most recently used first."""
    _for(settings, actor, person_id)
    t = store.web_sessions
    with store.read_connection(settings) as conn:
        rows = conn.execute(
            select(t.c.key, t.c.data, t.c.seen_at)
            .where(t.c.person == person_id, t.c.expires_at > utc_stamp(at))
            .order_by(t.c.seen_at.desc())
        ).all()
    return [_session(r.key, r.data, r.seen_at) for r in rows]


def _session(key: str, data: str, seen_at: str | None) -> OpenSession:
    try:
        kept = json.loads(data)
    except ValueError:
        kept = {}
    signed_in_at = kept.get("signed_in_at")

    def text(name: str) -> str | None:
        value = kept.get(name)
        return value[:200] if isinstance(value, str) and value else None

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
    ended = _delete(settings, person_id, keep)
    record_event(settings, kind="session.ended", actor=who.name, agency=person.agency,
                 subject=f"person/{person.id}", payload={"sessions": ended, "kept_own": keep is not None},
                 at=at)  # fmt: skip
    return ended


def end_all_sessions_of(settings: Settings, person_id: str) -> int:
    """Every portal session of `person_id` (deactivation: the caller authorized and records it)."""
    return _delete(settings, person_id, None)


def _delete(settings: Settings, person_id: str, keep: str | None) -> int:
    t = store.web_sessions
    doomed = delete(t).where(t.c.person == person_id)
    if keep is not None:
        doomed = doomed.where(t.c.key != keep)
    with store.write_transaction(settings, SESSIONS_LOCK) as conn:
        return int(conn.execute(doomed).rowcount or 0)
