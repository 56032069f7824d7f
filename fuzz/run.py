"""`make fuzz`: every harness under atheris for its share of FUZZ_SECONDS (default 300), one process each, seeded
from the hostile corpus (seeds.py); prints executions per harness, keeps the grown corpus in fuzz/.corpus/ (the next
run starts from it) and what crashed in fuzz/.crashes/; exit 1 when anything crashed.

    make fuzz                         # 5 minutes in all
    FUZZ_SECONDS=3600 make fuzz       # an hour
    python -m fuzz.run --runs 300     # a smoke run: 300 executions each (tests/hostile/test_fuzz_smoke.py)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fuzz.own_peak import own_peak_command

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HARNESSES = ["csv", "xlsx", "encoding", "headers", "catalog", "row_filter"]
_DONE = re.compile(r"stat::number_of_executed_units: (\d+)")
# the hostile-input budget (1 GB) on top of the harness itself, which holds ≈1 GB under atheris's instrumentation
# (pyarrow, DuckDB, calamine and govhub loaded and instrumented): a reader past it is a finding
RSS_LIMIT_MB = 2048
TIMEOUT_S = 30  # likewise: one input taking longer is a finding
# a harness still running this long after its time (or, in a smoke run, after it started) is stuck outside any one
# input: its threads' stacks are printed (harness.py's watchdog) and it counts as a crash, so `make test` fails
# instead of waiting for ever
OVERRUN_S = 150


def run_harness(
    name: str, seeds: Path, work: Path, *, seconds: int | None, runs: int | None
) -> dict[str, object]:
    corpus = work / ".corpus" / name
    crashes = work / ".crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    flags = [f"-rss_limit_mb={RSS_LIMIT_MB}", f"-timeout={TIMEOUT_S}", f"-artifact_prefix={crashes}/{name}-",
             "-print_final_stats=1"]  # fmt: skip
    # a smoke run (make test) is reproducible: the same mutations from the same seeds every time
    flags += [f"-max_total_time={seconds}"] if seconds else [f"-runs={runs}", "-seed=1"]
    watchdog = (seconds or 0) + OVERRUN_S
    scratch = tempfile.mkdtemp(prefix=f"fuzz-{name}-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "FUZZ_SCRATCH": scratch, "FUZZ_WATCHDOG_S": str(watchdog)}  # fmt: skip
    started = time.monotonic()
    # through the launcher, so libFuzzer's -rss_limit_mb reads the harness's own peak, not its caller's
    command = own_peak_command(
        [sys.executable, str(HERE / f"fuzz_{name}.py"), *flags, str(corpus), str(seeds / name)]
    )
    try:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              errors="replace", env=env, cwd=ROOT, start_new_session=True) as popen:  # fmt: skip
            try:
                out, err = popen.communicate(timeout=watchdog + 30)  # the watchdog itself stuck: killed
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
                out, err = popen.communicate()
                err += f"\nkilled: still running after {watchdog + 30} s"
            proc = subprocess.CompletedProcess(command, popen.returncode, out, err)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    done = _DONE.search(proc.stderr)
    return {
        "harness": name,
        "ok": proc.returncode == 0,
        "executions": int(done.group(1)) if done else None,
        "seconds": round(time.monotonic() - started, 1),
        "corpus": len(list(corpus.iterdir())),
        "tail": "" if proc.returncode == 0 else proc.stderr[-3000:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.run")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "300")),
                        help="in all, shared between the harnesses (default $FUZZ_SECONDS or 300)")  # fmt: skip
    parser.add_argument("--runs", type=int, help="executions per harness instead of a time (a smoke run)")
    parser.add_argument("--only", nargs="*", choices=HARNESSES, help="these harnesses only")
    parser.add_argument("--work", type=Path, default=HERE, help="where .seeds, .corpus and .crashes go")
    args = parser.parse_args(argv)
    from fuzz.seeds import write_seeds

    names = args.only or HARNESSES
    write_seeds(args.work / ".seeds")
    each = None if args.runs else max(10, args.seconds // len(names))
    results = [run_harness(n, args.work / ".seeds", args.work, seconds=each, runs=args.runs) for n in names]
    for r in results:
        print(f"{r['harness']:11} {'ok' if r['ok'] else 'CRASH':6} {r['executions'] or '?':>9} executions "
              f"{r['seconds']:7.1f} s  corpus {r['corpus']}")  # fmt: skip
        if not r["ok"]:
            print(r["tail"], file=sys.stderr)
    (args.work / ".last-run.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
