"""Tokens of the docking API (资源共享对接服务, §13): one per consumer system of an agency, stored hashed, revocable.

A token is 256 random bits (`ghub_` + 43 URL-safe characters) shown once, when it is issued. The store keeps
HMAC-SHA256(pepper, token) only: a token that random cannot be guessed from its hash, so a slow password hash
(argon2, as for people's passwords) would buy nothing and cost every API call tens of milliseconds; the pepper
(`services.keys`, outside the store) means a copy of the store alone cannot even test a candidate. Lookup is by the
digest itself (a unique column).

The agency's steward or the office issues, lists and revokes them (`Action.MANAGE_TOKENS`, refusals recorded like
every other); an agency's system holds at most one live token — a new one needs the old one revoked first, so it is
always clear which secret a system should hold. Issue and revocation are events; the secret never is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from govhub import store
from govhub.access import Action, authorize
from govhub.catalog.model import Catalog
from govhub.clock import beijing_date, beijing_text
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.problems import GovhubError, Problem
from govhub.roles import Role
from govhub.services.keys import derived_key

PREFIX = "ghub_"
LOCK = "govhub.api_tokens"
SYSTEM_MAX = 100
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at is exact to a minute: no write on every call


@dataclass(frozen=True)
class ApiToken:
    """A token as the hub keeps it (never the secret)."""

    id: str
    agency: str
    system: str
    created_by: str
    created_at: str
    revoked_by: str | None = None
    revoked_at: str | None = None
    last_used_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def status_label(self) -> str:
        return "有效" if self.active else "已撤销"

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "active": self.active}


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued token and its secret: the only moment the secret exists outside the consumer's system."""

    token: ApiToken
    secret: str


def _token(row: Any) -> ApiToken:
    m = dict(row._mapping)
    return ApiToken(**{k: m[k] for k in ApiToken.__dataclass_fields__})


def digest(settings: Settings, secret: str) -> str:
    """What the store keeps of a token: HMAC-SHA256 under the hub's pepper, hex."""
    return hmac.new(derived_key(settings, "token-pepper"), secret.encode(), hashlib.sha256).hexdigest()


def _problem(code: str, message_zh: str, **where: Any) -> GovhubError:
    return GovhubError(Problem(code=code, message_zh=message_zh, **where))


def _checked_system(system: str) -> str:
    name = " ".join(system.split())
    if not name or len(name) > SYSTEM_MAX or any(not c.isprintable() for c in name):
        raise _problem("token.bad_system", f"对接系统名称应为 1～{SYSTEM_MAX} 个可见字符", value=system[:SYSTEM_MAX],
                      expected="如“社会救助管理系统”")  # fmt: skip
    return name


def create_token(
    settings: Settings, catalog: Catalog, *, agency: str, system: str, actor: str
) -> IssuedToken:
    """Issue a token for `agency`'s consumer system `system` (its steward or the office); the secret comes back once."""
    who = authorize(settings, actor, Action.MANAGE_TOKENS, agency)
    if agency not in catalog.agencies:
        raise _problem("scope.unknown_agency", f"目录中没有部门“{agency}”", value=agency)
    name = _checked_system(system)
    secret = PREFIX + secrets.token_urlsafe(32)
    t = store.api_tokens
    now = dt.datetime.now(dt.UTC)
    with store.write_transaction(settings, LOCK) as conn:
        live = conn.execute(
            select(t.c.id).where(t.c.agency == agency, t.c.system == name, t.c.revoked_at.is_(None))
        ).first()
        if live is not None:
            raise _problem("token.exists", f"{agency} 的系统“{name}”已有有效令牌 {live.id}：请先撤销，再签发新令牌",
                          value=live.id)  # fmt: skip
        row = {"id": store.day_numbered_id(conn, t, "TK", beijing_date(now)), "agency": agency, "system": name, "created_by": who.name,
               "created_at": utc_stamp(now)}  # fmt: skip
        conn.execute(t.insert().values(**row, token_hash=digest(settings, secret)))
    record_event(settings, kind="token.created", actor=who.name, agency=agency, subject=f"token/{row['id']}",
                 payload={"id": row["id"], "system": name})  # fmt: skip
    return IssuedToken(ApiToken(**row), secret)


def list_tokens(settings: Settings, *, actor: str, agency: str | None = None) -> list[ApiToken]:
    """Tokens `actor` may manage, newest first: their agency's (the office: every agency's, or `agency`'s)."""
    who = authorize(settings, actor, Action.MANAGE_TOKENS, agency)
    if agency is None and who.person is not None and not who.has(Role.OFFICE):
        agency = who.person.agency
    t = store.api_tokens
    q = select(t).order_by(t.c.created_at.desc(), t.c.id.desc())
    if agency is not None:
        q = q.where(t.c.agency == agency)
    with store.read_connection(settings) as conn:
        return [_token(r) for r in conn.execute(q)]


def get_token(settings: Settings, token_id: str) -> ApiToken:
    t = store.api_tokens
    with store.read_connection(settings) as conn:
        row = conn.execute(select(t).where(t.c.id == token_id)).first()
    if row is None:
        raise _problem("token.unknown", f"没有编号为“{token_id}”的接口令牌", value=token_id)
    return _token(row)


def revoke_token(settings: Settings, token_id: str, *, actor: str) -> ApiToken:
    """Revoke a token now: the next call carrying it is refused (401)."""
    token = get_token(settings, token_id)
    who = authorize(settings, actor, Action.MANAGE_TOKENS, token.agency)
    t = store.api_tokens
    at = utc_stamp()
    with store.write_transaction(settings, LOCK) as conn:
        done = conn.execute(
            t.update()
            .where(t.c.id == token_id, t.c.revoked_at.is_(None))
            .values(revoked_by=who.name, revoked_at=at)
        ).rowcount
    if not done:
        raise _problem(
            "token.already_revoked",
            f"接口令牌 {token_id} 已于 {beijing_text(token.revoked_at)} 撤销",
            value=token_id,
        )
    record_event(settings, kind="token.revoked", actor=who.name, agency=token.agency, subject=f"token/{token_id}",
                 payload={"id": token_id, "system": token.system})  # fmt: skip
    return get_token(settings, token_id)


def find_by_secret(settings: Settings, secret: str) -> ApiToken | None:
    """The token whose secret this is (revoked ones included, so a refusal can say so), else None."""
    t = store.api_tokens
    with store.read_connection(settings) as conn:
        row = conn.execute(select(t).where(t.c.token_hash == digest(settings, secret))).first()
    return None if row is None else _token(row)


def touch(settings: Settings, token: ApiToken, now: dt.datetime) -> None:
    """Record that the token was used — at most once a minute per token (a write per call would cost every call)."""
    if token.last_used_at is not None:
        last = dt.datetime.fromisoformat(token.last_used_at.replace("Z", "+00:00"))
        if now - last < TOUCH_EVERY:
            return
    t = store.api_tokens
    with store.engine(settings).begin() as conn:
        conn.execute(t.update().where(t.c.id == token.id).values(last_used_at=utc_stamp(now)))
