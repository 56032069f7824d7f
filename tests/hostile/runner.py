"""Sending a corpus case through the real `govhub upload` in a process of its own, measured: wall time, the
command's peak RSS, exit code, stdout, stderr.

`upload` starts the command cold, as a user does; its peak is the command's own (`fuzz/own_peak.py`: a command
started straight from pytest would report pytest's peak as its own). `Zygote.upload` runs the same command in a
child forked from a process that has govhub imported (`tests/hostile/zygote.py`): the case's own work, measured the
same way, without paying Python's start and govhub's imports for each of the corpus's 70 cases."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
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


class Zygote:
    """The zygote process (its protocol in tests/hostile/zygote.py); `upload` may be called from several threads."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.zygote"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=self.env, cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
        self._said: dict[str, dict] = {}
        self._news = threading.Condition()
        self._ids = itertools.count()
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            with self._news:
                self._said.setdefault(message.pop("id"), {}).update(message)
                self._news.notify_all()
        with self._news:
            self._said["__gone__"] = {}
            self._news.notify_all()

    def _wait_for(self, key: str, field: str, timeout: float | None = None) -> dict | None:
        with self._news:
            self._news.wait_for(lambda: field in self._said.get(key, {}) or "__gone__" in self._said, timeout)
            said = self._said.get(key, {})
            if field not in said and "__gone__" in self._said:
                raise RuntimeError(f"the zygote ended (exit {self.proc.poll()})")
            return said if field in said else None

    def upload(self, path: Path, resource: str, *, kill_after: float = 2 * TIME_LIMIT_S) -> Upload:
        out, err = path.parent / "stdout.txt", path.parent / "stderr.txt"
        key = str(next(self._ids))
        argv = ["upload", str(path), "--resource", resource, "--json"]
        request = {"id": key, "argv": argv, "env": self.env, "out": str(out), "err": str(err)}
        started = time.monotonic()
        with self._news:
            assert self.proc.stdin is not None
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        pid = self._wait_for(key, "pid")["pid"]  # type: ignore[index]
        ended = self._wait_for(key, "code", kill_after)
        killed = ended is None
        if killed:
            os.killpg(pid, signal.SIGKILL)
            ended = self._wait_for(key, "code")
        assert ended is not None
        return Upload(
            code=ended["code"],
            out=out.read_text(encoding="utf-8", errors="replace"),
            err=err.read_text(encoding="utf-8", errors="replace"),
            seconds=time.monotonic() - started,
            peak_mb=ended["peak_kb"] / 1024,
            killed=killed,
        )

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=2 * TIME_LIMIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
