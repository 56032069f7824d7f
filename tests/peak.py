"""How far a process's memory peaked during a block of code.

`ru_maxrss` cannot tell: it is the peak since the process started — late in `make test` pytest has peaked at ≈1.5 GB
already, so a step that grew by 300 MB after that reads as growing by nothing — and Linux carries it across exec, so
a child of pytest starts with pytest's peak. Writing 5 to `/proc/self/clear_refs` resets the high-water mark
(`VmHWM`) to the current size (Linux ≥ 4.0); the growth is then the peak afterwards less the size before."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STATUS = Path("/proc/self/status")
ROOT = Path(__file__).resolve().parents[1]  # on a child's PYTHONPATH, to import this module


@dataclass
class Growth:
    mb: float = 0.0


def _kb(field: str) -> int:
    found = re.search(rf"^{field}:\s+(\d+) kB", STATUS.read_text(), re.MULTILINE)
    assert found, f"/proc/self/status has no {field}"
    return int(found.group(1))


@contextmanager
def peak_growth() -> Iterator[Growth]:
    """`with peak_growth() as grown: …` then `grown.mb`: the process's peak during the block over its size before
    (every thread's memory counts: a server thread handling the block's request too)."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _kb("VmRSS")
    grown = Growth()
    try:
        yield grown
    finally:
        grown.mb = (_kb("VmHWM") - before) / 1024
