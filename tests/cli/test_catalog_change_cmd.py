"""`govhub catalog change …` (§10) on a real hub: a copy of the repo's catalog and the demo district's people. A
steward proposes an edited entry from a file (or standard input), the office approves it — the catalog file changes
and `govhub catalog show` says so — or returns it with a reason. Refusals (another agency's steward, YAML that does
not parse, a change decided already, an unknown id) are exit 1 with the service's Chinese words and nothing written;
usage mistakes are exit 2.

The hub is built once for the module (no data is loaded: catalog changes need none); each test works on a resource
of its own, so the tests hold in any order."""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from govhub import store
from govhub.catalog.load import require_catalog
from govhub.config import Settings, get_settings
from govhub.demo.people import OFFICE, register_demo_people, steward_of
from tests.commands import Run, run_command, run_here
from tests.conftest import REPO_CATALOG

ISOLATE = ("GOVHUB_STATE_URL", "GOVHUB_USER", "GOVHUB_ALERT_WEBHOOK", "GOVHUB_SECRETS_FILE", "GOVHUB_STORAGE_URL",
           "GOVHUB_STORAGE_ENDPOINT", "GOVHUB_CELERY_BROKER", "GOVHUB_SMTP_HOST")  # fmt: skip


@dataclass
class Hub:
    settings: Settings
    gaj: str  # the demo logins of gaj's and mzj's stewards
    mzj: str

    def entry(self, key: str) -> str:
        return (self.settings.catalog_dir / f"{key}.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    root = tmp_path_factory.mktemp("catalog-change")
    catalog_dir = root / "catalog"
    shutil.copytree(REPO_CATALOG, catalog_dir)
    home = root / "home"
    (home / "state").mkdir(parents=True)  # a hub's data folder, as `govhub init` leaves it (the CLI checks)
    with pytest.MonkeyPatch.context() as mp:
        for name in ISOLATE:
            mp.delenv(name, raising=False)
        mp.setenv("GOVHUB_HOME", str(home))
        mp.setenv("GOVHUB_CATALOG", str(catalog_dir))
        settings = get_settings(home, catalog_dir)
        catalog = require_catalog(catalog_dir)
        register_demo_people(settings, catalog)
        yield Hub(settings, steward_of(catalog, "gaj"), steward_of(catalog, "mzj"))
    store.dispose_engines()


@pytest.fixture
def cli(hub: Hub, capsys: pytest.CaptureFixture[str]):
    """`cli(*args)` runs `govhub args` in this process on the module's hub (as tests.commands' `govhub` does), and
    argparse's usage errors (SystemExit 2) come back as a Run too; no run may end in a traceback."""

    def run(*args: object) -> Run:
        done = run_here(capsys, *args)
        assert "Traceback" not in done.out + done.err, done.err
        return done

    return run


def test_a_steward_proposes_from_a_file_and_the_office_approves_it(hub: Hub, cli, tmp_path: Path) -> None:
    before = hub.entry("gaj/hjrk")
    current = cli("catalog", "change", "current", "gaj/hjrk")  # what the steward edits
    assert current.code == 0 and current.out == before
    edited = tmp_path / "hjrk.yaml"
    edited.write_text(before.replace("label: 户籍地址", "label: 户籍登记地址"), encoding="utf-8")

    done = cli("catalog", "change", "propose", "gaj/hjrk", "--file", edited, "--note", "地址信息项更名",
                  "--by", hub.gaj)  # fmt: skip
    assert done.code == 0, done.err
    change_id = re.search(r"CC-\d{8}-\d{4}", done.out).group(0)
    assert change_id.startswith("CC-") and "（gaj/hjrk）「待审核」" in done.out.splitlines()[0]
    assert "地址信息项更名" in done.out
    assert hub.entry("gaj/hjrk") == before  # nothing written until the office approves

    listed = cli("catalog", "change", "list", "--state", "pending", "--by", OFFICE.id)
    assert listed.code == 0
    assert listed.out.splitlines()[0].split() == [
        "编号",
        "资源",
        "提出人",
        "提出时间（北京时间）",
        "状态",
        "期限",
    ]
    row = next(line for line in listed.out.splitlines() if line.startswith(change_id))
    assert "gaj/hjrk" in row and "待审核" in row and "陆建华" in row
    shown = cli("catalog", "change", "show", change_id, "--by", hub.gaj)
    assert shown.code == 0 and "label: 户籍登记地址" in shown.out and "提出的目录条目" in shown.out
    diff = cli("catalog", "change", "show", change_id, "--diff", "--by", OFFICE.id)
    assert "-  - {name: address, label: 户籍地址" in diff.out
    assert "+  - {name: address, label: 户籍登记地址" in diff.out

    assert cli("catalog", "change", "approve", change_id, "--by", hub.gaj).code == 1  # not their own proposal
    approved = cli("catalog", "change", "approve", change_id, "--by", OFFICE.id, "--json")
    assert approved.code == 0, approved.err
    data = json.loads(approved.out)
    assert (data["id"], data["state"], data["state_label"], data["decided_by"]) == (
        change_id, "approved", "已批准", OFFICE.name)  # fmt: skip
    assert "label: 户籍登记地址" in hub.entry("gaj/hjrk")  # the file on disk
    shown = cli("catalog", "show", "gaj/hjrk", "--json")
    address = next(f for f in json.loads(shown.out)["fields"] if f["name"] == "address")
    assert address["label"] == "户籍登记地址"
    assert cli("catalog", "validate").code == 0

    # decided once: approving or returning it again is refused, the catalog left as approved
    for argv in (["approve", change_id], ["return", change_id, "--reason", "迟了"]):
        again = cli("catalog", "change", *argv, "--by", OFFICE.id)
        assert again.code == 1 and f"目录变更 {change_id} 当前为「已批准」，不能再" in again.err, again.err
    assert "label: 户籍登记地址" in hub.entry("gaj/hjrk")


def test_the_office_returns_a_change_with_its_reason(hub: Hub, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    before = hub.entry("mzj/shjz")
    edited = before.replace("label: 家庭人口数", "label: 共同生活家庭人口数")
    monkeypatch.setattr(sys, "stdin", io.StringIO(edited))  # --file -: the entry piped in
    done = cli("catalog", "change", "propose", "mzj/shjz", "--file", "-", "--note", "与申请表一致",
                  "--by", hub.mzj, "--json")  # fmt: skip
    assert done.code == 0, done.err
    change = json.loads(done.out)
    assert (change["state"], change["yaml_text"], change["proposed_by_id"]) == ("pending", edited, hub.mzj)

    assert cli("catalog", "change", "return", change["id"], "--reason", " ", "--by", OFFICE.id).code == 1
    back = cli("catalog", "change", "return", change["id"], "--reason", "名称应与标准一致", "--by", OFFICE.id)
    assert back.code == 0, back.err
    assert "已退回" in back.out and "退回理由：名称应与标准一致" in back.out
    assert hub.entry("mzj/shjz") == before
    shown = json.loads(cli("catalog", "change", "show", change["id"], "--by", hub.mzj, "--json").out)
    assert (shown["state"], shown["reason"]) == ("returned", "名称应与标准一致")
    mine = json.loads(cli("catalog", "change", "list", "--by", hub.mzj, "--json").out)
    assert {c["agency"] for c in mine} == {"mzj"} and change["id"] in {c["id"] for c in mine}
    # returned: no longer to be approved
    late = cli("catalog", "change", "approve", change["id"], "--by", OFFICE.id)
    assert late.code == 1 and "「已退回」" in late.err and hub.entry("mzj/shjz") == before


def test_a_steward_of_another_agency_is_refused_and_said_why(hub: Hub, cli, tmp_path: Path) -> None:
    before = hub.entry("gaj/lhry")
    path = tmp_path / "lhry.yaml"
    path.write_text(before.replace("name: ", "name: 新", 1), encoding="utf-8")
    done = cli("catalog", "change", "propose", "gaj/lhry", "--file", path, "--note", "改名", "--by", hub.mzj)
    assert done.code == 1 and done.out == ""
    assert "王静怡属于松江区民政局，不能为松江区公安分局提出资源目录变更" in done.err, done.err
    seen = cli("catalog", "change", "list", "--agency", "gaj", "--by", hub.mzj)  # nor sees its changes
    assert seen.code == 1 and "不能为松江区公安分局" in seen.err
    assert hub.entry("gaj/lhry") == before
    assert not any(
        c["resource"] == "lhry" for c in json.loads(cli("catalog", "change", "list", "--by", OFFICE.id, "--json").out)
    )  # fmt: skip


def test_yaml_that_does_not_parse_is_refused_with_its_line_and_column(hub: Hub, cli, tmp_path: Path) -> None:
    key = "gaj/hjrk"
    on_disk = hub.entry(key)
    listed = json.loads(cli("catalog", "change", "list", "--by", OFFICE.id, "--json").out)
    path = tmp_path / "broken.yaml"
    path.write_text("id: hjrk\nname: [unclosed\n", encoding="utf-8")
    done = cli("catalog", "change", "propose", key, "--file", path, "--note", "试", "--by", hub.gaj)
    assert done.code == 1 and "不是有效的 YAML：第3行第1列" in done.err, done.err
    # under --json, the failure as scripts read it
    failed = cli(
        "catalog", "change", "propose", key, "--file", path, "--note", "试", "--by", hub.gaj, "--json"
    )
    report = json.loads(failed.out)
    assert failed.code == 1 and (report["ok"], report["code"], report["exit"]) == (
        False,
        "catalog_change.invalid",
        1,
    )
    assert "第3行第1列" in report["message"]
    # nothing written, nothing stored
    assert hub.entry(key) == on_disk
    assert json.loads(cli("catalog", "change", "list", "--by", OFFICE.id, "--json").out) == listed


def test_usage_mistakes_are_exit_2_and_an_unknown_change_exit_1(hub: Hub, cli, tmp_path: Path) -> None:
    entry = tmp_path / "e.yaml"
    entry.write_text(hub.entry("mzj/shjz"), encoding="utf-8")
    cases = [
        (["propose", "mzj/shjz", "--file", entry, "--by", hub.mzj], 2, "缺少必填参数：--note"),
        (["propose", "mzj/shjz", "--note", "x", "--by", hub.mzj], 2, "缺少必填参数：--file"),
        (["propose", "mzj/nosuch", "--file", entry, "--note", "x", "--by", hub.mzj], 2, "目录中没有资源"),
        (["propose", "mzj/shjz", "--file", tmp_path / "nosuch.yaml", "--note", "x", "--by", hub.mzj], 2,
         "文件不存在"),
        (["return", "CC-20990101-0001", "--by", OFFICE.id], 2, "缺少必填参数：--reason"),
        (["list", "--state", "done", "--by", OFFICE.id], 2, "参数 --state 的值 'done' 无效"),
        (["list", "--agency", "nosuch", "--by", OFFICE.id], 2, "目录中没有机构“nosuch”"),
        (["current", "nosuch"], 2, "目录中没有资源"),
        (["show", "CC-20990101-0001", "--by", OFFICE.id], 1, "没有编号为“CC-20990101-0001”的目录变更"),
        (["approve", "CC-20990101-0001", "--by", OFFICE.id], 1, "没有编号为“CC-20990101-0001”的目录变更"),
    ]  # fmt: skip
    wrong = []
    for argv, code, said in cases:
        done = cli("catalog", "change", *argv)
        if done.code != code or said not in done.err:
            wrong.append(f"{argv}: exit {done.code}, expected {code}: {done.err[-300:]}")
    assert not wrong, "\n".join(wrong)
    # the installed command, as a shell sees it: exit 2, said in Chinese under 用法：
    done = run_command(
        "catalog", "change", "propose", "mzj/shjz", "--file", entry, "--by", hub.mzj, timeout=60
    )
    assert (
        done.code == 2
        and "缺少必填参数：--note" in done.err
        and done.err.startswith("用法：govhub catalog change")
    )
