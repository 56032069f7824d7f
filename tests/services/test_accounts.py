"""Portal accounts (§16): only the office sets passwords; sign-in answers by the service, recorded, never the password."""

from __future__ import annotations

import datetime as dt

import pytest

from govhub.events import list_events
from govhub.people import save_person
from govhub.problems import AccessDenied, GovhubError
from govhub.roles import Role
from govhub.services.accounts import SignInPolicy, set_password, sign_in


def test_only_the_office_sets_passwords_and_sign_in_locks_after_the_window_fills(settings) -> None:
    save_person(settings, "office1", name="赵强", agency="kw", roles=[Role.OFFICE], by="test")
    save_person(settings, "steward1", name="王静怡", agency="mzj", roles=[Role.STEWARD], by="test")
    with pytest.raises(AccessDenied):
        set_password(settings, "steward1", "Songjiang-2016!", actor="steward1")
    with pytest.raises(GovhubError, match="至少10个字符"):
        set_password(settings, "steward1", "short", actor="office1")
    set_password(settings, "steward1", "Songjiang-2016!", actor="office1")
    at = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)
    policy = SignInPolicy(max_failures=3, window=dt.timedelta(minutes=10), lockout=dt.timedelta(minutes=30))
    assert sign_in(settings, "steward1", "Songjiang-2016!", at=at, policy=policy).person.id == "steward1"
    # two failures, then the window passes: counting starts again
    for minute in (1, 2):
        assert (
            sign_in(settings, "steward1", "Xq-not-it-9", at=at + dt.timedelta(minutes=minute), policy=policy)
            is None
        )
    later = at + dt.timedelta(minutes=20)
    for minute in (0, 1):
        assert (
            sign_in(
                settings, "steward1", "Xq-not-it-9", at=later + dt.timedelta(minutes=minute), policy=policy
            )
            is None
        )
    assert sign_in(settings, "steward1", "Songjiang-2016!", at=later + dt.timedelta(minutes=2), policy=policy)
    # three failures within the window lock the account, the right password included, until the lock-out ends
    for minute in (3, 4, 5):
        sign_in(settings, "steward1", "Xq-not-it-9", at=later + dt.timedelta(minutes=minute), policy=policy)
    assert (
        sign_in(settings, "steward1", "Songjiang-2016!", at=later + dt.timedelta(minutes=6), policy=policy)
        is None
    )
    assert sign_in(
        settings, "steward1", "Songjiang-2016!", at=later + dt.timedelta(minutes=36), policy=policy
    )
    assert len(list_events(settings, kind="session.locked_out")) == 1
    assert all("Xq-not-it-9" not in str(e.payload) for e in list_events(settings, kind="session.*"))


def test_the_seal_changes_with_every_new_password_and_only_then(settings) -> None:
    """A session's seal (what a portal session keeps) changes when a password is stored — even twice at one clock
    reading — and not when sign-in re-hashes the same password with stronger parameters; a change checked against
    a password that was replaced meanwhile is refused rather than written over the replacement."""
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from govhub import store
    from govhub.people import list_people
    from govhub.services.accounts import _store_password, change_own_password, password_seal

    save_person(settings, "office1", name="赵强", agency="kw", roles=[Role.OFFICE], by="test")
    save_person(settings, "steward1", name="王静怡", agency="mzj", roles=[Role.STEWARD], by="test")
    person = next(p for p in list_people(settings) if p.id == "steward1")
    at = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)
    set_password(settings, "steward1", "Songjiang-2016!", actor="office1", at=at)
    first = password_seal(settings, "steward1")
    signed = sign_in(settings, "steward1", "Songjiang-2016!", at=at)
    assert signed is not None and signed.seal == first
    set_password(settings, "steward1", "Songjiang-2016!", actor="office1", at=at)  # the same moment, again
    assert password_seal(settings, "steward1") not in (None, first)

    # weaker parameters stored (as an older release would have): sign-in re-hashes, the seal stays
    t = store.credentials
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("Songjiang-2016!")
    with store.write_transaction(settings, "test") as conn:
        conn.execute(t.update().where(t.c.person == "steward1").values(password_hash=weak))
    before = password_seal(settings, "steward1")
    assert sign_in(settings, "steward1", "Songjiang-2016!", at=at).seal == before
    with store.read_connection(settings) as conn:
        rehashed = conn.execute(select(t.c.password_hash).where(t.c.person == "steward1")).scalar_one()
    assert rehashed != weak and password_seal(settings, "steward1") == before

    # checked against one hash, written over another: refused, the replacement kept
    with pytest.raises(GovhubError) as meanwhile:
        _store_password(settings, person, "Another-Pass-2026", at, over=weak)
    assert meanwhile.value.problems[0].code == "people.changed_meanwhile"
    assert password_seal(settings, "steward1") == before
    fresh = change_own_password(settings, person, "Songjiang-2016!", "Another-Pass-2026", at=at)
    assert fresh == password_seal(settings, "steward1") != before


def test_a_shared_password_is_hashed_once_and_opens_each_account_as_its_own(settings) -> None:
    """The demo's published password for many people: one hash, each person signs in as themselves with their own
    seal; only the office may do it, for registered people, and never a password equal to someone's login."""
    from govhub import store
    from govhub.services.accounts import set_shared_password

    save_person(settings, "office1", name="赵强", agency="kw", roles=[Role.OFFICE], by="test")
    for pid, name in (("steward1", "王静怡"), ("lujianhua-02", "陆建华")):
        save_person(settings, pid, name=name, agency="mzj", roles=[Role.STEWARD], by="test")
    with pytest.raises(AccessDenied):
        set_shared_password(settings, ["steward1"], "Songjiang-2016!", actor="steward2")
    with pytest.raises(GovhubError, match="nosuch"):
        set_shared_password(settings, ["steward1", "nosuch"], "Songjiang-2016!", actor="office1")
    with pytest.raises(GovhubError, match=r"陆建华的密码.*不能与登录名相同"):
        set_shared_password(settings, ["steward1", "lujianhua-02"], "lujianhua-02", actor="office1")
    with store.read_connection(settings) as conn:  # refused for one: set for nobody
        assert conn.execute(store.credentials.select()).first() is None
    set_shared_password(settings, ["steward1", "lujianhua-02"], "Songjiang-2016!", actor="office1")
    with store.read_connection(settings) as conn:
        hashes = {r.password_hash for r in conn.execute(store.credentials.select())}
    assert len(hashes) == 1
    at = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)
    one, two = (sign_in(settings, p, "Songjiang-2016!", at=at) for p in ("steward1", "lujianhua-02"))
    assert (one.person.id, two.person.id) == ("steward1", "lujianhua-02") and one.seal != two.seal
    assert sign_in(settings, "steward1", "Songjiang-2017!", at=at) is None
    assert len(list_events(settings, kind="people.password_set")) == 2


def test_a_locked_account_is_told_so_when_changing_its_password_not_that_the_password_is_wrong(
    settings,
) -> None:
    from govhub.people import list_people
    from govhub.services.accounts import change_own_password

    save_person(settings, "office1", name="赵强", agency="kw", roles=[Role.OFFICE], by="test")
    save_person(settings, "steward1", name="王静怡", agency="mzj", roles=[Role.STEWARD], by="test")
    person = next(p for p in list_people(settings) if p.id == "steward1")
    at = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)
    set_password(settings, "steward1", "Songjiang-2016!", actor="office1", at=at)
    policy = SignInPolicy(max_failures=2, window=dt.timedelta(minutes=10), lockout=dt.timedelta(minutes=30))
    for _ in range(2):
        with pytest.raises(GovhubError, match="当前密码不正确"):
            change_own_password(settings, person, "Xq-not-it-9", "Another-Pass-2026", at=at, policy=policy)
    with pytest.raises(GovhubError) as locked:  # the right one now: the lock-out is what stands in the way
        change_own_password(settings, person, "Songjiang-2016!", "Another-Pass-2026", at=at, policy=policy)
    problem = locked.value.problems[0]
    assert problem.code == "people.locked" and "锁定至 2026-11-27 17:30" in problem.message_zh
    refusals = list_events(settings, kind="people.password_change_refused")
    assert [e.payload["reason"] for e in refusals][-1] == "locked"
