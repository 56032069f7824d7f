"""Portal accounts (§16 identity authentication): passwords, sign-in, lock-out — every attempt in the event log.

Accounts are the people registry's: a person signs in with their login id and a password the office set
(`govhub people password`), hashed with argon2 (argon2-cffi) in the `credentials` table. Sign-in answers the same way
for an unknown name, a wrong password, a deactivated person and a locked account — what a guesser learns is "no" —
while the event log records which it was (never the password). Failed attempts count per account within a window;
`SignInPolicy.max_failures` of them lock the account for `lockout`, whatever password comes next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select

from govhub import store
from govhub.access import Action, authorize
from govhub.clock import beijing_text, stored_moment
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.people import Person, find_person, list_people
from govhub.problems import GovhubError, Problem

CREDENTIALS_LOCK = "govhub.credentials"
MIN_PASSWORD_LENGTH = 10
SIGN_IN_REFUSED_ZH = "登录名或密码不正确（连续多次输错后账号将暂时锁定，请稍后再试或联系区科委重置密码）"


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int = 5  # failed attempts within `window` that lock the account
    window: dt.timedelta = dt.timedelta(minutes=15)
    lockout: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class SignedIn:
    """A sign-in that succeeded: who, and the seal of the password it proved (a portal session keeps it)."""

    person: Person
    seal: str


def _seal(person_id: str, changed_at: str) -> str:
    """A session's seal: which password it was opened with — the moment that password was stored (`changed_at`,
    made strictly later by every store; a re-hash at sign-in keeps it), digested. A new password, set by the person
    or reset by the office, gives a new seal; nothing about the password itself is in it."""
    return hashlib.sha256(f"{person_id}\x1f{changed_at}".encode()).hexdigest()[:32]


@cache
def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, the library's (RFC 9106 low-memory) defaults


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown, so that answer takes as long as a wrong password."""
    return _hasher().hash("govhub-no-such-account")


def _verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _refuse(code: str, message_zh: str, **kw: str) -> GovhubError:
    return GovhubError(Problem(code=f"people.{code}", message_zh=message_zh, **kw))


def set_password(
    settings: Settings, person_id: str, password: str, *, actor: str, at: dt.datetime | None = None
) -> Person:
    """The office sets (or resets) a person's portal password; a reset also lifts a lock-out."""
    who = authorize(settings, actor, Action.MANAGE_PEOPLE)
    person = find_person(list_people(settings), person_id)
    if person is None or person.id != person_id:
        raise _refuse("unknown_person", f"没有登录名为“{person_id}”的人员", value=person_id)
    _store_password(settings, person, password, at)  # every session opened with the old one ends
    record_event(settings, kind="people.password_set", actor=who.name, agency=person.agency,
                 subject=f"person/{person.id}", payload={"name": person.name}, at=at)  # fmt: skip
    return person


def set_shared_password(
    settings: Settings, person_ids: list[str], password: str, *, actor: str
) -> list[Person]:
    """The office gives several people one password (the demo district's published one), hashed once: the same
    argon2 hash for all of them says they share it, which is true and the only thing it says. 22 demo people took
    4.4 s to hash one by one."""
    who = authorize(settings, actor, Action.MANAGE_PEOPLE)
    people = list_people(settings)
    found = []
    for person_id in person_ids:
        person = find_person(people, person_id)
        if person is None or person.id != person_id:
            raise _refuse("unknown_person", f"没有登录名为“{person_id}”的人员", value=person_id)
        _check_password(person, password)  # for everyone before anyone's is set
        found.append(person)
    hashed = _hasher().hash(password)
    for person in found:
        _store_password(settings, person, password, None, hashed=hashed)
        record_event(settings, kind="people.password_set", actor=who.name, agency=person.agency,
                     subject=f"person/{person.id}", payload={"name": person.name})  # fmt: skip
    return found


def change_own_password(
    settings: Settings, person: Person, current: str, new: str, *, at: dt.datetime,
    policy: SignInPolicy = SignInPolicy(),
) -> str:  # fmt: skip
    """A signed-in person changes their own password, proving the current one first: a wrong one counts as a failed
    sign-in (this form cannot be used to guess it) and changes nothing. Returns the new password's seal (the
    session that made the change keeps it; every other one ends). The new hash is written only over the one the
    current password was checked against: a reset or another change in between wins, and this one is refused."""
    t = store.credentials
    with store.read_connection(settings) as conn:
        row = conn.execute(select(t).where(t.c.person == person.id)).mappings().first()
    locked = row is not None and row["locked_until"] is not None and row["locked_until"] > utc_stamp(at)
    if locked:  # said as it is: the person is signed in, so naming the lock-out tells no stranger anything
        record_event(settings, kind="people.password_change_refused", actor=person.name, agency=person.agency,
                     subject=f"person/{person.id}", payload={"reason": "locked"}, at=at)  # fmt: skip
        raise _refuse("locked", f"账号因多次输入错误密码已锁定至 {beijing_text(row['locked_until'])}，期间不能修改密码；"
                      "请届时再试，或请区科委重置密码")  # fmt: skip
    if row is None or not _verify(row["password_hash"], current):
        if row is not None:
            _count_failure(settings, person.id, at, policy)
        record_event(settings, kind="people.password_change_refused", actor=person.name, agency=person.agency,
                     subject=f"person/{person.id}", payload={"reason": "wrong_password"}, at=at)  # fmt: skip
        raise _refuse("wrong_password", "当前密码不正确，密码未修改")
    if new == current:
        raise _refuse("weak_password", "新密码不能与当前密码相同")
    seal = _store_password(settings, person, new, at, over=row["password_hash"])
    record_event(settings, kind="people.password_changed", actor=person.name, agency=person.agency,
                 subject=f"person/{person.id}", payload={"name": person.name}, at=at)  # fmt: skip
    return seal


def _check_password(person: Person, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or password.strip() != password or password == person.id:
        raise _refuse("weak_password", f"{person.name}的密码至少{MIN_PASSWORD_LENGTH}个字符，首尾不能有空格，"
                      "且不能与登录名相同", expected=f"至少{MIN_PASSWORD_LENGTH}个字符")  # fmt: skip


def _store_password(
    settings: Settings, person: Person, password: str, at: dt.datetime | None, *, over: str | None = None,
    hashed: str | None = None,
) -> str:  # fmt: skip
    """Check `password` and keep its argon2 hash (a new one lifts a lock-out); returns its seal. `over`: write only
    if the stored hash is still this one (else `people.changed_meanwhile`); `hashed`: the password's hash, made
    already (`set_shared_password`)."""
    _check_password(person, password)
    hashed = hashed or _hasher().hash(password)
    t = store.credentials
    with store.write_transaction(settings, CREDENTIALS_LOCK) as conn:
        stored = conn.execute(
            select(t.c.password_hash, t.c.changed_at).where(t.c.person == person.id)
        ).first()
        if over is not None and (stored is None or stored.password_hash != over):
            raise _refuse(
                "changed_meanwhile",
                "密码刚刚已被修改（在其他页面或由区科委重置），本次未修改；请用新密码重新登录",
            )
        changed_at = utc_stamp(at)
        if stored is not None and changed_at <= stored.changed_at:  # strictly later: every store a new seal
            changed_at = utc_stamp(stored_moment(stored.changed_at) + dt.timedelta(microseconds=1))
        row = {"password_hash": hashed, "changed_at": changed_at, "failed_sign_ins": 0, "locked_until": None,
               "first_failed_at": None}  # fmt: skip
        if stored is None:
            conn.execute(t.insert().values(person=person.id, **row))
        else:
            conn.execute(t.update().where(t.c.person == person.id).values(**row))
    return _seal(person.id, changed_at)


def sign_in(
    settings: Settings,
    login: str,
    password: str,
    *,
    at: dt.datetime,
    policy: SignInPolicy = SignInPolicy(),
    client: str | None = None,
) -> SignedIn | None:
    """The person (and the seal of the password proved) when `password` is theirs and they may sign in now; None
    otherwise (the event says why)."""
    login = login.strip()[:100]
    people = list_people(settings)
    person = next((p for p in people if p.id == login), None)
    t = store.credentials
    row = None
    if person is not None:
        with store.read_connection(settings) as conn:
            row = conn.execute(select(t).where(t.c.person == person.id)).mappings().first()
    matches = _verify(row["password_hash"] if row else _dummy_hash(), password)
    locked = row is not None and row["locked_until"] is not None and row["locked_until"] > utc_stamp(at)
    reason = (
        "unknown_person" if person is None
        else "no_password" if row is None
        else "inactive" if not person.active
        else "locked" if locked
        else None if matches
        else "wrong_password"
    )  # fmt: skip
    if reason is None:
        assert person is not None
        if row["failed_sign_ins"]:
            with store.write_transaction(settings, CREDENTIALS_LOCK) as conn:
                conn.execute(t.update().where(t.c.person == person.id)
                             .values(failed_sign_ins=0, first_failed_at=None, locked_until=None))  # fmt: skip
        if _hasher().check_needs_rehash(row["password_hash"]):  # the same password, stronger parameters
            with store.write_transaction(settings, CREDENTIALS_LOCK) as conn:
                conn.execute(
                    t.update()
                    .where(t.c.person == person.id, t.c.password_hash == row["password_hash"])
                    .values(password_hash=_hasher().hash(password))
                )  # fmt: skip  (a reset meanwhile wins)
        record_event(settings, kind="session.signed_in", actor=person.name, agency=person.agency,
                     subject=f"person/{person.id}", payload={"client": client}, at=at)  # fmt: skip
        return SignedIn(person, _seal(person.id, row["changed_at"]))
    just_locked = reason == "wrong_password" and _count_failure(settings, person.id, at, policy)  # type: ignore[union-attr]
    record_event(settings, kind="session.sign_in_failed", actor=person.name if person else login or "(空)",
                 agency=person.agency if person else None, subject=f"person/{login}",
                 payload={"reason": reason, "client": client}, at=at)  # fmt: skip
    if just_locked:
        assert person is not None
        record_event(settings, kind="session.locked_out", actor=person.name, agency=person.agency,
                     subject=f"person/{person.id}", at=at,
                     payload={"failures": policy.max_failures, "until": utc_stamp(at + policy.lockout)})  # fmt: skip
    return None


def _count_failure(settings: Settings, person_id: str, at: dt.datetime, policy: SignInPolicy) -> bool:
    """One more failure in the account's window (a new window when the last one is over); True when it locks."""
    t = store.credentials
    now = utc_stamp(at)
    with store.write_transaction(settings, CREDENTIALS_LOCK) as conn:
        row = conn.execute(select(t).where(t.c.person == person_id)).mappings().one()
        window_open = row["first_failed_at"] is not None and row["first_failed_at"] > utc_stamp(
            at - policy.window
        )
        failures = row["failed_sign_ins"] + 1 if window_open else 1
        values = {
            "failed_sign_ins": failures,
            "first_failed_at": row["first_failed_at"] if window_open else now,
        }
        locks = failures >= policy.max_failures
        if locks:  # the next window starts after the lock-out
            values |= {
                "locked_until": utc_stamp(at + policy.lockout),
                "failed_sign_ins": 0,
                "first_failed_at": None,
            }
        conn.execute(t.update().where(t.c.person == person_id).values(**values))
    return locks


def record_sign_out(settings: Settings, person: Person, *, at: dt.datetime, reason: str = "user") -> None:
    """A session ended: signed out by the person (`user`), or closed by the portal (`expired`; `password_changed`:
    opened with a password that is no longer theirs; `upgraded`: opened before sessions were sealed)."""
    record_event(settings, kind="session.signed_out", actor=person.name, agency=person.agency,
                 subject=f"person/{person.id}", payload={"reason": reason}, at=at)  # fmt: skip


def password_seal(settings: Settings, person_id: str) -> str | None:
    """The seal of the person's current password (None without one): a portal session opened with another ends."""
    t = store.credentials
    with store.read_connection(settings) as conn:
        row = conn.execute(select(t.c.changed_at).where(t.c.person == person_id)).first()
    return None if row is None else _seal(person_id, row.changed_at)


def has_password(settings: Settings, person_id: str) -> bool:
    t = store.credentials
    with store.read_connection(settings) as conn:
        return conn.execute(select(t.c.person).where(t.c.person == person_id)).first() is not None
