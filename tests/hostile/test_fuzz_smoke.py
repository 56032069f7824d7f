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

RUNS = 150


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
    done = subprocess.run(
        [sys.executable, "-c", stuck, "-runs=1", "-timeout=0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "FUZZ_WATCHDOG_S": "2", "FUZZ_SCRATCH": str(tmp_path)},
        timeout=120,
    )
    # libFuzzer sees the watchdog's exit as "fuzz target exited" (its error code, 77); the stack says where
    assert done.returncode not in (0, -9), done.stderr[-2000:]
    assert 'File "<string>", line 4 in one' in done.stderr, done.stderr[-2000:]
