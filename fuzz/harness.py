"""What every harness shares: the resource the sheets are for, and running one harness under atheris.

A harness is a module with `test_one_input(data: bytes)` that calls the code under test and lets through only the
project's own refusal (`GovhubError`): any other exception, a crash of a native reader, more than `-timeout`
seconds or `-rss_limit_mb` of memory is a finding, saved by libFuzzer under fuzz/.crashes/ (run.py)."""

from __future__ import annotations

import faulthandler
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "catalog"
SHEET_RESOURCE = "rsj/jydj"  # 就业登记信息: an ID number, a USCC, an enum, a date, a division code


@functools.cache
def catalog():  # type: ignore[no-untyped-def]
    from govhub.catalog.load import require_catalog

    return require_catalog(CATALOG)


def resource(code: str = SHEET_RESOURCE):  # type: ignore[no-untyped-def]
    return catalog().resource(code)


def scratch_file(name: str) -> Path:
    """Where a harness writes each input: the runner's scratch folder (FUZZ_SCRATCH, removed by run.py when the
    harness ends), else a new folder in memory."""
    folder = os.environ.get("FUZZ_SCRATCH") or tempfile.mkdtemp(
        prefix="fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
    )
    return Path(folder) / name


def fuzz(test_one_input: Callable[[bytes], None]) -> None:
    """atheris.Setup + Fuzz with this process's argv (libFuzzer flags, corpus folders).

    `-runs=N` and `-max_total_time=S` are kept from libFuzzer and counted here: once the N-th input has passed (or S
    seconds), the harness prints libFuzzer's closing lines itself and ends with `os._exit(0)`. libFuzzer would end
    with C's `exit()` while the fuzzing thread holds the GIL, and native libraries' exit-time destructors then run: in
    CI on 2026-11-27 and here on 2026-11-28 the csv harness printed "Done 150 runs" and stayed in `atheris.Fuzz()`
    beside a thread that had entered Python and had no frame (pyarrow's CSV reader calls back into Python), until
    its watchdog. An input that fails never reaches the count: its crash is libFuzzer's to report, as before. (What
    the last input added to the corpus may go unsaved.)

    With FUZZ_WATCHDOG_S set, a harness still running after that many seconds prints every thread's Python stack
    and exits 1: libFuzzer's own -timeout is per input and misses a process stuck anywhere else (its alarm is
    dropped when it lands on a thread other than the fuzzing one)."""
    import atheris

    if watchdog := os.environ.get("FUZZ_WATCHDOG_S"):
        faulthandler.dump_traceback_later(float(watchdog), exit=True)
    argv, runs, seconds = _own_limits(sys.argv)
    started = time.monotonic()
    done = 0

    def one(data: bytes) -> None:
        nonlocal done
        test_one_input(data)
        done += 1
        if (runs and done >= runs) or (seconds and time.monotonic() - started >= seconds):
            _end(done, time.monotonic() - started)

    atheris.Setup(argv, one)
    atheris.Fuzz()


def _own_limits(argv: list[str]) -> tuple[list[str], int | None, float | None]:
    """argv without `-runs=` and `-max_total_time=` (libFuzzer's ways of ending), and their values."""
    runs = seconds = None
    rest = []
    for arg in argv:
        if arg.startswith("-runs="):
            runs = int(arg.removeprefix("-runs="))
        elif arg.startswith("-max_total_time="):
            seconds = float(arg.removeprefix("-max_total_time="))
        else:
            rest.append(arg)
    return rest, runs, seconds


def _end(done: int, elapsed: float) -> NoReturn:
    """libFuzzer's closing lines (fuzz/run.py reads the count), then out without C's exit-time destructors. New
    corpus entries are already on disk: libFuzzer writes each as it finds it."""
    sys.stdout.flush()
    print(f"Done {done} runs in {elapsed:.0f} second(s)", file=sys.stderr)
    print(f"stat::number_of_executed_units: {done}", file=sys.stderr)
    print(f"stat::average_exec_per_sec:     {done / max(elapsed, 1e-9):.0f}", file=sys.stderr, flush=True)
    os._exit(0)
