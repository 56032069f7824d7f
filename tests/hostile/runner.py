"""Sending a corpus case through the real `govhub upload` in a process of its own, measured: wall time, the child's
peak RSS (from `wait4`, so for exactly that process), exit code, stdout, stderr."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.commands import GOVHUB

TIME_LIMIT_S = 30
MEMORY_LIMIT_MB = 1024
# what a user must never see: a traceback, a Python exception class, a file/line of our code
INTERNAL = re.compile(
    r"Traceback|File \"|\b[A-Z]\w*(Error|Exception|Warning)\b|BadZipFile|python_calamine|pyarrow|"
    r"fastexcel|openpyxl|zipfile|\bgovhub\.\w+\.\w+"
)


@dataclass
class Upload:
    code: int
    out: str
    err: str
    seconds: float
    peak_mb: float
    killed: bool


def upload(path: Path, resource: str, *, env: dict[str, str], kill_after: float = 2 * TIME_LIMIT_S) -> Upload:
    """`govhub upload PATH --resource R --json` as a child process; killed after `kill_after` seconds."""
    out, err = path.parent / "stdout.txt", path.parent / "stderr.txt"
    started = time.monotonic()
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [str(GOVHUB), "upload", str(path), "--resource", resource, "--json"],
            stdout=o,
            stderr=e,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.send_signal(signal.SIGKILL)

        timer = threading.Timer(kill_after, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Upload(
        code=proc.returncode,
        out=out.read_text(encoding="utf-8", errors="replace"),
        err=err.read_text(encoding="utf-8", errors="replace"),
        seconds=time.monotonic() - started,
        peak_mb=usage.ru_maxrss / 1024,
        killed=killed.is_set(),
    )
