import os
import signal
import threading

import pytest

from govhub.warehouse import sandbox
from govhub.warehouse.sandbox import QueryLimits, run_query


def test_rows_come_back_as_arrow_capped_with_a_truncation_marker(market):
    settings, path = market
    result = run_query(
        settings, path, "SELECT * FROM market.firms ORDER BY person_id", QueryLimits(max_rows=7)
    )
    assert result.ok and result.rows == 7 and result.truncated and result.max_rows == 7
    assert result.table.column_names == ["person_id", "name", "age", "score", "born", "updated_at", "phone"]
    assert result.table.column("person_id").to_pylist() == [f"P{i:07d}" for i in range(7)]
    assert result.table.schema.field("born").type == "date32[day]"
    whole = run_query(settings, path, "SELECT * FROM market.firms", QueryLimits(max_rows=40))
    assert whole.rows == 40 and not whole.truncated


@pytest.mark.parametrize(
    "sql, code, message",
    [
        (
            "SELECT * FROM civil.benefits",
            "sandbox.no_table",
            "表 civil.benefits 不存在，或未共享给本部门（可查询的表：civil.people、market.firms）",  # its schema kept
        ),
        ("SELEC 1", "sandbox.syntax", "SQL 语法错误"),
        (
            "SELECT 1; SELECT count(*) FROM market.firms",
            "sandbox.many_statements",
            "只有最后一条的结果会返回",
        ),
        (
            "SELECT salary FROM market.firms",
            "sandbox.no_column",
            "信息项 salary 不存在，或未共享给本部门（相近的信息项：",
        ),
        (
            "SELECT f.salary FROM market.firms f",
            "sandbox.no_column",
            "表 f 中没有信息项 salary，或未共享给本部门",
        ),
        ("SELECT getenv('HOME')", "sandbox.no_function", "没有名为 getenv 的函数"),
        ("SELECT 'a' + 1", "sandbox.types", "的参数类型不匹配：请用 CAST"),
        ("SELECT name, count(*) FROM market.firms", "sandbox.group_by", "信息项 name 须列入 GROUP BY"),
        ("SELECT CAST('x' AS INTEGER)", "sandbox.conversion", "无法把值 'x' 转换为 INT32 类型"),
        ("SELECT 1 FROM market.firms WHERE list_value(1)", "sandbox.invalid", "查询有误："),
        ("SELECT * FROM read_parquet('/etc/hosts')", "sandbox.forbidden", "无权访问文件或外部资源"),
        ("DELETE FROM market.firms", "sandbox.read_only", "工作区只读"),
        ("SET threads = 8", "sandbox.locked", "不能修改查询环境的设置"),
    ],
)
def test_errors_are_values_with_a_chinese_message(market, sql, code, message):
    settings, path = market
    result = run_query(settings, path, sql)
    assert not result.ok and result.error.code == code and message in result.error.message_zh
    assert result.rows == 0 and result.error.detail  # DuckDB's own words, for engineers
    assert result.error.problem().code == code


def test_one_select_runs_with_a_semicolon_inside_a_string_at_the_end_or_after_temporary_tables(market):
    settings, path = market
    for sql in (
        "SELECT ';' AS x",
        "SELECT count(*) FROM market.firms;",
        "CREATE TEMP TABLE t AS SELECT 1 AS x; FROM t",
    ):
        assert run_query(settings, path, sql).ok, sql


def test_a_runaway_query_stops_at_the_time_limit(market):
    settings, path = market
    endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    result = run_query(settings, path, endless, QueryLimits(timeout_s=1))
    assert result.error.code == "sandbox.timeout" and result.error.message_zh == "查询超时（限1秒）"
    assert result.duration_s < 1 + QueryLimits().grace_s


def _with_spawn(hook):
    """Run `hook(pid)` on each query process as soon as it is forked."""
    original = sandbox.spawn

    def spawn():
        pid, outbox, inbox = original()
        hook(pid)
        return pid, outbox, inbox

    sandbox.spawn = spawn
    return original


def test_a_child_that_does_not_stop_is_killed_at_the_deadline_and_the_next_query_runs(market):
    settings, path = market
    original = _with_spawn(lambda pid: os.kill(pid, signal.SIGSTOP))  # frozen: DuckDB's own limit cannot act
    try:
        result = run_query(settings, path, "SELECT 1", QueryLimits(timeout_s=0.5, grace_s=0.5))
    finally:
        sandbox.spawn = original
    assert result.error.code == "sandbox.timeout" and 1.0 <= result.duration_s < 3
    assert run_query(settings, path, "SELECT 1 AS one").table.to_pylist() == [{"one": 1}]


def test_a_query_process_killed_from_outside_is_a_typed_error(market):
    settings, path = market
    original = _with_spawn(lambda pid: os.kill(pid, signal.SIGKILL))
    try:
        result = run_query(settings, path, "SELECT 1")
    finally:
        sandbox.spawn = original
    assert result.error.code == "sandbox.crashed" and "异常终止" in result.error.message_zh


def test_a_killed_zygote_is_started_again(market):
    settings, path = market
    assert run_query(settings, path, "SELECT 1").ok
    zygote = sandbox._zygote()
    zygote.proc.kill()
    zygote.proc.wait()
    assert run_query(settings, path, "SELECT 2 AS two").table.to_pylist() == [{"two": 2}]
    assert sandbox._zygote() is not zygote


def test_each_query_starts_clean_nothing_carries_over(market):
    settings, path = market
    made = run_query(settings, path, "CREATE TEMP TABLE notes AS SELECT 42 AS x; SELECT x FROM notes")
    assert made.table.to_pylist() == [{"x": 42}]  # temporary objects live in the query's own memory…
    later = run_query(settings, path, "SELECT * FROM notes")
    assert later.error.code == "sandbox.no_table"  # …and die with its process
    run_query(settings, path, "SET VARIABLE secret = 'from before'")
    assert run_query(settings, path, "SELECT getvariable('secret') AS v").table.to_pylist() == [{"v": None}]


def test_no_workspace_no_query(settings):
    result = run_query(settings, settings.workspaces_dir / "nobody" / "workspace.duckdb", "SELECT 1")
    assert result.error.code == "sandbox.no_workspace"
    outside = run_query(settings, settings.hub_db, "SELECT 1")  # only workspaces go through the sandbox
    assert outside.error.code == "sandbox.no_workspace"


def test_queries_from_several_threads_run_side_by_side(market):
    settings, path = market
    answers = {}

    def ask(i):
        answers[i] = run_query(
            settings, path, f"SELECT {i} AS i, count(*) AS n FROM market.firms"
        ).table.to_pylist()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == {i: [{"i": i, "n": 40}] for i in range(6)}


def test_a_zygote_that_cannot_start_is_a_typed_error_not_a_traceback(market, monkeypatch):
    settings, path = market
    sandbox._zygote(restart=True)
    monkeypatch.setattr(sandbox.sys, "executable", "/nonexistent/python")  # every start fails
    monkeypatch.setattr(sandbox, "_ZYGOTES", {})
    result = run_query(settings, path, "SELECT 1")
    assert result.error.code == "sandbox.unavailable" and "无法启动" in result.error.message_zh
    monkeypatch.undo()
    assert run_query(settings, path, "SELECT 1 AS one").table.to_pylist() == [{"one": 1}]


_ASKER = """
import os, sys
from govhub.config import get_settings
from govhub.warehouse import sandbox
from govhub.warehouse.sandbox import QueryLimits, run_query

original = sandbox.spawn
def spawn():
    pid, outbox, inbox = original()
    print(pid, flush=True)
    return pid, outbox, inbox
sandbox.spawn = spawn
endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
run_query(get_settings(sys.argv[1], sys.argv[2]), sys.argv[3], endless, QueryLimits(timeout_s=60))
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_a_query_ends_with_its_asker_not_at_its_time_limit(market, how):
    """Ctrl-C on `govhub query`, a killed portal worker: the runaway query stops at once (it would otherwise use a
    core until its time limit)."""
    import subprocess
    import sys
    import time

    settings, path = market
    asker = subprocess.Popen([sys.executable, "-c", _ASKER, str(settings.home), str(settings.catalog_dir), str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        child = int(asker.stdout.readline())
        time.sleep(1.0)
        assert _running(child)  # the query runs
        asker.send_signal(how)
        asker.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(child), "the query went on after its asker had gone"
    finally:
        asker.kill()
