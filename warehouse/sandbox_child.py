"""The query process of the sandbox (warehouse/sandbox.py) and the zygote it is forked from.

`python -I -m govhub.warehouse.sandbox_child FD` is the zygote: started once per parent process with an empty
environment and `/` as its folder, it imports DuckDB and Arrow and then only forks — one fresh child per query, handed
two pipe ends over a Unix socket (the request to read, the result to write). The zygote never opens a database, so a
child starts from a process no query has touched. (multiprocessing's forkserver would re-run the parent's `__main__`
in every child: CPython 3.11 never passes it `main_path`.)

A child confines itself, opens the workspace read-only, locks DuckDB down in the order that held against 60+ escape
attempts (FACTS: "Grant-scoped DuckDB"), runs the SQL and writes a JSON header and the rows as Arrow IPC.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.ipc

BATCH_ROWS = 8192
PID = struct.Struct("!q")


def sandbox_settings(limits: dict[str, Any]) -> list[str]:
    """Run after the read-only open and before the analyst's SQL, in this order: the temp folder first (it is
    allowed automatically and would be a channel between sessions), then the limits, then extensions and Python
    replacement scans (a table name would otherwise find a variable of this process), then external access, then
    the lock that keeps all of it."""
    return [
        "SET temp_directory = ''",
        f"SET memory_limit = '{int(limits['memory_mb'])}MB'",
        f"SET threads = {int(limits['threads'])}",
        f"SET max_execution_time = {int(limits['timeout_s'] * 1000)}",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET python_enable_replacements = false",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ]


def _confine(address_space_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not write the rows it held to disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # nor may anything else write a file
    # DuckDB's memory_limit is not a hard cap (repeat('x', 5e8) reached 1.2 GB under 200 MB): the OS's is
    resource.setrlimit(resource.RLIMIT_AS, (address_space_bytes, address_space_bytes))


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    try:
        rows = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE NOT temporary AND schema_name <> 'main' ORDER BY 1"
        ).fetchall()
    except duckdb.Error:
        return []
    return [r[0] for r in rows]


class ManyStatements(Exception):
    """A query whose earlier statements include a SELECT: only the last statement's result comes back, so that
    SELECT's would be lost unseen (temporary tables made first, then one SELECT, are fine)."""


def _run(con: duckdb.DuckDBPyConnection, sql: str, max_rows: int) -> tuple[pa.Table, bool]:
    statements = con.extract_statements(sql)  # DuckDB's own parser: ";" inside a string is no separator
    if any(s.type == duckdb.StatementType.SELECT for s in statements[:-1]):
        raise ManyStatements(str(len(statements)))
    relation = con.sql(sql)
    if relation is None:  # a statement without a result
        return pa.table({}), False
    reader = relation.to_arrow_reader(BATCH_ROWS)
    batches, count = [], 0
    for batch in reader:  # stop reading once the cap is passed: the rest is never materialised
        batches.append(batch)
        count += batch.num_rows
        if count > max_rows:
            break
    return pa.Table.from_batches(batches, schema=reader.schema).slice(0, max_rows), count > max_rows


def answer(request: dict[str, Any], out: Connection) -> duckdb.DuckDBPyConnection | None:
    """Run one request in this (already forked) process and send the header and, on success, the rows; returns
    the connection, which the caller may leave open: closing a DuckDB database costs 5–20 ms, exiting nothing."""
    limits = request["limits"]
    con = None
    try:
        _confine(limits["address_space_bytes"])
        con = duckdb.connect(request["workspace"], read_only=True)
        for statement in sandbox_settings(limits):
            con.execute(statement)
        table, truncated = _run(con, request["sql"], limits["max_rows"])
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        payload = sink.getvalue()
        out.send_bytes(json.dumps({"status": "ok", "truncated": truncated}).encode())
        out.send_bytes(payload)
    # OSError: DuckDB's export to Arrow out of address space ("Out of Memory Error: ArrowBuffer…")
    except (duckdb.Error, MemoryError, OSError, ManyStatements) as exc:
        header: dict[str, Any] = {"status": "error", "kind": type(exc).__name__, "message": str(exc)[:2000]}
        if isinstance(exc, duckdb.CatalogException) and con is not None:
            header["tables"] = _tables(con)
        out.send_bytes(json.dumps(header).encode())
    return con


def _end_with_the_asker(result_fd: int) -> None:
    """Exit as soon as nobody can read the answer any more: the asking process ended (Ctrl-C, a kill) or stopped
    waiting and closed its end — a runaway query must not go on using a core until its time limit. (A portal page
    closed in the browser does not end the portal's wait: that query runs to its time limit.) The result pipe's write
    end reports an error once its read end is closed; a thread waits for that (DuckDB runs without the GIL). Once
    this child closes the pipe itself (its answer sent), the thread ends quietly."""

    def watch() -> None:
        poller = select.poll()
        poller.register(result_fd, select.POLLERR | select.POLLHUP)
        while True:
            for _, events in poller.poll():
                if events & select.POLLNVAL:  # closed here: the answer went out, nothing left to watch
                    return
                if events & (select.POLLERR | select.POLLHUP):
                    os._exit(3)

    threading.Thread(target=watch, name="asker-watch", daemon=True).start()


Answer = Callable[[dict[str, Any], Connection], object]


def _child(request_fd: int, result_fd: int, answer: Answer) -> None:
    """A forked child's whole life: read the request, answer it, exit without tearing anything down."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        with Connection(request_fd, writable=False) as inbox:
            request = json.loads(inbox.recv_bytes())
        _end_with_the_asker(result_fd)
        with Connection(result_fd, readable=False) as out:
            done = answer(request, out)
        code = 0 if done is not None else 1
    finally:
        os._exit(code)


def serve(control: socket.socket, answer: Answer = answer) -> None:
    """The zygote's loop: for each request, fork a child that answers it with `answer` (this module's: a query;
    `sheet_child`'s: a sheet read) and reply with its pid; end when the parent goes."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel: no zombies
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 16, 2)
        except (ConnectionError, OSError):
            return
        if not message or len(fds) != 2:
            return
        pid = os.fork()
        if pid == 0:
            control.close()
            _child(*fds, answer)
        for fd in fds:
            os.close(fd)
        try:
            control.sendall(PID.pack(pid))
        except OSError:
            return


if __name__ == "__main__":
    os.chdir("/")
    serve(socket.socket(fileno=int(sys.argv[1])))
