"""Running a command so that its peak memory is its own.

Linux carries a process's peak RSS across exec (`ru_maxrss` keeps the old image's high-water mark), so a command
started straight from pytest — hundreds of MB, 1.5 GB late in `make test` — reports pytest's peak as its own:
libFuzzer's `-rss_limit_mb` (which reads that peak) then fires on inputs that used nothing, and a measured upload
looks as big as the test runner. A small launcher (`python -S`, ≈10 MB) forks, the child execs the command with a
fresh peak, and the launcher waits for it: `wait4` gives the command's own peak, which it can write to a file, and
the launcher ends with the command's exit code. Start it in a new session and kill the group to stop both."""

from __future__ import annotations

import sys
from pathlib import Path

_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
code = os.waitstatus_to_exitcode(status)
if sys.argv[1] != "-":
    with open(sys.argv[1], "w") as out:
        json.dump([usage.ru_maxrss, code], out)
sys.exit(code if code >= 0 else 128 - code)
"""


def own_peak_command(argv: list[str], peak_file: Path | None = None) -> list[str]:
    """`argv` (an executable's path first) run through the launcher; `peak_file` receives `[peak KB, exit code]`."""
    return [sys.executable, "-S", "-c", _LAUNCHER, str(peak_file) if peak_file else "-", *argv]
