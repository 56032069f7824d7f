"""Each fuzz harness (fuzz/) runs a few hundred executions from its seeds in make test, so none of them rots; the
real runs are `make fuzz` / `make soak` (docs/SECURITY.md "Fuzzing")."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fuzz.run import HARNESSES, run_harness
from fuzz.seeds import write_seeds

RUNS = 150


def test_every_fuzz_harness_runs_from_its_seeds_without_a_crash(tmp_path: Path) -> None:
    write_seeds(tmp_path / ".seeds")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda n: run_harness(n, tmp_path / ".seeds", tmp_path, seconds=None, runs=RUNS),
                                HARNESSES))  # fmt: skip
    for r in results:
        assert r["ok"], f"{r['harness']} crashed:\n{r['tail']}"
        assert r["executions"] and r["executions"] >= RUNS, r
    assert not list((tmp_path / ".crashes").iterdir())
