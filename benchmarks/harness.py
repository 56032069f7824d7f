"""Measuring one case (a workload or its baseline) in a fresh subprocess.

The parent starts `python -m benchmarks.child <case> <context.json>`; the child imports only the harness, then runs
the case `1 + repeats` times: the first run is **cold** (a fresh process: imports and first-use costs included), the
others are **warm** (the headline is their median). Setup between runs (copying a prepared hub, …) is not timed.
Peak RSS is the child's VmHWM (/proc/self/status) cross-checked with `wait4`'s ru_maxrss. Inputs were just written
by the same run, so the OS page cache is warm for every case alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.profiles import Profile

RESULT_MARK = "BENCH-RESULT "
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Context:
    """What a case needs to know: where inputs and scratch live, the sizes, and shared services (API URL)."""

    work: Path
    profile: Profile
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def inputs(self) -> Path:
        return self.work / "inputs"

    def scratch(self, name: str) -> Path:
        path = self.work / "scratch" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def to_json(self) -> str:
        return json.dumps({"work": str(self.work), "profile": self.profile.to_dict(), "extra": self.extra})

    @classmethod
    def from_json(cls, text: str) -> Context:
        data = json.loads(text)
        return cls(Path(data["work"]), Profile(**data["profile"]), data["extra"])


class Case:
    """One measured thing. Subclasses set the class attributes and implement `run` (timed)."""

    workload = ""  # "W1"
    side = ""  # "govhub" | "baseline" | a variant name
    title = ""
    slow = False  # uses profile.slow_repeats instead of profile.repeats

    def __init__(self, ctx: Context):
        self.ctx = ctx

    @property
    def key(self) -> str:
        return f"{self.workload}/{self.side}"

    def rows(self) -> int:
        """Rows (or records, or sheets) one run processes, for rows/s."""
        return 0

    def prepare(self) -> None:
        """Once per process, untimed."""

    def reset(self) -> None:
        """Before every run, untimed (e.g. restore the hub to the previous snapshot)."""

    def run(self) -> dict[str, Any]:
        """The timed work; returns facts to check (row counts, statuses, per-item times)."""
        raise NotImplementedError

    def repeats(self) -> int:
        return self.ctx.profile.slow_repeats if self.slow else self.ctx.profile.repeats


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_in_child(case: Case, warm_runs: int) -> dict[str, Any]:
    """Body of the child process: prepare, then cold run + warm runs, each after an untimed reset."""
    case.prepare()
    seconds, facts = [], []
    for _ in range(1 + warm_runs):
        case.reset()
        start = time.perf_counter()
        info = case.run() or {}
        seconds.append(time.perf_counter() - start)
        facts.append(info)
    return {"seconds": seconds, "facts": facts, "rows": case.rows(), "peak_rss_mb": peak_rss_mb()}


@dataclass
class Measurement:
    workload: str
    side: str
    title: str
    rows: int
    cold_s: float | None
    warm_s: list[float]
    peak_rss_mb: float | None
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.workload}/{self.side}"

    @property
    def seconds(self) -> float | None:
        """Headline time: median of the warm runs (the cold run when there is no warm one)."""
        if self.warm_s:
            return statistics.median(self.warm_s)
        return self.cold_s

    @property
    def rows_per_s(self) -> float | None:
        s = self.seconds
        return self.rows / s if s and self.rows else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(seconds=self.seconds, rows_per_s=self.rows_per_s, repeats=len(self.warm_s))
        return data


def _wait(proc: subprocess.Popen, timeout_s: float) -> tuple[int, float]:
    """Wait for a child, returning its exit status and its own ru_maxrss in MB (wait4: this child only)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return -9, usage.ru_maxrss / 1024
        time.sleep(0.02)


def measure_case(case_key: str, ctx: Context, title: str, *, timeout_s: float = 1800) -> Measurement:
    """Run one case in a fresh Python process and collect its measurement (errors become a row, not a crash)."""
    workload, side = case_key.split("/", 1)
    log = ctx.work / "logs" / f"{case_key.replace('/', '-')}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.child", case_key, ctx.to_json()],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=_child_env(ctx),
        )
        out = proc.stdout.read() if proc.stdout else ""
        code, maxrss = _wait(proc, timeout_s)
    result = next(
        (json.loads(line[len(RESULT_MARK) :]) for line in out.splitlines() if line.startswith(RESULT_MARK)),
        None,
    )
    if code != 0 or result is None:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        return Measurement(
            workload, side, title, 0, None, [], maxrss, error=f"exit {code}: {' | '.join(tail)[-400:]}"
        )
    seconds = result["seconds"]
    return Measurement(
        workload,
        side,
        title,
        rows=result["rows"],
        cold_s=seconds[0],
        warm_s=seconds[1:],
        peak_rss_mb=max(result["peak_rss_mb"], maxrss),
        facts=result["facts"][-1] if result["facts"] else {},
    )


def measure_command(
    workload: str, side: str, title: str, argv: list[str], runs: int, env: dict[str, str] | None = None
) -> Measurement:
    """Cold start of a command: `runs` fresh processes, wall time each, median is the headline."""
    seconds, peak, code = [], 0.0, 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO)
        code, maxrss = _wait(proc, 300)
        seconds.append(time.perf_counter() - start)
        peak = max(peak, maxrss)
        if code != 0:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            return Measurement(workload, side, title, 0, None, [], peak, error=f"exit {code}: {err[-300:]}")
    # every run is a cold start: the headline is the median over all of them
    return Measurement(
        workload, side, title, 1, seconds[0], seconds, peak, note=f"median of {runs} fresh processes"
    )


def _child_env(ctx: Context) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GX_ANALYTICS_ENABLED", "false")
    env["GOVHUB_HOME"] = str(ctx.work / "scratch" / "default-home")
    env["PYTHONHASHSEED"] = "0"
    return env
