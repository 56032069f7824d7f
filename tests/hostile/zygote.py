"""A process that has the CLI's upload path imported once and runs each `govhub ...` command in a child forked from it
(`python -m tests.hostile.zygote`), as Dagster's forkserver does for steps.

Each child is a process of its own: its own session (killed as a group), stdout and stderr to files, the command's
environment, and the console script's own ending — `sys.exit(main(argv))`'s exit status, a traceback for anything
uncaught, the atexit handlers (temporary folders' finalizers among them) — so its exit code and output are the cold
command's. It skips starting Python, importing govhub and tearing the interpreter down (≈ 1 s of the ≈ 1.3 s a small
hostile upload takes here, and the teardown took as long again for the whole corpus: 48 s against 27 s; the 30 s
limit is judged on the rest; "Exception ignored" messages of the teardown are not seen). Its peak RSS is measured by `wait4` — pages it shares with this process
count, so the figure errs high, never low.

Protocol, one JSON object per line: in `{"id", "argv", "env", "out", "err"}`; out `{"id", "pid"}` once forked, then
`{"id", "code", "peak_kb"}` once it ended (`code` negative: killed by that signal). This process runs no Python
thread of its own; the threads its imports start (jemalloc's background thread, OpenBLAS's pool) are their
libraries' to carry over a fork (at-fork handlers), as under Dagster's forkserver.
"""

from __future__ import annotations

import atexit
import importlib
import io
import json
import os
import selectors
import sys
import traceback
from typing import Any

from govhub.cli.main import main

for _module in ("govhub.cli.ingest_cmd", "govhub.services.upload", "govhub.warehouse.load"):
    importlib.import_module(_module)  # what `govhub upload` imports, imported once before any fork


def _child(req: dict[str, Any]) -> None:
    os.setsid()
    for fd, name in ((1, req["out"]), (2, req["err"])):
        target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    # fresh stream objects: the inherited ones belong to the protocol
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", line_buffering=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", line_buffering=True)
    os.environ.clear()
    os.environ.update(req["env"])
    sys.argv = ["govhub", *req["argv"]]
    try:
        code = _exit_code(SystemExit(main(req["argv"])))  # as the console script: sys.exit(main())
    except SystemExit as exc:
        code = _exit_code(exc)
    except (
        BaseException
    ):  # uncaught, as Python ends: the traceback on stderr, exit 1 (the test sees the leak)
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()  # what the command registered to run at exit (temporary folders' finalizers included)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # never back into `serve`


def _exit_code(exc: SystemExit) -> int:
    """The exit status Python gives `exc` (None: 0; a message: printed, 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def serve() -> None:
    running: dict[int, str] = {}
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    pending, open_input = b"", True
    while open_input or running:
        if open_input and selector.select(timeout=0.02):
            chunk = os.read(0, 65536)
            open_input = bool(chunk)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                req = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(req)
                running[pid] = req["id"]
                _say({"id": req["id"], "pid": pid})
        elif not open_input:
            os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)  # nothing more will come: block until one ends
        while running:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                break
            _say(
                {
                    "id": running.pop(pid),
                    "code": os.waitstatus_to_exitcode(status),
                    "peak_kb": usage.ru_maxrss,
                }
            )


if __name__ == "__main__":
    serve()
