"""Server-side sessions: Litestar's session middleware over the workflow store's `web_sessions` table.

Litestar does the cookie, the (de)serialisation and the middleware (`ServerSideSessionConfig`); this module adds the
two things it lacks:

- `WebSessionStore`: a Litestar `Store` on `web_sessions`, so every portal process of a hub shares the sessions
  (and the sign-in rate limit's counters, `portal.app`). Rows are keyed by sha256 of the key (a copy of the table
  opens no session); a row unused for `idle_timeout` is expired (each response saves its session with a fresh
  expiry: one write per request) — judged by the portal's clock, not the database's.
- `RotatingSessionBackend`: a NEW session id at sign-in (`rotate_session`). Litestar keeps whatever id the browser
  sent, which lets anyone who planted a cookie before sign-in ride the signed-in session (session fixation). It also
  writes nothing for a visitor with an empty session, so anonymous page views leave no rows behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from sqlalchemy import delete, select

from govhub import store as workflow_store
from govhub.config import Settings
from govhub.events import utc_stamp
from govhub.services.sessions import SESSIONS_LOCK, session_fields

SESSION_COOKIE = "govhub_session"
_ROTATED = "govhub.rotated_session_id"  # scope key: the id a sign-in chose for this response
_PURGE_EVERY = dt.timedelta(minutes=10)


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _seconds(value: int | dt.timedelta | None) -> dt.timedelta | None:
    if value is None:
        return None
    return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=value)


class WebSessionStore(Store):
    """Litestar's `Store` interface on the `web_sessions` table (blocking calls run in a worker thread)."""

    def __init__(self, settings: Settings, clock: Callable[[], dt.datetime]) -> None:
        self.settings = settings
        self.clock = clock
        self._purged_at: dt.datetime | None = None

    async def set(self, key: str, value: str | bytes, expires_in: int | dt.timedelta | None = None) -> None:
        data = value.decode() if isinstance(value, bytes) else value
        await anyio.to_thread.run_sync(self._set, session_key(key), data, _seconds(expires_in))

    async def get(self, key: str, renew_for: int | dt.timedelta | None = None) -> bytes | None:
        data = await anyio.to_thread.run_sync(self._get, session_key(key), _seconds(renew_for))
        return None if data is None else data.encode()

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, session_key(key))

    async def delete_all(self) -> None:
        await anyio.to_thread.run_sync(self._delete, None)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        t = workflow_store.web_sessions
        with workflow_store.read_connection(self.settings) as conn:
            row = conn.execute(select(t.c.expires_at).where(t.c.key == session_key(key))).first()
        if row is None:
            return None
        left = dt.datetime.fromisoformat(row.expires_at.replace("Z", "+00:00")) - self.clock()
        return max(int(left.total_seconds()), 0)

    def session_now(self, session_id: str) -> dict[str, Any] | None:
        """A live session's data, read in this thread: for a page drawn where the session middleware never ran (an
        address no route matches), which still shows its person's own header."""
        data = self._get(session_key(session_id), None)
        try:
            session = json.loads(data) if data else None
        except ValueError:
            return None
        return session if isinstance(session, dict) else None

    def _expiry(self, ttl: dt.timedelta | None) -> str:
        return utc_stamp(self.clock() + (ttl or dt.timedelta(days=1)))

    def _set(self, hashed: str, data: str, ttl: dt.timedelta | None) -> None:
        """Save a session: a new row for a new id; an update of a live one — never of one ended meanwhile
        (`services.sessions.end_sessions` marks rows ended: a response of a request that was already running when
        its session was ended would otherwise write it back, and that browser would stay signed in)."""
        t = workflow_store.web_sessions
        row = {
            "data": data,
            "expires_at": self._expiry(ttl),
            "person": _owner(data),
            "seen_at": utc_stamp(self.clock()),
        }
        with workflow_store.write_transaction(self.settings, SESSIONS_LOCK) as conn:
            if conn.execute(
                t.update().where(t.c.key == hashed, t.c.ended_at.is_(None)).values(**row)
            ).rowcount:
                return
            if conn.execute(select(t.c.key).where(t.c.key == hashed)).first() is None:
                conn.execute(t.insert().values(key=hashed, **row))
        self._purge_now_and_then()

    def _get(self, hashed: str, renew_for: dt.timedelta | None) -> str | None:
        """The row's data while unexpired and not ended. `renew_for` is not written here: the session middleware
        saves every session it loaded when the response starts (`set`, with a fresh expiry) — renewing here too was
        a second write per request for the same effect (W11)."""
        t = workflow_store.web_sessions
        with workflow_store.read_connection(self.settings) as conn:
            row = conn.execute(
                select(t.c.data, t.c.expires_at, t.c.ended_at).where(t.c.key == hashed)
            ).first()
        if row is None or row.ended_at is not None or row.expires_at <= utc_stamp(self.clock()):
            return None
        return row.data

    def _delete(self, hashed: str | None) -> None:
        t = workflow_store.web_sessions
        with workflow_store.write_transaction(self.settings, SESSIONS_LOCK) as conn:
            conn.execute(delete(t) if hashed is None else delete(t).where(t.c.key == hashed))

    def _purge_now_and_then(self) -> None:
        """Expired rows are deleted every few minutes, ended ones included (nobody can use them; they only take
        room)."""
        now = self.clock()
        if self._purged_at is not None and now - self._purged_at < _PURGE_EVERY:
            return
        self._purged_at = now
        t = workflow_store.web_sessions
        with workflow_store.write_transaction(self.settings, SESSIONS_LOCK) as conn:
            conn.execute(delete(t).where(t.c.expires_at <= utc_stamp(now)))


def _owner(data: str) -> str | None:
    """Whose session the data is (`person`, set at sign-in), kept beside it so that a person's sessions can be
    listed and ended (`services.sessions`); None for anything else in the store (rate-limit counters)."""
    person = session_fields(data).get("person") if data.startswith("{") else None
    return person if isinstance(person, str) else None


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        rotated = connection.scope.get(_ROTATED)  # type: ignore[misc]
        return rotated if isinstance(rotated, str) else super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        if scope_session is not Empty and not scope_session:
            if SESSION_COOKIE not in connection.cookies:
                return  # an anonymous visitor with nothing in their session: no row, no cookie
            scope_session = Empty  # an emptied (or expired) session: its row and cookie go
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]


async def rotate_session(connection: ASGIConnection, data: dict[str, Any]) -> None:
    """Start a new session with `data` under a new id: the old id's row is deleted and its cookie replaced."""
    config: RotatingSessionConfig = connection.app.state["session_config"]
    backend: RotatingSessionBackend = config._backend_class(config=config)
    old = connection.cookies.get(config.key)
    if old:
        await backend.delete(old, store=config.get_store_from_app(connection.app))
    connection.scope[_ROTATED] = backend.generate_session_id()  # type: ignore[literal-required]
    connection.scope["session"] = data
