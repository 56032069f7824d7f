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
    assert sign_in(settings, "steward1", "Songjiang-2016!", at=at, policy=policy).id == "steward1"
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
