"""Each fuzz harness (fuzz/) runs a few hundred executions from its seeds in make test, so none of them rots; the
real runs are `make fuzz` / `make soak` (docs/SECURITY.md "Fuzzing")."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fuzz.run import HARNESSES, ROOT, run_harness
from fuzz.seeds import write_seeds

RUNS = 100  # every seed (55 at most, xlsx) and mutations of them


# each harness is bounded by its watchdog (fuzz/run.py OVERRUN_S), three in turn on each of two threads
@pytest.mark.timeout(900)
def test_every_fuzz_harness_runs_from_its_seeds_without_a_crash(tmp_path: Path) -> None:
    write_seeds(tmp_path / ".seeds")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda n: run_harness(n, tmp_path / ".seeds", tmp_path, seconds=None, runs=RUNS),
                                HARNESSES))  # fmt: skip
    for r in results:
        assert r["ok"], f"{r['harness']} crashed:\n{r['tail']}"
        assert r["executions"] and r["executions"] >= RUNS, r
    assert not list((tmp_path / ".crashes").iterdir())


def _run_source(
    source: str, flags: list[str], tmp_path: Path, *, watchdog_s: int
) -> subprocess.CompletedProcess:
    """A harness given as Python source, run as `fuzz.run` runs one (watchdog, scratch folder)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FUZZ_WATCHDOG_S": str(watchdog_s),
        "FUZZ_SCRATCH": str(tmp_path),
    }
    return subprocess.run([sys.executable, "-c", source, *flags], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=120)  # fmt: skip


def test_a_harness_stuck_outside_any_input_prints_its_stacks_and_ends(tmp_path: Path) -> None:
    """libFuzzer's -timeout watches one input at a time; a harness stuck elsewhere (or one whose alarm lands on
    another thread) must still end, saying where it was, or `make test` waits for ever."""
    stuck = (
        "import threading\n"
        "from fuzz.harness import fuzz\n"
        "def one(data):\n"
        "    threading.Event().wait()\n"
        "fuzz(one)\n"
    )
    done = _run_source(stuck, ["-runs=1", "-timeout=0"], tmp_path, watchdog_s=2)
    # libFuzzer sees the watchdog's exit as "fuzz target exited" (its error code, 77); the stack says where
    assert done.returncode not in (0, -9), done.stderr[-2000:]
    assert 'File "<string>", line 4 in one' in done.stderr, done.stderr[-2000:]


def test_a_harness_ends_itself_after_its_runs_even_when_exit_time_destructors_would_hang(
    tmp_path: Path,
) -> None:
    """libFuzzer ends with C's exit() while holding the GIL; a native library's exit-time destructor that waits (as one
    did in CI, beside a thread waiting to enter Python) would hang it. Here such a destructor is planted (a
    C `on_exit` handler that never returns): the harness still ends at once, with libFuzzer's count."""
    hanging_exit = (
        "import ctypes, time\n"
        "from fuzz.harness import fuzz\n"
        "never = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p)(lambda code, arg: time.sleep(3600))\n"
        "ctypes.CDLL('libc.so.6').on_exit(never, None)\n"
        "fuzz(lambda data: None)\n"
    )
    done = _run_source(hanging_exit, ["-runs=40", "-seed=1"], tmp_path, watchdog_s=20)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "stat::number_of_executed_units: 40" in done.stderr and "Thread 0x" not in done.stderr


def test_a_harness_started_from_a_big_process_measures_its_own_peak(tmp_path: Path) -> None:
    """Linux carries the peak RSS across exec: started straight from a 1.5 GB process, a child reads 1.5 GB as its
    own peak (and libFuzzer's -rss_limit_mb would fire on nothing); through `own_peak_command` it reads its own."""
    from fuzz.own_peak import own_peak_command

    peak = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
    parent = (
        "import subprocess, sys\n"
        "from fuzz.own_peak import own_peak_command\n"
        "big = bytearray(1536 << 20)\n"
        "big[::4096] = b'x' * len(range(0, len(big), 4096))\n"
        "del big\n"
        f"child = [sys.executable, '-S', '-c', {peak!r}]\n"
        "print(subprocess.run(child, capture_output=True, text=True).stdout.strip())\n"
        "print(subprocess.run(own_peak_command(child), capture_output=True, text=True).stdout.strip())\n"
    )
    assert own_peak_command(["x"])[-1] == "x"
    out = subprocess.run(
        [sys.executable, "-c", parent],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    straight, launched = (int(line) for line in out.stdout.split())
    assert straight >= 1536 and launched < 100, out
