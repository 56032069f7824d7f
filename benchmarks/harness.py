"""Measuring one case (a workload or its baseline) in a fresh subprocess.

The parent starts `python -m benchmarks.child <case> <context.json>`; the child imports only the harness, then runs
the case `1 + repeats` times: the first run is **cold** (a fresh process: imports and first-use costs included), the
others are **warm** (the headline is their median). Setup between runs (copying a prepared hub, …) is not timed.
Peak RSS is the child's VmHWM (/proc/self/status): not `wait4`'s ru_maxrss, which Linux carries across exec from the
(large) parent that forked the child. Inputs were just written
by the same run, so the OS page cache is warm for every case alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
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

    def finish(self) -> None:
        """Once per process after the runs, untimed (e.g. stop a server the case started)."""

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
    try:
        for _ in range(1 + warm_runs):
            case.reset()
            start = time.perf_counter()
            info = case.run() or {}
            seconds.append(time.perf_counter() - start)
            facts.append(info)
    finally:
        case.finish()
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


def _wait(proc: subprocess.Popen, timeout_s: float) -> int:
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -9


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
        code = _wait(proc, timeout_s)
    result = next(
        (json.loads(line[len(RESULT_MARK) :]) for line in out.splitlines() if line.startswith(RESULT_MARK)),
        None,
    )
    if code != 0 or result is None:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        return Measurement(
            workload, side, title, 0, None, [], None, error=f"exit {code}: {' | '.join(tail)[-400:]}"
        )
    seconds = result["seconds"]
    return Measurement(
        workload,
        side,
        title,
        rows=result["rows"],
        cold_s=seconds[0],
        warm_s=seconds[1:],
        peak_rss_mb=result["peak_rss_mb"],  # VmHWM: ru_maxrss would include the parent's (kept across exec)
        facts=result["facts"][-1] if result["facts"] else {},
    )


def measure_command(
    workload: str,
    side: str,
    title: str,
    argv: list[str] | Callable[[int], list[str]],
    runs: int,
    env: dict[str, str] | None = None,
) -> Measurement:
    """Cold start of a command: `runs` fresh processes (each forked by `benchmarks.cold`), median wall time.
    `argv` may be a function of the run's number (e.g. to alternate two inputs)."""
    seconds, peak = [], 0.0
    for i in range(runs):
        command = argv(i) if callable(argv) else argv
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.cold", *command],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
        )
        result = json.loads(done.stdout) if done.returncode == 0 and done.stdout else None
        if result is None or result["code"] != 0:
            detail = result["stderr"] if result else done.stderr[-300:]
            return Measurement(
                workload, side, title, 0, None, [], None, error=f"exit {result and result['code']}: {detail}"
            )
        seconds.append(result["seconds"])
        peak = max(peak, result["peak_rss_mb"])
    return Measurement(
        workload, side, title, 1, seconds[0], seconds, peak, note=f"median of {runs} fresh processes"
    )


def _child_env(ctx: Context) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GX_ANALYTICS_ENABLED", "false")
    env["GOVHUB_HOME"] = str(ctx.work / "scratch" / "default-home")
    env["PYTHONHASHSEED"] = "0"
    return env
