"""What every harness shares: the resource the sheets are for, and running one harness under atheris.

A harness is a module with `test_one_input(data: bytes)` that calls the code under test and lets through only the
project's own refusal (`GovhubError`): any other exception, a crash of a native reader, more than `-timeout`
seconds or `-rss_limit_mb` of memory is a finding, saved by libFuzzer under fuzz/.crashes/ (run.py)."""

from __future__ import annotations

import functools
import sys
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


def fuzz(test_one_input: Callable[[bytes], None]) -> None:
    """atheris.Setup + Fuzz with this process's argv (libFuzzer flags, corpus folders)."""
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
