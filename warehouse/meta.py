"""Small shared pieces of the warehouse: sortable ids, atomic JSON files, the `hub/_meta/` records.

Metadata files are written to a hidden temporary name in the same folder and renamed into place, so a reader (the
`meta.*` views, a load recovering after a crash) only ever sees whole files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path
from typing import Any

from govhub.config import Settings
from govhub.problems import Problem

META_KINDS = ("snapshots", "loads", "diffs", "zero_updates")
_ID_FORMAT = "%Y%m%dT%H%M%S%fZ"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def sortable_id(moment: dt.datetime | None = None) -> str:
    """E.g. 20261124T210501123456Z: sorts as text in time order."""
    return (moment or utc_now()).strftime(_ID_FORMAT)


def next_snapshot_id(after: str | None) -> str:
    """A new snapshot id strictly greater than `after` (clocks can step back; ids must not)."""
    now = utc_now()
    if after is not None:
        floor = dt.datetime.strptime(after, _ID_FORMAT).replace(tzinfo=dt.UTC) + dt.timedelta(microseconds=1)
        now = max(now, floor)
    return sortable_id(now)


def new_load_id() -> str:
    """Unique across processes: a sortable time plus a random suffix."""
    return f"{sortable_id()}-{secrets.token_hex(3)}"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, record: dict[str, Any], *, durable: bool = True) -> Path:
    """Write a JSON file so that it appears whole or not at all; `durable=False` skips the fsync (for what only a
    killed process, never a power loss, must find: the page cache outlives the process).

    A load writes several of these, so each is cheap: the temporary file beside `path` (a rename within one folder:
    across folders it cost ≈7% of a small sheet's load on ext4, measured with W8), compact JSON (the C encoder;
    an indented dump runs the pure-Python one, 4× slower on a load record), the folder made only when missing."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp"
    data = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk, an interrupt: no temporary file left for a live process to keep
        tmp.unlink(missing_ok=True)
        raise
    return path


DISK_FULL = Problem(
    code="load.disk_full",
    message_zh="数据中心磁盘空间不足，本次数据未发布，当前数据保持不变；请联系管理员清理空间后重新提交",
)


def disk_full(exc: BaseException) -> bool:
    """A write refused for lack of space (ENOSPC, a quota, a file-size limit), from Python or from DuckDB."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    text = str(exc)
    return type(exc).__module__.startswith(("duckdb", "_duckdb")) and any(
        s in text for s in ("No space left on device", "Disk quota exceeded", "File too large")
    )


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists (signal 0 only asks). A recycled pid reads as alive: its file waits for the next
    sweep, which is the safe way to be wrong."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def sweep_temp_files(folder: Path) -> list[Path]:
    """Remove the `.<name>.<pid>.<hex>.tmp` files `write_json_atomic` left in `folder` when its process was killed
    mid-write (a live writer's are kept); returns what was removed."""
    removed = []
    if not folder.is_dir():
        return removed
    for tmp in folder.glob(".*.tmp"):
        parts = tmp.name.split(".")
        pid = parts[-3] if len(parts) >= 4 else ""
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def meta_dir(settings: Settings, kind: str) -> Path:
    if kind not in META_KINDS:
        raise ValueError(f"unknown metadata kind {kind!r}")
    return settings.hub_dir / "_meta" / kind


LEGACY_PARTIAL = ".partial"  # where records were written before their rename until 2026-11-27


def sweep_meta(settings: Settings) -> list[Path]:
    """Remove the half-written records killed processes left in `hub/_meta/<kind>/` (a live writer's are kept).
    Lists every record, so it runs when there is reason to: a killed load's journal found (`journal.reconcile`),
    a backup — not on every load."""
    removed = [tmp for kind in META_KINDS for tmp in sweep_temp_files(meta_dir(settings, kind))]
    legacy = settings.hub_dir / "_meta" / LEGACY_PARTIAL
    removed += sweep_temp_files(legacy)
    if legacy.is_dir() and not any(legacy.iterdir()):
        legacy.rmdir()
    return removed


def write_meta(settings: Settings, kind: str, name: str, record: dict[str, Any]) -> Path:
    """One record of `kind` (snapshots, loads, diffs, zero_updates) as `hub/_meta/<kind>/<name>.json`."""
    return write_json_atomic(meta_dir(settings, kind) / f"{name}.json", record)


def pause_point(name: str) -> None:
    """Test-only hook: when $GOVHUB_TEST_PAUSE_AT names this point, say so in $GOVHUB_TEST_PAUSE_MARKER and wait
    (to be killed, or $GOVHUB_TEST_PAUSE_SECONDS and go on). Lets the crash and concurrency tests stop a real load
    at an exact step; costs one dict lookup otherwise."""
    if os.environ.get("GOVHUB_TEST_PAUSE_AT") != name:
        return
    import time

    Path(os.environ["GOVHUB_TEST_PAUSE_MARKER"]).write_text(name)
    time.sleep(float(os.environ.get("GOVHUB_TEST_PAUSE_SECONDS", "3600")))
