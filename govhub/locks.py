"""One way to hold a lock across processes on this machine: an exclusive `flock` on a lock file.

Used wherever writers must take turns — a resource's loads, an agency's workspace builds, hub.duckdb's rebuild, the
Data Docs site, a new SQLite store's migration. A lock that must hold across machines (several hosts writing one
hub) belongs to the workflow store instead; every caller goes through `file_lock`, so that change has one place.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing, its folder too) until the block ends; `on_wait` is
    called once when someone else holds it and this caller has to wait its turn."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
