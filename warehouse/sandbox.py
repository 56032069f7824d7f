"""Analysts' SQL over a workspace, in a child process that can reach nothing but that file (Measures §14).

What an analyst may see is decided by what the workspace file holds (warehouse/workspace.py); this module makes sure
the SQL reaches nothing else and cannot hurt the hub. Each query runs in a fresh process forked from a zygote that has
DuckDB and Arrow imported but never opened a database (warehouse/sandbox_child.py), which

1. confines itself: no core dumps, no file writes, an address-space limit (DuckDB's memory_limit is not a hard cap;
   measured: `repeat('x', 5e8)` took 1.2 GB under a 200 MB limit); the zygote started with an empty environment;
2. opens the workspace `read_only=True` and then, in this order (the order that held against 60+ escape attempts):
   `temp_directory=''` → memory, threads, `max_execution_time` → no extension autoinstall/autoload/community
   extensions, no Python replacement scans → `enable_external_access=false` → `lock_configuration=true`;
3. runs the analyst's SQL and sends the first `max_rows` rows back as Arrow IPC over a pipe (never pickle).

The parent kills the child when the time limit plus a grace is over; the child ends by itself as soon as its asker
has gone (Ctrl-C, a kill, its wait given up: `sandbox_child._end_with_the_asker`). Errors come back as `QueryError` values with a
Chinese message, never as a traceback.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc

from govhub.config import Settings
from govhub.problems import GovhubError, Problem
from govhub.warehouse.sandbox_child import PID

_HEADER_MAX = 1 << 20


@dataclass(frozen=True)
class QueryLimits:
    """What one query may use. `address_space_mb` 0 = memory_mb + 2 GB: DuckDB's threads and Arrow reserve about
    1 GB of address space before the first row (VmSize measured with 2 threads)."""

    timeout_s: float = 30.0
    memory_mb: int = 1024
    threads: int = 2
    max_rows: int = 100_000
    address_space_mb: int = 0
    grace_s: float = 3.0  # after timeout_s, DuckDB has this long to stop by itself before the child is killed

    @property
    def address_space_bytes(self) -> int:
        return (self.address_space_mb or self.memory_mb + 2048) * 1024 * 1024


@dataclass(frozen=True)
class QueryError:
    """Why a query gave no result: a stable code, a message for the analyst, DuckDB's own words for engineers."""

    code: str
    message_zh: str
    detail: str = ""

    def problem(self) -> Problem:
        return Problem(code=self.code, message_zh=self.message_zh, value=self.detail[:300] or None)


@dataclass
class QueryResult:
    table: pa.Table
    truncated: bool  # more rows than limits.max_rows: only the first max_rows are here
    duration_s: float
    error: QueryError | None = None
    max_rows: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def rows(self) -> int:
        return self.table.num_rows

    def raise_for_error(self) -> QueryResult:
        if self.error is not None:
            raise GovhubError(self.error.problem())
        return self


class _Zygote:
    """The pre-started process each query's process is forked from (warehouse/sandbox_child.py): one per parent
    process, started on first use, ended when the parent ends (its socket closes)."""

    def __init__(self, module: str) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with child:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-m", module, str(child.fileno())],
                pass_fds=[child.fileno()],
                env={"LC_ALL": "C.UTF-8"},  # nothing of the parent's environment (secrets, paths)
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        # a zygote that does not answer a fork (stuck starting) is given up as a dead one is, not waited on forever
        parent.settimeout(ZYGOTE_ANSWER_S)
        self.control = parent
        self.owner = os.getpid()
        self.lock = threading.Lock()

    def fork(self) -> tuple[int, Connection, Connection]:
        """A fresh child: its pid, the request pipe to write, the result pipe to read."""
        request_r, request_w = os.pipe()
        result_r, result_w = os.pipe()
        try:
            with self.lock:
                socket.send_fds(self.control, [b"q"], [request_r, result_w])
                reply = b""
                while len(reply) < PID.size:
                    chunk = self.control.recv(PID.size - len(reply))
                    if not chunk:
                        raise ConnectionError("sandbox zygote ended")
                    reply += chunk
        except BaseException:
            for fd in (request_w, result_r):
                os.close(fd)
            raise
        finally:
            os.close(request_r)
            os.close(result_w)
        return (
            PID.unpack(reply)[0],
            Connection(request_w, readable=False),
            Connection(result_r, writable=False),
        )

    def close(self) -> None:
        self.control.close()
        self.proc.wait(timeout=10)


QUERY_CHILD = "govhub.warehouse.sandbox_child"
ZYGOTE_ANSWER_S = 60.0  # a zygote's start (imports, the readers' warm-up) takes ≈1 s; its forks, milliseconds
_ZYGOTES: dict[
    str, _Zygote
] = {}  # by the module it runs: the queries' and the sheets' (warehouse/sheet_guard.py)
_ZYGOTE_LOCK = threading.Lock()


def _zygote(module: str = QUERY_CHILD, *, restart: bool = False, failed: _Zygote | None = None) -> _Zygote:
    """`module`'s zygote for this process; a new one when asked to `restart` — unless `failed` (the one that failed
    the caller) is no longer the current one: another thread has started its successor already."""
    with _ZYGOTE_LOCK:
        current = _ZYGOTES.get(module)
        if restart and failed is not None and current is not failed:
            restart = False
        if current is not None and (
            restart or current.owner != os.getpid() or current.proc.poll() is not None
        ):
            if current.owner == os.getpid():
                current.control.close()
            current = None  # a forked copy of a parent's handle is not ours to use
        if current is None:
            current = _ZYGOTES[module] = _Zygote(module)
            atexit.register(current.close)
    return current


def warm_up() -> None:
    """Start the zygote now (≈0.2 s: a Python start and DuckDB's and Arrow's imports) rather than on the first query."""
    _zygote()


def spawn(module: str = QUERY_CHILD) -> tuple[int, Connection, Connection]:
    """A fresh child forked from `module`'s zygote: its pid, the request pipe to write, the result pipe to read."""
    zygote = _zygote(module)
    try:
        return zygote.fork()
    except OSError:  # the zygote died (killed by someone) or does not answer: start another once
        return _zygote(module, restart=True, failed=zygote).fork()


def run_query(
    settings: Settings, workspace: Path, sql: str, limits: QueryLimits | None = None
) -> QueryResult:
    """Run an analyst's SQL over a workspace file: read-only, sandboxed, in a fresh child process."""
    limits = limits or QueryLimits()
    started = time.perf_counter()

    def failed(error: QueryError) -> QueryResult:
        return QueryResult(pa.table({}), False, time.perf_counter() - started, error, limits.max_rows)

    path = Path(workspace).resolve()
    if not path.is_relative_to(settings.workspaces_dir.resolve()) or not path.is_file():
        return failed(
            QueryError("sandbox.no_workspace", "工作区尚未建立，请先生成本部门工作区", str(workspace))
        )
    request = {
        "workspace": str(path),
        "sql": sql,
        "limits": {**asdict(limits), "address_space_bytes": limits.address_space_bytes},
    }
    try:
        pid, outbox, inbox = spawn()
    except OSError as exc:  # the zygote cannot start (e.g. govhub not installed in this interpreter)
        return failed(QueryError("sandbox.unavailable", "查询服务无法启动，请联系平台管理员", str(exc)))
    try:
        with outbox:
            outbox.send_bytes(json.dumps(request).encode())
        # No answer and no end of file: the child is alive and still holds the pipe, so its pid is its own.
        if not inbox.poll(limits.timeout_s + limits.grace_s):
            os.kill(pid, signal.SIGKILL)
            return failed(_timeout(limits, "killed after the time limit"))
        header = json.loads(inbox.recv_bytes(_HEADER_MAX))
        if header["status"] != "ok":
            return failed(explain(header, limits, sql))
        table = pa.ipc.open_stream(inbox.recv_bytes()).read_all()
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return failed(
            QueryError("sandbox.crashed", f"查询进程异常终止（可能超出内存限制 {limits.memory_mb} MB）")
        )
    finally:  # closed, also on Ctrl-C or a cancelled request: the child ends as it sees nobody left to answer
        inbox.close()
    return QueryResult(table, header["truncated"], time.perf_counter() - started, None, limits.max_rows)


def _timeout(limits: QueryLimits, detail: str) -> QueryError:
    return QueryError("sandbox.timeout", f"查询超时（限{limits.timeout_s:g}秒）", detail)


def explain(header: dict[str, Any], limits: QueryLimits, sql: str = "") -> QueryError:
    """DuckDB's error as the analyst should read it."""
    kind, message = header.get("kind", ""), header.get("message", "")
    first = message.splitlines()[0] if message else kind
    lowered = message.lower()
    if kind == "InterruptException" or "maximum execution time" in lowered:
        return _timeout(limits, first)
    if kind == "PermissionException" or "disabled by configuration" in lowered:
        return QueryError("sandbox.forbidden", "无权访问文件或外部资源：查询只能使用本工作区中的表", first)
    if "configuration has been locked" in lowered:
        return QueryError("sandbox.locked", "不能修改查询环境的设置", first)
    if kind in ("OutOfMemoryException", "MemoryError") or "out of memory" in lowered:
        return QueryError(
            "sandbox.memory", f"查询超出内存限制（{limits.memory_mb} MB），请缩小查询范围", first
        )
    if "read-only" in lowered:
        return QueryError("sandbox.read_only", "工作区只读，不能创建、修改或删除数据", first)
    if kind == "CatalogException" and "does not exist" in lowered and "table" in lowered:
        name = (
            first.split("name ", 1)[-1].split(" does not exist", 1)[0].strip('"') if "name " in first else ""
        )
        # DuckDB names the table without its schema: the statement has it
        qualified = re.search(rf'("?)(\w+)\1\s*\.\s*"?{re.escape(name)}"?(?!\w)', sql) if name else None
        name = f"{qualified.group(2)}.{name}" if qualified else name
        tables = "、".join(header.get("tables") or []) or "无"
        return QueryError(
            "sandbox.no_table", f"表 {name} 不存在，或未共享给本部门（可查询的表：{tables}）", first
        )
    if kind == "ManyStatements":
        return QueryError(
            "sandbox.many_statements",
            f"收到 {first} 条 SQL 语句，只有最后一条的结果会返回：前面的查询结果会被丢弃，请分开执行",
            first,
        )
    if kind == "ParserException":
        return QueryError("sandbox.syntax", f"SQL 语法错误：{_engine_words(first)}", first)
    for pattern, code, template in _MISTAKES:
        found = pattern.search(message)
        if found:
            words = [g.replace('"', "") if g else "无" for g in found.groups()]
            return QueryError(code, template.format(*words), first)
    if kind in ("BinderException", "CatalogException", "ConversionException", "InvalidInputException"):
        return QueryError("sandbox.invalid", f"查询有误：{_engine_words(first)}", first)
    return QueryError("sandbox.failed", f"查询失败：{_engine_words(first)}", first)


# The mistakes analysts make most, from DuckDB's words (its own text stays in `detail` for engineers). A field the
# workspace does not hold is "not found": the workspace holds only what the agency may reach, so it may also be a
# field not granted — the message says both, and names the fields DuckDB found close.
_MISTAKES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r'Referenced column "([^"]+)" not found in FROM clause!(?:\s*Candidate bindings: ([^\n]+))?'),
     "sandbox.no_column", "信息项 {0} 不存在，或未共享给本部门（相近的信息项：{1}）"),
    (re.compile(r'Table "([^"]+)" does not have a column named "([^"]+)"'),
     "sandbox.no_column", "表 {0} 中没有信息项 {1}，或未共享给本部门"),
    (re.compile(r"(?:Scalar|Aggregate|Table) Function with name (\S+) does not exist"),
     "sandbox.no_function", "没有名为 {0} 的函数"),
    (re.compile(r"""(?:No function matches the given name and argument types '|Could not choose a best candidate """
                r"""function for the function call ")([^'"]+)"""),
     "sandbox.types", "{0} 的参数类型不匹配：请用 CAST(信息项 AS 类型) 转换后再计算"),
    (re.compile(r'column "([^"]+)" must appear in the GROUP BY clause'),
     "sandbox.group_by", "信息项 {0} 须列入 GROUP BY，或放在 count、sum 等聚合函数中"),
    (re.compile(r"Could not convert string '([^']*)' to (\w+)"),
     "sandbox.conversion", "无法把值 '{0}' 转换为 {1} 类型"),
]  # fmt: skip


def _engine_words(first: str) -> str:
    """DuckDB's first line without its English label ("Binder Error: …"): the detail after a Chinese lead-in."""
    return re.sub(r"^[A-Z][A-Za-z ]*Error: ", "", first)
