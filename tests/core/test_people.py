"""People and roles: the registry, its events, and `authorize` — open while nobody is registered, then only active
people with the role, for their own agency (the office for any)."""

from __future__ import annotations

import datetime as dt

import pytest

from govhub.events import list_events
from govhub.people import authorize, deactivate, find_person, list_people, save_person
from govhub.problems import GovhubError
from govhub.roles import Role


def test_an_empty_registry_runs_open(settings) -> None:
    assert authorize(settings, "任何人", Role.STEWARD, "mzj", action_zh="申报零更新") == "任何人"


def test_registered_people_act_only_in_their_roles_and_agency(settings) -> None:
    save_person(settings, "wangmin", name="王敏", agency="mzj", roles=[Role.STEWARD], by="admin")
    save_person(settings, "lisi", name="李四", agency="mzj", roles=[Role.ANALYST], by="admin")
    save_person(settings, "office1", name="赵主任", agency="kw", roles=[Role.OFFICE], by="admin")
    assert authorize(settings, "wangmin", Role.STEWARD, "mzj", action_zh="申报零更新") == "王敏"
    assert authorize(settings, "王敏", Role.STEWARD, "mzj", action_zh="申报零更新") == "王敏"  # by name too
    assert authorize(settings, "office1", Role.STEWARD, "rsj", action_zh="申报零更新") == "赵主任"
    cases = {
        ("nobody", "mzj"): "people.unknown_person",
        ("lisi", "mzj"): "people.no_role",
        ("wangmin", "rsj"): "people.other_agency",
    }
    for (who, agency), code in cases.items():
        with pytest.raises(GovhubError) as err:
            authorize(settings, who, Role.STEWARD, agency, action_zh="申报零更新")
        assert err.value.problems[0].code == code and "申报零更新" in err.value.problems[0].message_zh
    deactivate(settings, "wangmin", by="admin")
    with pytest.raises(GovhubError) as err:
        authorize(settings, "wangmin", Role.STEWARD, "mzj", action_zh="申报零更新")
    assert err.value.problems[0].code == "people.inactive"
    assert find_person(settings, "wangmin").active is False and len(list_people(settings)) == 3
    kinds = [e.kind for e in list_events(settings, kind="people.*")]
    assert kinds == ["people.registered"] * 3 + ["people.deactivated"]


def test_a_zero_update_needs_a_steward_of_the_agency_once_people_are_registered(settings, tmp_path) -> None:
    from govhub.governance.zero_update import file_zero_update
    from tests.governance.conftest import make_resource

    weekly = make_resource("population", "weekly", agency="gongan", published_on=dt.date(2026, 1, 1))
    save_person(settings, "chen", name="陈静", agency="gongan", roles=[Role.STEWARD], by="admin")
    with pytest.raises(GovhubError) as err:
        file_zero_update(settings, weekly, period=None, by="张三")
    assert err.value.problems[0].code == "people.unknown_person"
    entry = file_zero_update(settings, weekly, period=None, by="chen")
    assert entry.attested_by == "陈静"  # recorded under the registered name


def test_people_commands(settings, monkeypatch, capsys) -> None:
    import json
    from pathlib import Path

    from govhub.cli.main import main

    catalog = ["--catalog", str(Path(__file__).resolve().parents[2] / "catalog")]
    assert main([*catalog, "people", "add", "wangmin", "--name", "王敏", "--agency", "mzj", "--role", "steward",
                 "--role", "analyst", "--by", "admin"]) == 0  # fmt: skip
    assert "数据专管员、分析人员" in capsys.readouterr().out
    assert main([*catalog, "people", "add", "x", "--name", "某人", "--agency", "nosuch", "--role", "steward",
                 "--by", "admin"]) == 1  # fmt: skip
    assert "不在目录中" in capsys.readouterr().err
    assert main([*catalog, "people", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["roles"] == ["steward", "analyst"]
    assert main([*catalog, "zero-update", "mzj/hydj", "--by", "cli"]) == 1  # the default actor is nobody
    assert "不是登记在册的人员" in capsys.readouterr().err
