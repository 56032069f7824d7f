"""Access control (§16): the registry, its events, and `authorize` — open while nobody is registered, then only active
people with the action's role, for their own agency (the office for any); every refusal recorded."""

from __future__ import annotations

import datetime as dt

import pytest

from govhub.access import UNATTRIBUTED, Action, authorize
from govhub.events import list_events
from govhub.people import deactivate, find_person, list_people, save_person
from govhub.problems import AccessDenied, GovhubError
from govhub.roles import Role


def test_an_empty_registry_runs_open(settings) -> None:
    assert authorize(settings, "任何人", Action.ZERO_UPDATE, "mzj").name == "任何人"


def test_registered_people_act_only_in_their_roles_and_agency(settings) -> None:
    save_person(settings, "office1", name="赵主任", agency="kw", roles=[Role.OFFICE], by="admin")
    save_person(settings, "wangmin", name="王敏", agency="mzj", roles=[Role.STEWARD], by="admin")
    save_person(settings, "lisi", name="李四", agency="mzj", roles=[Role.ANALYST], by="admin")
    assert authorize(settings, "wangmin", Action.ZERO_UPDATE, "mzj").name == "王敏"
    assert authorize(settings, "王敏", Action.ZERO_UPDATE, "mzj").name == "王敏"  # by name too
    assert authorize(settings, "office1", Action.ZERO_UPDATE, "rsj").name == "赵主任"
    cases = {
        ("nobody", "mzj"): "people.unknown_person",
        ("lisi", "mzj"): "people.no_role",
        ("wangmin", "rsj"): "people.other_agency",
    }
    for (who, agency), code in cases.items():
        with pytest.raises(AccessDenied) as err:
            authorize(settings, who, Action.ZERO_UPDATE, agency)
        assert err.value.problems[0].code == code and "申报零更新" in err.value.problems[0].message_zh
    deactivate(settings, "wangmin", by="admin")
    with pytest.raises(GovhubError) as err:
        authorize(settings, "wangmin", Action.ZERO_UPDATE, "mzj")
    assert err.value.problems[0].code == "people.inactive"
    assert find_person(list_people(settings), "wangmin").active is False and len(list_people(settings)) == 3
    kinds = [e.kind for e in list_events(settings, kind="people.*")]
    assert kinds == ["people.registered"] * 3 + ["people.deactivated"]
    denied = list_events(settings, kind="access.denied")
    assert [(e.actor, e.agency, e.payload["code"]) for e in denied] == [
        ("nobody", "mzj", "people.unknown_person"),
        ("lisi", "mzj", "people.no_role"),
        ("wangmin", "rsj", "people.other_agency"),
        ("wangmin", "mzj", "people.inactive"),
    ]


def test_system_actors_pull_but_never_deliver_an_agencys_sheet(settings) -> None:
    save_person(settings, "office1", name="赵主任", agency="kw", roles=[Role.OFFICE], by="admin")
    assert authorize(settings, "system:schedule", Action.PULL, "gaj").system
    for action in (Action.UPLOAD, Action.ZERO_UPDATE, Action.MANAGE_PEOPLE):
        with pytest.raises(AccessDenied) as err:
            authorize(settings, "system:dagster", action, "gaj")
        assert "需由具体人员操作" in err.value.problems[0].message_zh


def test_an_unattributed_inbox_file_is_refused_once_people_are_registered(settings) -> None:
    assert authorize(settings, UNATTRIBUTED, Action.UPLOAD, "mzj").name == UNATTRIBUTED  # open hub
    save_person(settings, "office1", name="赵主任", agency="kw", roles=[Role.OFFICE], by="admin")
    with pytest.raises(AccessDenied) as err:
        authorize(settings, UNATTRIBUTED, Action.UPLOAD, "mzj")
    assert err.value.problems[0].code == "inbox.unattributed" and "登录名" in err.value.problems[0].message_zh


def test_only_the_office_manages_people_once_anyone_is_registered(settings) -> None:
    from govhub.services.people import deactivate_person, register_person

    register_person(settings, "office1", name="赵主任", agency="kw", roles=[Role.OFFICE], actor="installer")
    register_person(settings, "wangmin", name="王敏", agency="mzj", roles=[Role.STEWARD], actor="office1")
    with pytest.raises(AccessDenied):
        register_person(settings, "me", name="我", agency="mzj", roles=[Role.OFFICE], actor="wangmin")
    with pytest.raises(AccessDenied):
        deactivate_person(settings, "office1", actor="wangmin")
    assert [p.id for p in list_people(settings)] == ["office1", "wangmin"]
    assert deactivate_person(settings, "wangmin", actor="office1").active is False


def test_the_registry_always_keeps_an_active_office_person(settings) -> None:
    """Only the office manages people: a registry whose first person is not the office, or whose last active office
    person is deactivated or loses the role, could never be changed again. Each is refused and changes nothing."""
    from govhub.services.people import deactivate_person, register_person

    with pytest.raises(GovhubError) as err:
        register_person(
            settings, "wangmin", name="王敏", agency="mzj", roles=[Role.STEWARD], actor="installer"
        )
    assert (
        err.value.problems[0].code == "people.no_office" and "协调办公室" in err.value.problems[0].message_zh
    )
    assert list_people(settings) == []  # still open: the installer can start again with the office
    register_person(settings, "office1", name="赵主任", agency="kw", roles=[Role.OFFICE], actor="installer")
    register_person(settings, "wangmin", name="王敏", agency="mzj", roles=[Role.STEWARD], actor="office1")
    refused = {
        "deactivate": lambda: deactivate_person(settings, "office1", actor="office1"),
        "drop the role": lambda: register_person(
            settings,
            "office1",
            name="赵主任",
            agency="kw",
            roles=[Role.ENGINEER],
            actor="office1",
            update=True,
        ),
    }
    for what, attempt in refused.items():
        with pytest.raises(GovhubError) as err:
            attempt()
        problem = err.value.problems[0]
        assert problem.code == "people.last_office", what
        assert "最后一位在用的协调办公室人员" in problem.message_zh and "赵主任" in problem.message_zh
    office1 = find_person(list_people(settings), "office1")
    assert office1.active and office1.roles == (Role.OFFICE,)
    assert [e.kind for e in list_events(settings, kind="people.*")] == ["people.registered"] * 2
    # with a second office person, the first may go
    register_person(settings, "office2", name="钱主任", agency="kw", roles=[Role.OFFICE], actor="office1")
    assert deactivate_person(settings, "office1", actor="office2").active is False
    with pytest.raises(GovhubError, match="钱主任"):
        deactivate_person(settings, "office2", actor="office2")


def test_saving_a_registered_person_again_says_what_changed(settings) -> None:
    from govhub.services.people import deactivate_person, register_person

    new = register_person(
        settings, "office1", name="赵主任", agency="kw", roles=[Role.OFFICE], actor="installer"
    )
    assert new.before is None and new.changes_zh == []
    register_person(settings, "wangmin", name="王敏", agency="mzj", roles=[Role.STEWARD], actor="office1")
    deactivate_person(settings, "wangmin", actor="office1")
    with pytest.raises(GovhubError) as err:  # a typo must not move a steward: a change is asked for by name
        register_person(settings, "wangmin", name="王敏", agency="rsj", roles=[Role.STEWARD], actor="office1")
    problem = err.value.problems[0]
    assert (
        problem.code == "people.exists" and "已登记为 王敏（mzj，数据专管员，已停用）" in problem.message_zh
    )
    assert "--update" in problem.message_zh and not find_person(list_people(settings), "wangmin").active
    again = register_person(settings, "wangmin", name="王敏", agency="rsj", roles=[Role.STEWARD, Role.ANALYST],
                            actor="office1", update=True)  # fmt: skip
    assert again.before is not None and not again.before.active and again.person.active
    assert again.changes_zh == [
        "机构：mzj → rsj",
        "角色：数据专管员 → 数据专管员、分析人员",
        "账号：已停用 → 重新启用",
    ]
    same = register_person(
        settings, "wangmin", name="王敏", agency="rsj", roles=[Role.STEWARD, Role.ANALYST], actor="office1"
    )  # fmt: skip  (the same again: nothing to confirm)
    for login in ("王 五", "../x", "a/b", ".hidden", "x" * 65):
        with pytest.raises(GovhubError, match="登录名"):
            register_person(settings, login, name="某人", agency="mzj", roles=[Role.ANALYST], actor="office1")
    assert same.before == same.person and same.changes_zh == []


def test_a_zero_update_needs_a_steward_of_the_agency_once_people_are_registered(settings, tmp_path) -> None:
    from govhub.services.zero_update import declare_zero_update
    from tests.governance.conftest import make_resource

    weekly = make_resource("population", "weekly", agency="gongan", published_on=dt.date(2026, 1, 1))
    save_person(settings, "office1", name="赵主任", agency="kw", roles=[Role.OFFICE], by="admin")
    save_person(settings, "chen", name="陈静", agency="gongan", roles=[Role.STEWARD], by="admin")
    with pytest.raises(GovhubError) as err:
        declare_zero_update(settings, weekly, actor="张三")
    assert err.value.problems[0].code == "people.unknown_person"
    entry = declare_zero_update(settings, weekly, actor="chen")
    assert entry.attested_by == "陈静"  # recorded under the registered name


def test_people_commands(settings, monkeypatch, capsys) -> None:
    import json
    from pathlib import Path

    from govhub.cli.main import main

    catalog = ["--catalog", str(Path(__file__).resolve().parents[2] / "catalog")]
    assert main([*catalog, "people", "add", "zhao", "--name", "赵强", "--agency", "kw", "--role", "office",
                 "--by", "installer"]) == 0  # fmt: skip
    assert main([*catalog, "people", "add", "wangmin", "--name", "王敏", "--agency", "mzj", "--role", "steward",
                 "--role", "analyst", "--by", "zhao"]) == 0  # fmt: skip
    assert "数据专管员、分析人员" in capsys.readouterr().out
    assert main([*catalog, "people", "add", "x", "--name", "某人", "--agency", "nosuch", "--role", "steward",
                 "--by", "zhao"]) == 1  # fmt: skip
    assert "不在目录中" in capsys.readouterr().err
    assert main([*catalog, "people", "add", "y", "--name", "某人", "--agency", "mzj", "--role", "office",
                 "--by", "wangmin"]) == 1  # fmt: skip
    assert "管理人员和角色需要协调办公室角色" in capsys.readouterr().err
    assert main([*catalog, "people", "list", "--json"]) == 0
    listed = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["wangmin"]["roles"] == ["steward", "analyst"] and set(listed) == {"zhao", "wangmin"}
    assert main([*catalog, "people", "add", "wangmin", "--name", "王敏", "--agency", "mzj", "--role", "steward",
                 "--by", "zhao"]) == 1  # fmt: skip
    assert "已登记为 王敏（mzj，数据专管员、分析人员）" in capsys.readouterr().err
    assert main([*catalog, "people", "add", "wangmin", "--name", "王敏", "--agency", "mzj", "--role", "steward",
                 "--by", "zhao", "--update"]) == 0  # fmt: skip
    assert (
        capsys.readouterr().out.strip()
        == "已修改：王敏（wangmin）已登记过；角色：数据专管员、分析人员 → 数据专管员"
    )
    assert main([*catalog, "people", "deactivate", "zhao", "--by", "zhao"]) == 1
    err = capsys.readouterr().err
    assert "赵强（zhao）是最后一位在用的协调办公室人员" in err and "Traceback" not in err
    assert main([*catalog, "zero-update", "mzj/hydj", "--by", "cli"]) == 1  # the default actor is nobody
    assert "不是登记在册的人员" in capsys.readouterr().err
