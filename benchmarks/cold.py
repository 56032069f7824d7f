"""Time one command started from a small process: `python -m benchmarks.cold <argv...>` prints JSON.

Linux carries a process's peak RSS across `exec` (the parent's, for a child forked from a big parent), so a
command's own ru_maxrss is only meaningful when it is forked from a small process — this one.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak,
                "code": done.returncode,
                "stderr": done.stderr.decode(errors="replace")[-300:],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
