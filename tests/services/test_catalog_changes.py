"""Catalog changes (§10): a steward proposes the new entry of their agency's resource, checked as `govhub catalog
validate` checks the folder; the office approves (the file is replaced, the catalog still valid) or returns it with a
reason; the §10 drift deadline travels with the proposal."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from govhub import store
from govhub.catalog.load import load_catalog, require_catalog
from govhub.config import get_settings
from govhub.events import list_events
from govhub.problems import AccessDenied, GovhubError
from govhub.roles import Role
from govhub.services import catalog_changes as svc
from govhub.services.people import register_person
from govhub.states import ChangeState
from tests.servers import store_env

pytestmark = pytest.mark.scale  # make test-scale runs these on PostgreSQL too

catalog_changes = store.catalog_changes

REPO_CATALOG = Path(__file__).resolve().parents[2] / "catalog"
PEOPLE = [  # id, name, agency, role
    ("zhaoqiang", "赵强", "kw", Role.OFFICE),
    ("lujianhua", "陆建华", "gaj", Role.STEWARD),
    ("gaj_fenxi", "周敏", "gaj", Role.ANALYST),
    ("wangjingyi", "王静怡", "mzj", Role.STEWARD),
]
STEWARD, ANALYST, OTHER_STEWARD, OFFICE = "lujianhua", "gaj_fenxi", "wangjingyi", "zhaoqiang"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    monkeypatch.delenv("GOVHUB_STATE_URL", raising=False)
    catalog_dir = tmp_path / "catalog"
    shutil.copytree(REPO_CATALOG, catalog_dir)
    settings = get_settings(tmp_path / "home", catalog_dir, env=store_env(request, tmp_path / "home"))
    catalog = require_catalog(catalog_dir)
    for pid, name, agency, role in PEOPLE:  # the office first (the registry is open while empty)
        by = "installer" if role is Role.OFFICE else OFFICE
        register_person(
            settings,
            pid,
            name=name,
            agency=agency,
            roles=[role],
            actor=by,
            known_agencies=set(catalog.agencies),
        )
    return settings, catalog


def entry(hub, key: str) -> str:
    settings, catalog = hub
    return svc.current_yaml(settings, catalog.resource(key))


def stored(settings) -> list[str]:
    with store.read_connection(settings) as conn:
        return [r.id for r in conn.execute(select(catalog_changes.c.id))]


def test_an_invalid_entry_is_refused_with_the_validators_chinese_problems_and_nothing_is_stored(hub) -> None:
    settings, catalog = hub
    text = entry(hub, "gaj/hjrk")
    cases = {
        "fields: [": "不是有效的 YAML",
        text.replace("  conditions: 仅限", "  note: 仅限"): "不是目录元素",  # a misspelt element (schema)
        text.replace("share:\n  type: conditional\n  conditions:", "share:\n  type: conditional\n  legal_basis:"):
            "按需共享的资源须写明共享条件",  # a catalog rule
        text.replace("primary_key: [id_number]", "primary_key: [nobody]"): "不是本资源的信息项",
        text.replace("code: 101001001/000001", "code: 101001002/000001"): "已被",  # lhry's code
        text.replace("id: hjrk", "id: hjrk2"): "应仍为“hjrk”",
        text.replace("agency: gaj", "agency: mzj"): "应仍为“gaj”",
        text: "与现行目录相同",
        "": "请填写资源的完整目录条目",
    }  # fmt: skip
    for yaml_text, said in cases.items():
        with pytest.raises(GovhubError) as caught:
            svc.propose(settings, catalog, "gaj/hjrk", actor=STEWARD, yaml_text=yaml_text, note="修订")
        messages = "；".join(p.message_zh for p in caught.value.problems)
        assert said in messages, (said, messages)
        assert all(p.code.startswith("catalog_change.") for p in caught.value.problems)
    with pytest.raises(GovhubError, match="变更说明"):  # why, in words: required
        svc.propose(
            settings,
            catalog,
            "gaj/hjrk",
            actor=STEWARD,
            yaml_text=text.replace("户籍地址", "户籍登记地址"),
            note=" ",
        )
    assert stored(settings) == [] and list_events(settings, kind="catalog.*") == []
    # a validator problem names file, resource and element as `govhub catalog validate` prints it
    with pytest.raises(GovhubError) as caught:
        svc.propose(settings, catalog, "gaj/hjrk", actor=STEWARD, note="x",
                    yaml_text=text.replace("primary_key: [id_number]", "primary_key: [nobody]"))  # fmt: skip
    assert caught.value.problems[0].message_zh.startswith("gaj/hjrk.yaml：101001001/000001：primary_key[0]：")


def test_only_the_resources_own_steward_proposes(hub) -> None:
    settings, catalog = hub
    text = entry(hub, "gaj/hjrk").replace("户籍地址", "户籍登记地址")
    for who in (OTHER_STEWARD, ANALYST):
        with pytest.raises(AccessDenied):
            svc.propose(settings, catalog, "gaj/hjrk", actor=who, yaml_text=text, note="改名")
    assert stored(settings) == []
    assert {e.actor for e in list_events(settings, kind="access.denied")} == {OTHER_STEWARD, ANALYST}
    with pytest.raises(AccessDenied):  # nor sees another agency's changes
        svc.list_changes(settings, actor=OTHER_STEWARD, agency="gaj")


def test_the_office_approves_and_the_catalog_file_changes_and_stays_valid(hub) -> None:
    settings, catalog = hub
    before = entry(hub, "gaj/hjrk")
    change = svc.propose(settings, catalog, "gaj/hjrk", actor=STEWARD, note="地址信息项更名",
                         yaml_text=before.replace("label: 户籍地址", "label: 户籍登记地址"))  # fmt: skip
    assert (change.state, change.agency, change.resource, change.proposed_by, change.proposed_by_id, change.due) == (
        ChangeState.PENDING, "gaj", "hjrk", "陆建华", STEWARD, None)  # fmt: skip
    assert change.id.startswith("CC-") and len(change.id) == len("CC-20261129-0001")
    assert entry(hub, "gaj/hjrk") == before  # nothing written until approved
    assert [c.id for c in svc.list_changes(settings, actor=STEWARD)] == [change.id]  # their agency's
    assert [c.id for c in svc.list_changes(settings, actor=OFFICE, states=[ChangeState.PENDING])] == [
        change.id
    ]
    with pytest.raises(AccessDenied):  # the steward does not approve their own proposal
        svc.approve(settings, change.id, actor=STEWARD)

    done = svc.approve(settings, change.id, actor=OFFICE)
    assert (done.state, done.decided_by) == (ChangeState.APPROVED, "赵强") and done.decided_at
    path = settings.catalog_dir / "gaj" / "hjrk.yaml"
    assert "label: 户籍登记地址" in path.read_text(encoding="utf-8")
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    reread, problems = load_catalog(settings.catalog_dir)  # what `govhub catalog validate` reads
    assert problems == []
    assert reread.resource("gaj/hjrk").field("address").label == "户籍登记地址"
    assert [e.kind for e in list_events(settings, kind="catalog.*")] == ["catalog.change_proposed",
                                                                         "catalog.change_approved"]  # fmt: skip
    with pytest.raises(GovhubError, match="「已批准」"):  # decided once
        svc.return_change(settings, change.id, actor=OFFICE, reason="迟了")


def test_returning_needs_a_reason_and_leaves_the_catalog_alone(hub) -> None:
    settings, catalog = hub
    before = entry(hub, "gaj/hjrk")
    change = svc.propose(settings, catalog, "gaj/hjrk", actor=STEWARD, note="改名",
                         yaml_text=before.replace("label: 户籍地址", "label: 地址"))  # fmt: skip
    for reason in ("", "   "):
        with pytest.raises(GovhubError, match="须写明理由"):
            svc.return_change(settings, change.id, actor=OFFICE, reason=reason)
    with pytest.raises(AccessDenied):
        svc.return_change(settings, change.id, actor=STEWARD, reason="自己撤回")
    back = svc.return_change(settings, change.id, actor=OFFICE, reason="名称应与标准一致")
    assert (back.state, back.reason, back.decided_by) == (ChangeState.RETURNED, "名称应与标准一致", "赵强")
    assert entry(hub, "gaj/hjrk") == before
    returned = list_events(settings, kind="catalog.change_returned")
    assert returned and returned[0].payload["reason"] == "名称应与标准一致"
    with pytest.raises(GovhubError, match="已退回"):
        svc.approve(settings, change.id, actor=OFFICE)


def test_an_approval_checks_the_entry_again_against_the_catalog_as_it_is_now(hub) -> None:
    settings, catalog = hub
    hjrk = svc.propose(settings, catalog, "gaj/hjrk", actor=STEWARD, note="代码调整",
                       yaml_text=entry(hub, "gaj/hjrk").replace("101001001/000001", "101001009/000001"))  # fmt: skip
    lhry = svc.propose(settings, catalog, "gaj/lhry", actor=STEWARD, note="代码调整",
                       yaml_text=entry(hub, "gaj/lhry").replace("101001002/000001", "101001009/000001"))  # fmt: skip
    svc.approve(settings, hjrk.id, actor=OFFICE)  # each valid alone; together, one code twice
    before = entry(hub, "gaj/lhry")
    with pytest.raises(GovhubError) as caught:
        svc.approve(settings, lhry.id, actor=OFFICE)
    assert "资源代码 101001009/000001 已被" in caught.value.problems[0].message_zh
    assert svc.get_change(settings, lhry.id).state is ChangeState.PENDING and entry(hub, "gaj/lhry") == before
    assert require_catalog(settings.catalog_dir).resource("101001009/000001").id == "hjrk"


def test_the_drift_deadline_travels_with_the_proposal(hub) -> None:
    settings, catalog = hub
    due = dt.date(2026, 12, 2)  # a Wednesday: drift found on Monday 30 November
    with store.write_transaction(settings) as conn:
        conn.execute(store.catalog_drift.insert().values(
            agency="gaj", resource="hjrk", catalog_fingerprint=catalog.resource("gaj/hjrk").fingerprint,
            detected_at="2026-11-30T02:00:00Z", deadline=due, details="[]"))  # fmt: skip
    change = svc.propose(settings, catalog, "gaj/hjrk", actor=STEWARD, note="补充信息项",
                         yaml_text=entry(hub, "gaj/hjrk").replace("label: 户籍地址", "label: 户籍登记地址"))  # fmt: skip
    assert change.due == due
    assert svc.due_text(settings, change, dt.date(2026, 12, 1)) == "目录更新期限：2026-12-02（第1个工作日）"
    assert svc.due_text(settings, change, due) == "目录更新期限：2026-12-02（第2个工作日）"
    assert (
        svc.due_text(settings, change, dt.date(2026, 12, 4)) == "目录更新期限：2026-12-02（已逾期2个工作日）"
    )
    assert list_events(settings, kind="catalog.change_proposed")[0].payload["due"] == "2026-12-02"
    svc.approve(settings, change.id, actor=OFFICE)  # the entry changed: its drift flag closes
    from govhub.governance.drift import open_flags

    assert open_flags(settings) == []


BOMB = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9)
)  # 9**9 strings once expanded: a "billion laughs"


@pytest.mark.parametrize(
    "text, words",
    [
        (None, "锚点和别名"),  # the bomb under an extra key
        ("id: hjrk\nagency: gaj\nname: [unclosed\n", "不是有效的 YAML"),
        ("- id: hjrk\n", "映射"),
        ("id: hjrk\nagency: gaj\npublished_on: 2026-13-45\n", "不是有效的 YAML"),
        ("id: hjrk\nagency: gaj\nsummary: " + "长" * 100_001 + "\n", "不能超过"),
        ("id: hjrk\nagency: gaj\nname: x\x00y\n", "YAML"),
    ],
    ids=["alias-bomb", "unclosed", "a-list", "impossible-date", "too-long", "nul"],
)
def test_hostile_entries_are_refused_in_chinese_and_nothing_is_stored(hub, text, words) -> None:
    settings, catalog = hub
    text = text if text is not None else entry(hub, "gaj/hjrk") + "x_bomb:\n  " + BOMB.replace("\n", "\n  ")
    with pytest.raises(GovhubError, match=words):
        svc.propose(settings, catalog, "gaj/hjrk", actor=STEWARD, yaml_text=text, note="试探")
    with store.engine(settings).connect() as conn:
        assert conn.execute(select(catalog_changes)).first() is None
    assert svc.current_yaml(settings, catalog.resource("gaj/hjrk")) == (
        REPO_CATALOG / "gaj" / "hjrk.yaml"
    ).read_text(encoding="utf-8")


def test_a_catalog_file_with_aliases_is_a_problem_of_that_file_not_a_hang(hub, tmp_path: Path) -> None:
    """The same rule for the catalog folder itself (`govhub catalog validate`, every load): the file is reported."""
    settings, _ = hub
    path = settings.catalog_dir / "gaj" / "bomb.yaml"
    path.write_text("id: bomb\nagency: gaj\n" + BOMB, encoding="utf-8")
    _, problems = load_catalog(settings.catalog_dir)
    assert [p.file for p in problems if "锚点和别名" in str(p)] == ["gaj/bomb.yaml"]


@pytest.mark.parametrize(
    "text, where",
    [
        ("id: hjrk\nname: [unclosed\n", "第3行第1列"),
        ("id: hjrk\nname: a: b\n", "第2行第8列"),
        ("id: hjrk\nfields:\n\t- name: x\n", "第3行第1列"),
        ('id: hjrk\nname: "open\n', "第3行第1列"),
        ("id: hjrk\nfields:\n  - a\n b: c\n", "第4行第2列"),
    ],
    ids=["bracket", "colon", "tab", "quote", "indent"],
)
def test_a_broken_entry_is_said_in_chinese_with_its_line_and_column(hub, text: str, where: str) -> None:
    """What the YAML parser says in English, a steward reads in Chinese — where it stopped and the likely cause."""
    import re

    settings, catalog = hub
    with pytest.raises(GovhubError) as caught:
        svc.propose(settings, catalog, "gaj/hjrk", actor=STEWARD, yaml_text=text, note="试")
    message = caught.value.problems[0].message_zh
    assert message.startswith("不是有效的 YAML：" + where) and not re.search(
        r"[A-Za-z]{4}", message.replace("YAML", "")
    ), message
