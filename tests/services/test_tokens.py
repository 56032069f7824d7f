"""Docking API tokens: issued by the agency's steward or the office, one live token per consumer system, stored as a
peppered hash (never the secret), revocable; every issue, revocation and refusal in the event log."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from sqlalchemy import select

from govhub import store
from govhub.catalog.load import require_catalog
from govhub.clock import beijing_text, today_in_beijing
from govhub.config import Settings
from govhub.events import list_events
from govhub.problems import AccessDenied, GovhubError
from govhub.roles import Role
from govhub.services.people import register_person
from govhub.services.tokens import (
    PREFIX,
    create_token,
    digest,
    find_by_secret,
    get_token,
    list_tokens,
    revoke_token,
    touch,
)
from tests.conftest import REPO_CATALOG

pytestmark = pytest.mark.scale  # make test-scale runs these on PostgreSQL too

CATALOG = require_catalog(REPO_CATALOG)


@pytest.fixture
def hub(settings: Settings) -> Settings:
    for pid, name, agency, role, by in [
        ("zhaoqiang", "赵强", "kw", Role.OFFICE, "installer"),
        ("wangjingyi", "王静怡", "mzj", Role.STEWARD, "zhaoqiang"),
        ("lujianhua", "陆建华", "gaj", Role.STEWARD, "zhaoqiang"),
        ("mzj_fenxi", "卫欣怡", "mzj", Role.ANALYST, "zhaoqiang"),
        ("liuyang", "刘洋", "kw", Role.ENGINEER, "zhaoqiang"),
    ]:
        register_person(settings, pid, name=name, agency=agency, roles=[role], actor=by,
                        known_agencies=set(CATALOG.agencies))  # fmt: skip
    return settings


def test_a_steward_issues_a_token_whose_secret_is_shown_once_and_stored_only_as_a_peppered_hash(
    hub: Settings,
) -> None:
    issued = create_token(hub, CATALOG, agency="mzj", system="社会救助  管理系统", actor="wangjingyi")
    assert issued.secret.startswith(PREFIX) and len(issued.secret) == len(PREFIX) + 43  # 256 random bits
    assert issued.token.system == "社会救助 管理系统" and issued.token.created_by == "王静怡"
    assert (
        issued.token.id.startswith(f"TK-{today_in_beijing():%Y%m%d}-") and issued.token.active
    )  # as SQ-, GR-
    with store.read_connection(hub) as conn:
        (row,) = conn.execute(select(store.api_tokens)).mappings().all()
    assert row["token_hash"] == digest(hub, issued.secret) and issued.secret not in str(dict(row))
    # the pepper lives outside the store, readable by the hub's owner only: a plain SHA-256 would not match
    import hashlib

    assert row["token_hash"] != hashlib.sha256(issued.secret.encode()).hexdigest()
    assert stat.S_IMODE((hub.state_dir / "api.secret").stat().st_mode) == 0o600
    assert find_by_secret(hub, issued.secret) == issued.token
    assert find_by_secret(hub, issued.secret + "x") is None
    (event,) = list_events(hub, kind="token.created")
    assert event.actor == "王静怡" and event.agency == "mzj" and event.payload["id"] == issued.token.id
    assert issued.secret not in str(event.to_dict()) and row["token_hash"] not in str(event.to_dict())


def test_one_live_token_per_consumer_system_and_a_revoked_one_can_be_replaced(hub: Settings) -> None:
    first = create_token(hub, CATALOG, agency="mzj", system="低保核对系统", actor="wangjingyi")
    with pytest.raises(GovhubError) as refused:
        create_token(hub, CATALOG, agency="mzj", system="低保核对系统", actor="zhaoqiang")
    assert refused.value.problems[0].code == "token.exists" and first.token.id in str(refused.value)
    other = create_token(hub, CATALOG, agency="mzj", system="养老服务系统", actor="wangjingyi")
    revoked = revoke_token(hub, first.token.id, actor="wangjingyi")
    assert not revoked.active and revoked.revoked_by == "王静怡" and revoked.status_label == "已撤销"
    with pytest.raises(GovhubError, match="已于"):
        revoke_token(hub, first.token.id, actor="zhaoqiang")
    again = create_token(hub, CATALOG, agency="mzj", system="低保核对系统", actor="wangjingyi")
    assert again.secret != first.secret and len({first.token.id, other.token.id, again.token.id}) == 3
    found = find_by_secret(hub, first.secret)
    assert found is not None and not found.active  # a revoked token is still known, so a refusal can say so
    assert [e.kind for e in list_events(hub, kind="token.*")] == ["token.created"] * 2 + [
        "token.revoked",
        "token.created",
    ]


def test_only_the_agencys_steward_or_the_office_manage_its_tokens_and_refusals_are_recorded(
    hub: Settings,
) -> None:
    for who in ("lujianhua", "mzj_fenxi", "liuyang", "nobody"):
        with pytest.raises(AccessDenied):
            create_token(hub, CATALOG, agency="mzj", system="x", actor=who)
    office = create_token(hub, CATALOG, agency="gaj", system="人口核验", actor="zhaoqiang")
    with pytest.raises(AccessDenied):
        revoke_token(hub, office.token.id, actor="wangjingyi")  # another agency's token
    with pytest.raises(AccessDenied):
        list_tokens(hub, actor="wangjingyi", agency="gaj")
    assert len(list_events(hub, kind="access.denied")) == 6
    mine = create_token(hub, CATALOG, agency="mzj", system="x", actor="wangjingyi")
    assert [t.id for t in list_tokens(hub, actor="wangjingyi")] == [mine.token.id]  # own agency only
    assert {t.id for t in list_tokens(hub, actor="zhaoqiang")} == {mine.token.id, office.token.id}
    assert [t.id for t in list_tokens(hub, actor="zhaoqiang", agency="gaj")] == [office.token.id]


def test_names_and_agencies_are_checked(hub: Settings) -> None:
    for bad in ("", "   ", "x" * 101, "系统\x00"):
        with pytest.raises(GovhubError) as refused:
            create_token(hub, CATALOG, agency="mzj", system=bad, actor="wangjingyi")
        assert refused.value.problems[0].code == "token.bad_system"
    with pytest.raises(GovhubError) as refused:
        create_token(hub, CATALOG, agency="nosuch", system="x", actor="zhaoqiang")
    assert refused.value.problems[0].code == "scope.unknown_agency"
    with pytest.raises(GovhubError) as refused:
        get_token(hub, "TK-none")
    assert refused.value.problems[0].code == "token.unknown"


def test_last_use_is_recorded_at_most_once_a_minute(hub: Settings) -> None:
    issued = create_token(hub, CATALOG, agency="mzj", system="x", actor="wangjingyi")
    now = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
    touch(hub, issued.token, now)
    used = get_token(hub, issued.token.id)
    assert used.last_used_at == "2026-11-27T08:00:00.000000Z"
    touch(hub, used, now + dt.timedelta(seconds=30))  # within the minute: no write
    assert get_token(hub, issued.token.id).last_used_at == used.last_used_at
    touch(hub, used, now + dt.timedelta(minutes=2))
    assert get_token(hub, issued.token.id).last_used_at == "2026-11-27T08:02:00.000000Z"


def test_the_token_command_prints_the_secret_once_and_lists_and_revokes(hub: Settings, govhub) -> None:  # type: ignore[no-untyped-def]
    import json

    run = govhub("--catalog", REPO_CATALOG, "token", "create", "--agency", "mzj", "--system", "救助系统",
                 "--by", "wangjingyi", "--json")  # fmt: skip
    assert run.code == 0, run.err
    created = json.loads(run.out)
    assert created["secret"].startswith(PREFIX) and find_by_secret(hub, created["secret"]).id == created["id"]
    listed = govhub("--catalog", REPO_CATALOG, "token", "list", "--by", "wangjingyi")
    assert listed.code == 0 and created["id"] in listed.out and "救助系统" in listed.out
    issued = beijing_text(get_token(hub, created["id"]).created_at, zone=False)
    assert "签发时间（北京时间）" in listed.out and issued in listed.out and "UTC" not in listed.out
    assert created["secret"] not in listed.out
    refused = govhub("--catalog", REPO_CATALOG, "token", "revoke", created["id"], "--by", "lujianhua")
    assert refused.code == 1 and "不能为松江区民政局" in refused.err
    done = govhub("--catalog", REPO_CATALOG, "token", "revoke", created["id"], "--by", "wangjingyi")
    assert done.code == 0 and "已撤销" in done.out
    plain = govhub("--catalog", REPO_CATALOG, "token", "create", "--agency", "mzj", "--system", "救助系统",
                   "--by", "zhaoqiang")  # fmt: skip
    assert plain.code == 0 and "只显示这一次" in plain.out and PREFIX in plain.out
