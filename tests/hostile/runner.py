"""Sending a corpus case through the real `govhub upload` in a process of its own, measured: wall time, the
command's peak RSS, exit code, stdout, stderr.

The peak is the command's own (`fuzz/own_peak.py`: a command started straight from pytest would report pytest's
peak as its own)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fuzz.own_peak import own_peak_command
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
    out, err, peak = (path.parent / n for n in ("stdout.txt", "stderr.txt", "peak.json"))
    started = time.monotonic()
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            own_peak_command([str(GOVHUB), "upload", str(path), "--resource", resource, "--json"], peak),
            stdout=o,
            stderr=e,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            start_new_session=True,  # the launcher and the command: killed together
        )  # fmt: skip
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(kill_after, kill)
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
    max_rss_kb, code = json.loads(peak.read_text()) if peak.exists() else (0, proc.returncode)
    return Upload(
        code=code,
        out=out.read_text(encoding="utf-8", errors="replace"),
        err=err.read_text(encoding="utf-8", errors="replace"),
        seconds=time.monotonic() - started,
        peak_mb=max_rss_kb / 1024,
        killed=killed.is_set(),
    )
