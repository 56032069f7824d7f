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
from collections.abc import Callable
from pathlib import Path

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

    With FUZZ_WATCHDOG_S set, a harness still running after that many seconds prints every thread's Python stack
    and exits 1: libFuzzer's own -timeout is per input and misses a process stuck anywhere else (its alarm is
    dropped when it lands on a thread other than the fuzzing one, and nothing watches the exit)."""
    import atheris

    if watchdog := os.environ.get("FUZZ_WATCHDOG_S"):
        faulthandler.dump_traceback_later(float(watchdog), exit=True)

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
