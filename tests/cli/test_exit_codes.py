"""One exit-code table for every command (README, "Exit codes"): 0 done, 1 refused or failed, 2 usage (a bad
option, a resource, file or folder that does not exist), 3 `status --fail-on` met. Each command's cases run in
order on one hub made by `govhub init`; a command missing from the table fails the test. Also: --version, shell
completion, a broken pipe, a missing data folder or catalog."""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml

from govhub import store
from govhub.cli.main import build_parser, main
from tests.commands import GOVHUB
from tests.services.test_notify import AGENCIES

RESOURCE = {
    "id": "shjz", "code": "204001001/000001", "name": "社会救助对象信息", "summary": "测试用填报资源", "agency": "mzj",
    "class": "thematic", "share": {"type": "unconditional"}, "cycle": "monthly",
    "delivery": {"method": "sheet"}, "status": "published", "published_on": "2026-01-05",
    "fields": [{"name": "id_number", "label": "公民身份号码", "semantic": "cn_id", "required": True},
               {"name": "name", "label": "姓名", "required": True}],
    "primary_key": ["id_number"],
}  # fmt: skip
ID = "310117199003070028"  # a valid 公民身份号码
CHANGE = ["catalog", "change"]
PROPOSE = [*CHANGE, "propose", "mzj/shjz", "--by", "wangjingyi"]
NO_CHANGE = "CC-20990101-0001"  # no such change
ADD_OFFICE = [
    "people",
    "add",
    "zhaoqiang",
    "--name",
    "赵强",
    "--agency",
    "kw",
    "--role",
    "office",
    "--by",
    "installer",
]


def commands() -> set[str]:
    """Every command path the parser knows ("catalog list", "events", "events verify", …)."""
    found: set[str] = set()

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if path and parser.get_default("handler") is not None:
            found.add(" ".join(path))
        for sub in subs:
            for name, child in sub.choices.items():
                walk(child, [*path, name])

    walk(build_parser(), [])
    return found


def run(*argv: object) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors and --version
        return int(exc.code or 0)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = tmp_path / "catalog"
    (catalog / "mzj").mkdir(parents=True)
    (catalog / "agencies.yaml").write_text(yaml.safe_dump(AGENCIES, allow_unicode=True), encoding="utf-8")
    (catalog / "mzj" / "shjz.yaml").write_text(yaml.safe_dump(RESOURCE, allow_unicode=True), encoding="utf-8")
    for name in ("GOVHUB_STATE_URL", "GOVHUB_ALERT_WEBHOOK", "GOVHUB_SMTP_HOST", "GOVHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOVHUB_CATALOG", str(catalog))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("Songjiang-2016!x\n" * 10))
    yield tmp_path
    store.dispose_engines()


def _files(tmp: Path) -> dict[str, Path]:
    bad = tmp / "bad-catalog"
    bad.mkdir()
    sheet = tmp / "救助.xlsx"
    assert run("template", "mzj/shjz", "-o", sheet) == 0
    wb = openpyxl.load_workbook(sheet)
    wb["填报数据"].append([ID, "张三"])
    wb.save(sheet)
    stray = tmp / "随便.xlsx"
    other = openpyxl.Workbook()
    other.active.append(["甲", "乙"])
    other.save(stray)
    entry, broken = tmp / "shjz.yaml", tmp / "broken.yaml"
    entry.write_text(yaml.safe_dump({**RESOURCE, "name": "社会救助对象基本信息"}, allow_unicode=True), encoding="utf-8")  # fmt: skip
    broken.write_text("id: shjz\nname: [unclosed\n", encoding="utf-8")
    db = tmp / "source.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE households (id INTEGER PRIMARY KEY, head TEXT)")
    return {
        "bad": bad,
        "sheet": sheet,
        "stray": stray,
        "db": db,
        "tar": tmp / "hub.tar",
        "entry": entry,
        "broken": broken,
        "drafts": tmp / "drafts",
    }


def test_every_command_keeps_the_exit_code_table(hub: Path, capsys) -> None:
    assert run("init", "--home", hub / "home", "--catalog", hub / "catalog") == 0
    from govhub.clock import today_in_beijing
    from govhub.config import get_settings

    # the hub remembers when it went into service (scorecards judge nothing due before); an older hub that is
    # initialised again (it has a store already) is not stamped with today
    assert get_settings(hub / "home", env={}).in_service_since == today_in_beijing()
    older = hub / "older"
    (older / "state").mkdir(parents=True)
    assert run("init", "--home", older, "--catalog", hub / "catalog") == 0
    assert get_settings(older, env={}).in_service_since is None
    assert run("init", "--home", older, "--in-service-since", "2026-10-08") == 0  # its own day, told
    assert str(get_settings(older, env={}).in_service_since) == "2026-10-08"
    assert run("init", "--home", older, "--in-service-since", "10/08/2026") == 2
    f = _files(hub)
    cases: list[tuple[str, list[object], int]] = [
        ("init", ["init", "--home", hub / "home"], 0),  # again: the hub is checked, nothing lost
        ("completion", ["completion", "bash"], 0),
        ("completion", ["completion", "tcsh"], 2),
        ("catalog validate", ["catalog", "validate"], 0),
        ("catalog validate", ["catalog", "validate", f["bad"]], 1),
        ("catalog validate", ["catalog", "validate", hub / "nope"], 2),
        ("catalog list", ["catalog", "list", "--json"], 0),
        ("catalog list", ["--catalog", hub / "nope", "catalog", "list"], 2),
        ("catalog list", ["catalog", "list", "--agency", "nosuch"], 2),  # a typo is not an empty table
        ("catalog show", ["catalog", "show", "mzj/shjz"], 0),
        ("catalog show", ["catalog", "show", "nosuch"], 2),
        ("catalog export", ["catalog", "export", "-o", hub / "catalog.jsonld"], 0),
        ("catalog export", ["catalog", "export", "-o", "-"], 0),  # standard output
        ("catalog export", ["--catalog", f["bad"], "catalog", "export"], 1),
        ("catalog draft", ["catalog", "draft", "--agency", "mzj"], 2),
        (
            "catalog draft",
            ["catalog", "draft", "--from-db", f"sqlite:///{f['db']}", "--agency", "mzj", "-o", f["drafts"]],
            0,
        ),
        ("catalog draft", ["catalog", "draft", "--from-db", "nosuchdialect://x", "--agency", "mzj"], 1),
        ("people add", ADD_OFFICE, 0),
        (
            "people add",
            [
                "people",
                "add",
                "wangjingyi",
                "--name",
                "王静怡",
                "--agency",
                "mzj",
                "--role",
                "steward",
                "--by",
                "zhaoqiang",
            ],
            0,
        ),
        (
            "people add",
            ["people", "add", "x", "--name", "某", "--agency", "mzj", "--role", "king", "--by", "zhaoqiang"],
            2,
        ),
        (
            "people add",
            [
                "people",
                "add",
                "x",
                "--name",
                "某",
                "--agency",
                "nosuch",
                "--role",
                "steward",
                "--by",
                "zhaoqiang",
            ],
            1,
        ),
        ("catalog change current", [*CHANGE, "current", "mzj/shjz"], 0),
        ("catalog change current", [*CHANGE, "current", "nosuch"], 2),
        ("catalog change propose", [*PROPOSE, "--file", f["entry"], "--note", "改名"], 0),
        (
            "catalog change propose",
            [*PROPOSE, "--file", f["broken"], "--note", "试"],
            1,
        ),  # YAML that does not parse
        ("catalog change propose", PROPOSE, 2),  # neither --file nor --note
        ("catalog change list", [*CHANGE, "list", "--by", "zhaoqiang", "--json"], 0),
        ("catalog change list", [*CHANGE, "list", "--agency", "nosuch", "--by", "zhaoqiang"], 2),
        ("catalog change show", [*CHANGE, "show", NO_CHANGE, "--by", "zhaoqiang"], 1),
        ("catalog change approve", [*CHANGE, "approve", NO_CHANGE, "--by", "zhaoqiang"], 1),
        ("catalog change approve", [*CHANGE, "approve"], 2),
        ("catalog change return", [*CHANGE, "return", NO_CHANGE, "--reason", "r", "--by", "zhaoqiang"], 1),
        ("catalog change return", [*CHANGE, "return", NO_CHANGE, "--by", "zhaoqiang"], 2),
        ("people list", ["people", "list", "--json"], 0),
        ("people list", ["people", "list", "--idle-days", "-1"], 2),
        ("people list", ["people", "list", "--agency", "nosuch"], 2),
        (
            "people contact",
            ["people", "contact", "wangjingyi", "--email", "w@mzj.example", "--by", "zhaoqiang"],
            0,
        ),
        ("people contact", ["people", "contact", "wangjingyi", "--by", "zhaoqiang"], 2),
        (
            "people contact",
            ["people", "contact", "wangjingyi", "--email", "not-an-address", "--by", "zhaoqiang"],
            1,
        ),
        ("people password", ["people", "password", "wangjingyi", "--stdin", "--by", "zhaoqiang"], 0),
        ("people password", ["people", "password", "nosuch", "--stdin", "--by", "zhaoqiang"], 1),
        ("people deactivate", ["people", "deactivate", "nosuch", "--by", "zhaoqiang"], 1),
        ("people sessions", ["people", "sessions", "wangjingyi", "--by", "zhaoqiang", "--json"], 0),
        ("people sessions", ["people", "sessions", "wangjingyi", "--by", "lujianhua"], 1),
        ("people sign-out", ["people", "sign-out", "wangjingyi", "--by", "wangjingyi"], 0),
        ("people sign-out", ["people", "sign-out", "nosuch", "--by", "zhaoqiang"], 1),
        ("template", ["template", "mzj/shjz", "-o", hub / "t.csv", "--json"], 0),
        ("template", ["template", "nosuch", "-o", hub / "t.xlsx"], 2),
        ("upload", ["upload", f["sheet"], "--by", "wangjingyi"], 0),
        ("upload", ["upload", hub / "nosuch.xlsx", "--by", "wangjingyi"], 2),
        ("upload", ["upload", f["stray"], "--by", "wangjingyi"], 1),
        ("upload", ["upload", f["sheet"], "--by", "zhaoqiang-typo"], 1),
        ("ingest", ["ingest", "--by", "zhaoqiang"], 0),
        ("ingest", ["ingest", "--resource", "nosuch", "--by", "zhaoqiang"], 2),
        ("ingest", ["ingest", "--agency", "nosuch", "--by", "zhaoqiang"], 2),
        (
            "ingest",
            ["ingest", "--resource", "mzj/shjz", "--by", "zhaoqiang"],
            1,
        ),  # a sheet feed: nothing waiting
        ("status", ["status"], 0),
        ("status", ["status", "--agency", "nosuch"], 2),
        ("status", ["status", "--as-of", "2027-06-01", "--fail-on", "stale"], 3),
        ("status", ["status", "--as-of", "2027-06-01", "--fail-on", "due", "--json"], 3),
        ("status", ["status", "--fail-on", "late"], 2),
        ("status", ["status", "--as-of", "9999-12-31"], 2),  # past what the calendar and periods can reach
        ("status", ["--home", hub / "no-such-hub", "status"], 2),
        ("zero-update", ["zero-update", "mzj/shjz", "--period", "2026-10", "--by", "wangjingyi"], 0),
        ("zero-update", ["zero-update", "mzj/shjz", "--period", "2099-01", "--by", "wangjingyi"], 1),
        ("zero-update", ["zero-update", "nosuch", "--by", "wangjingyi"], 2),
        ("quality suites", ["quality", "suites", "--json"], 0),
        ("quality docs", ["quality", "docs", "--resource", "nosuch"], 2),
        ("events", ["events", "--json", "--by", "zhaoqiang"], 0),
        ("events", ["events", "--agency", "nosuch", "--by", "zhaoqiang"], 2),
        ("events", ["events", "--json", "--by", "wangjingyi"], 1),  # a steward: the trail is the office's
        ("events", ["events", "--since", "yesterday"], 2),
        ("events", ["events", "--after", "99999999999999999999999", "--by", "zhaoqiang"], 2),  # past any id
        ("events", ["events", "--resource", "nosuch/x", "--by", "zhaoqiang"], 2),  # as --agency nosuch
        ("events", ["events", "--grant", "GR-20990101-0001", "--by", "zhaoqiang"], 2),
        ("events verify", ["events", "verify", "--by", "zhaoqiang"], 0),
        ("events verify", ["events", "verify", "--head", "nonsense", "--by", "zhaoqiang"], 2),
        ("events prune", ["events", "prune", "--before", "2026-11-01", "--by", "zhaoqiang"], 1),  # retention
        ("events prune", ["events", "prune", "--before", "someday", "--by", "zhaoqiang"], 2),
        ("events prune", ["events", "prune", "--before", "2020-01-01", "--by", "zhaoqiang", "--json"], 0),
        ("scorecard", ["scorecard", "--json"], 0),
        ("scorecard", ["scorecard", "--from", "2026-12-01", "--to", "2026-11-01"], 2),
        ("scorecard", ["scorecard", "--from", "0001-01-01", "--to", "0001-12-31"], 2),
        ("notify run", ["notify", "run", "--by", "zhaoqiang", "--json"], 0),
        ("notify run", ["notify", "run", "--as-of", "someday"], 2),
        ("notify run", ["notify", "run", "--as-of", "0001-01-01", "--by", "zhaoqiang"], 2),
        # a day before the hub went into service (today, for this new hub): nothing owed then
        ("notify run", ["notify", "run", "--as-of", "2026-01-01", "--by", "zhaoqiang"], 2),
        ("request list", ["request", "list", "--by", "zhaoqiang"], 0),
        ("request list", ["request", "list", "--agency", "nosuch", "--by", "zhaoqiang"], 2),
        ("request create", ["request", "create"], 2),
        ("request show", ["request", "show", "SQ-20990101-0001", "--by", "zhaoqiang"], 1),
        *(
            (f"request {v}", ["request", v], 2)
            for v in ("review", "forward", "answer", "execute", "dispute", "refer", "decide", "withdraw")
        ),
        ("request tick", ["request", "tick", "--by", "zhaoqiang"], 0),
        ("grant list", ["grant", "list", "--by", "zhaoqiang"], 0),
        ("grant list", ["grant", "list", "--agency", "nosuch", "--by", "zhaoqiang"], 2),
        ("grant show", ["grant", "show", "GR-20990101-0001", "--by", "zhaoqiang"], 1),
        ("grant revoke", ["grant", "revoke"], 2),
        (
            "token create",
            ["token", "create", "--agency", "mzj", "--system", "救助系统", "--by", "wangjingyi"],
            0,
        ),
        # one live token per consumer system: refused, said why
        (
            "token create",
            ["token", "create", "--agency", "mzj", "--system", "救助系统", "--by", "wangjingyi"],
            1,
        ),
        ("token create", ["token", "create", "--agency", "mzj"], 2),
        (
            "token create",
            ["token", "create", "--agency", "nosuch", "--system", "某系统", "--by", "zhaoqiang"],
            2,
        ),
        ("token list", ["token", "list", "--by", "zhaoqiang", "--json"], 0),
        ("token list", ["token", "list", "--agency", "nosuch", "--by", "zhaoqiang"], 2),
        ("token revoke", ["token", "revoke", "TK-20990101-0001", "--by", "zhaoqiang"], 1),
        ("token revoke", ["token", "revoke"], 2),
        ("query", ["query", "--timeout", "soon", "SELECT 1"], 2),
        ("query", ["query", "--timeout", "1e9", "SELECT 1"], 2),
        ("query", ["query", "--as", "wangjingyi", "   "], 2),  # as "" is: nothing asked
        (
            "query",
            ["query", "--as", "wangjingyi", "SELECT 1"],
            1,
        ),  # no workspace built yet: refused, said why
        ("query", ["query", "--as", "wangjingyi", "--count", "mzj.shjz", "SELECT 1"], 2),  # which one?
        ("query", ["query", "--as", "wangjingyi", "--by", "name", "SELECT 1"], 2),  # --by without --group-by
        ("workspace build", ["workspace", "build", "mzj", "--by", "zhaoqiang"], 0),
        ("workspace build", ["workspace", "build"], 2),
        ("workspace build", ["workspace", "build", "nosuch", "--by", "zhaoqiang"], 2),
        ("workspace show", ["workspace", "show", "mzj", "--by", "zhaoqiang"], 0),
        # a steward: what the workspace holds is for those who may build it (analysts, engineers, the office)
        ("workspace show", ["workspace", "show", "mzj", "--by", "wangjingyi"], 1),
        ("workspace show", ["workspace", "show", "nosuch", "--by", "zhaoqiang"], 2),
        ("workspace show", ["workspace", "show"], 2),
        ("workspace download", ["workspace", "download"], 2),
        ("db upgrade", ["db", "upgrade", "--json"], 0),
        ("db current", ["db", "current"], 0),
        ("db current", ["--home", hub / "no-such-hub", "db", "current"], 2),
        ("backup", ["backup", "-o", f["tar"], "--by", "zhaoqiang"], 0),
        ("backup", ["backup"], 2),
        ("restore", ["restore", f["tar"], "--by", "zhaoqiang"], 1),  # into a hub that is not empty: refused
        ("restore", ["restore", hub / "nosuch.tar"], 2),
        ("demo", ["demo", "--scale", "lots"], 2),
        ("demo", ["--catalog", hub / "nope", "demo"], 2),
        ("portal", ["portal", "--port", "eighty"], 2),
    ]
    wrong = []
    for _command, argv, expected in cases:
        got = run(*argv)
        out = capsys.readouterr()
        if got != expected or "Traceback" in out.err:
            wrong.append(
                f"govhub {' '.join(map(str, argv))}: exit {got}, expected {expected}: {out.err[-300:]}"
            )
    assert not wrong, "\n".join(wrong)
    assert commands() - {c for c, _, _ in cases} == set(), "commands missing from the exit-code table"
    assert {code for _, _, code in cases} == {0, 1, 2, 3}


@pytest.mark.parametrize(
    "argv, said",
    [
        (["people", "add"], "缺少必填参数：id, --name, --agency, --role, --by"),
        (["people", "list", "--agency"], "参数 --agency 需要一个值"),
        (["nosuch"], "参数 COMMAND 的值 'nosuch' 无效，可选：'catalog'"),
        (
            ["people", "add", "x", "--name", "某", "--agency", "mzj", "--role", "boss", "--by", "y"],
            "参数 --role 的值 'boss' 无效，可选：'steward', 'reviewer', 'office', 'analyst', 'engineer'",
        ),
        (["query", "--count", "a.b", "--series", "a.b"], "参数 --series 不能与 --count 同时使用"),
        (["query", "--timeout", "soon"], "参数 --timeout：“soon”不可用：应为大于 0、不大于 3600 的数"),
        (["query", "--timeout", "0"], "参数 --timeout：“0”不可用：应为大于 0、不大于 3600 的数"),
        (["query", "--timeout", "1e9"], "参数 --timeout：“1e9”不可用：应为大于 0、不大于 3600 的数"),
        (
            ["status", "--as-of", "9999-12-31"],
            "参数 --as-of：“9999-12-31”不可用：日期应在 2000-01-01 至 2100-12-31 之间",
        ),
        (["query", "--max-rows", "-5"], "参数 --max-rows：“-5”不可用：应为不小于 1、不大于 10000000 的整数"),
        (["events", "--limit", "-1"], "参数 --limit：“-1”不可用：应为不小于 0、不大于 1000000000 的整数"),
        (["people", "list", "--idle-days", "1.5"], "参数 --idle-days：“1.5”不可用：应为不小于 0 的整数"),
        (["events", "--since", "yesterday"], "参数 --since：“yesterday”不是日期或时间"),
        (["request", "create", "gaj/hjrk", "--fields", " , "], "参数 --fields：请列出信息项的名称"),
        (["status", "--json", "--bogus"], "无法识别的参数：--bogus"),
        # options in full: an abbreviation would break the day another option shares its start
        (["status", "--js"], "无法识别的参数：--js"),
    ],
)
def test_usage_mistakes_are_said_in_chinese(argv: list[str], said: str) -> None:
    """What argparse says in English, the operator reads in Chinese: under 用法：, after 错误：, exit 2."""
    done = subprocess.run([GOVHUB, *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    if "--json" in argv:  # for scripts, the same on stdout
        assert json.loads(done.stdout) == {"ok": False, "code": "usage", "message": said, "exit": 2}
    else:
        assert done.stdout == ""
    assert done.stderr.startswith("用法：govhub") and f"：错误：{said}" in done.stderr, done.stderr
    for english in ("usage:", "error:", "required", "invalid", "argument", "unrecognized", "expected"):
        assert english not in done.stderr.lower().replace("--", " "), (english, done.stderr)


def test_version_and_shell_completion(capsys) -> None:
    assert run("--version") == 0 and capsys.readouterr().out.startswith("govhub ")
    script = subprocess.run([GOVHUB, "completion", "bash"], capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "complete" in script.stdout and "govhub" in script.stdout
    done = subprocess.run(  # what bash asks when TAB is pressed after "govhub cat"
        [GOVHUB], capture_output=True, text=True, timeout=60, pass_fds=(),
        env={"_ARGCOMPLETE": "1", "COMP_LINE": "govhub cat", "COMP_POINT": "10", "_ARGCOMPLETE_STDOUT_FILENAME": "/dev/stdout",
             "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert "catalog" in done.stdout


@pytest.mark.parametrize("reader", ["head -1", "true"])
def test_a_closed_pipe_ends_quietly(reader: str) -> None:
    """`govhub catalog list | head -1` (and a reader that reads nothing at all): exit 0, no traceback."""
    catalog = Path(__file__).resolve().parents[2] / "catalog"
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{GOVHUB}' --catalog '{catalog}' catalog list --json | {reader}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_a_missing_data_folder_or_catalog_is_a_clear_error_never_a_new_hub(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    done = subprocess.run([GOVHUB, "--home", missing, "status"], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert (
        done.returncode == 2
        and f"数据文件夹 {missing} 不存在" in done.stderr
        and "govhub init" in done.stderr
    )
    assert not missing.exists()
    # an existing folder that holds no hub — an empty one, the catalog folder — is no hub either: nothing is made there
    empty, catalog = tmp_path / "empty", Path(__file__).resolve().parents[2] / "catalog"
    empty.mkdir()
    for folder, command in ((empty, "status"), (catalog, "status"), (empty, "token")):
        argv = [GOVHUB, "--home", folder, command] + (["list"] if command == "token" else [])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert done.returncode == 2 and "不是 govhub 的数据文件夹" in done.stderr, (folder, done.stderr)
        assert not (folder / "state").exists() and not (folder / "hub.duckdb").exists()
    assert list(empty.iterdir()) == []
    outside = subprocess.run([GOVHUB, "catalog", "list"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                             env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert outside.returncode == 2 and "资源目录文件夹" in outside.stderr and outside.stdout == ""


def test_an_output_path_that_cannot_be_written_is_said_in_chinese(hub: Path, capsys) -> None:
    """A file where a folder should be, a folder where the file should go: refused (1) with the path and the reason
    in Chinese — never a traceback or the system's English — and nothing left behind."""
    assert run("init", "--home", hub / "home", "--catalog", hub / "catalog") == 0
    assert run(*ADD_OFFICE) == 0
    capsys.readouterr()
    blocker = hub / "a-file.csv"
    blocker.write_text("x")
    (hub / "a-folder").mkdir()
    for argv, said in [
        (["catalog", "export", "-o", blocker / "c.jsonld"], f"无法写入或读取 {blocker}"),
        (["catalog", "export", "-o", hub / "a-folder"], "这是一个文件夹，请给出文件名"),
        (["template", "mzj/shjz", "-o", blocker / "t.xlsx"], f"无法写入或读取 {blocker}"),
        (["backup", "-o", blocker / "b.tar", "--by", "zhaoqiang"], f"无法写入或读取 {blocker}"),
    ]:
        assert run(*argv) == 1, argv
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and "Errno" not in err and "exists" not in err, (
            argv,
            err,
        )
    assert sorted(p.name for p in hub.iterdir() if p.name.startswith("a-")) == ["a-file.csv", "a-folder"]
    assert list((hub / "a-folder").iterdir()) == []


DATA_LEAVES_OR_RECORD_CHANGES = [
    ["query", "--as", "mzj_fenxi", "SELECT 1"],
    ["workspace", "build", "mzj"],
    ["workspace", "download", "-o", "ws.duckdb"],
    *(
        ["request", verb, "SQ-20261128-0001", *extra]
        for verb, extra in [
            ("review", ["--approve"]),
            ("forward", []),
            ("answer", ["approve"]),
            ("execute", []),
            ("dispute", ["--reason", "r"]),
            ("refer", ["--note", "n"]),
            ("decide", ["approve"]),
            ("withdraw", []),
        ]
    ),
    ["request", "create", "gaj/hjrk", "--purpose", "p", "--basis", "b", "--until", "2027-01-01"],
    ["request", "tick"],
]


@pytest.mark.parametrize("argv", DATA_LEAVES_OR_RECORD_CHANGES, ids=lambda a: " ".join(a[:2]))
def test_no_date_of_ones_choosing_where_data_leaves_or_the_record_changes(argv: list[str]) -> None:
    """Grants are judged, and transitions recorded, today: `--as-of 2026-01-20` on a query served an expired grant
    again (and rebuilt the agency's shared workspace to it); on `request answer` it backdated an answer past its
    deadline, on `request tick` it escalated early. A usage error (2) — the read-only views keep `--as-of`."""
    parser = build_parser()
    parser.parse_args(argv)  # valid without it
    with pytest.raises(SystemExit) as refused:
        parser.parse_args([*argv, "--as-of", "2026-01-20"])
    assert refused.value.code == 2
    for view in (["workspace", "show", "mzj"], ["grant", "list"], ["status"], ["notify", "run"]):
        assert parser.parse_args([*view, "--as-of", "2026-01-20"]).as_of.isoformat() == "2026-01-20"


def test_a_bad_setting_and_a_password_nobody_can_type_are_said_without_a_traceback(
    hub: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("init", "--home", hub / "home", "--catalog", hub / "catalog") == 0
    people = (
        ("zhaoqiang", "赵强", "kw", "office", "installer"),
        ("wangjingyi", "王静怡", "mzj", "steward", "zhaoqiang"),
    )
    for login, name, agency, role, by in people:
        assert (
            run("people", "add", login, "--name", name, "--agency", agency, "--role", role, "--by", by) == 0
        )
    capsys.readouterr()
    monkeypatch.setenv("GOVHUB_IN_SERVICE_SINCE", "yesterday")
    assert run("--home", hub / "home", "status") == 1
    err = capsys.readouterr().err
    assert "平台启用日期" in err and "yesterday" in err and "Traceback" not in err
    monkeypatch.delenv("GOVHUB_IN_SERVICE_SINCE")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal, nothing to read
    assert run("--home", hub / "home", "people", "password", "wangjingyi", "--by", "zhaoqiang") == 2
    assert "没有读到密码" in capsys.readouterr().err
    # someone who may not set passwords is refused before being asked for one
    monkeypatch.setattr(sys, "stdin", io.StringIO("Songjiang-2016!x\n"))
    assert (
        run("--home", hub / "home", "people", "password", "zhaoqiang", "--stdin", "--by", "wangjingyi") == 1
    )
    assert "管理人员和角色需要协调办公室角色" in capsys.readouterr().err
    assert sys.stdin.read() == "Songjiang-2016!x\n"  # its password was never read
