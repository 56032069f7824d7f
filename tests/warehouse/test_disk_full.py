"""The hub's volume fills up during a load: the load ends as a `failed` outcome with a Chinese message, the previous
snapshot stays current and whole, nothing half-written is left, and once there is room again a retry publishes.

The volume is a real small filesystem when this process may mount one (tmpfs with `size=`, as root — so it is here);
otherwise a file-size limit (RLIMIT_FSIZE, writes past it fail with EFBIG) stands in, and the test says which it used.
"""

from __future__ import annotations

import resource as rlimit
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from govhub.config import get_settings
from govhub.connectors.base import Extract
from govhub.events import list_events
from govhub.warehouse.load import run_load
from govhub.warehouse.snapshots import current_snapshot_id, resource_paths

from .conftest import people_batches

SMALL = 6 << 20  # bytes: room for the first load, not for the second


def _mount_tmpfs(path: Path, size: int) -> bool:
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


@pytest.fixture(params=["tmpfs", "rlimit"])
def small_volume(request, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A small real filesystem (falls back to the file-size limit when it cannot be mounted), or the limit itself."""
    volume = tmp_path / "volume"
    volume.mkdir()
    if request.param == "tmpfs" and _mount_tmpfs(volume, SMALL):
        try:
            yield volume, "tmpfs"
        finally:
            subprocess.run(["umount", "-l", str(volume)], check=False)
    else:
        yield volume, "rlimit"


@contextmanager
def _full(kind: str, volume: Path) -> Iterator[None]:
    """The volume without room for the next load (tmpfs: its real size; else a file-size limit meanwhile)."""
    if kind == "tmpfs":
        yield
        return
    soft, hard = rlimit.getrlimit(rlimit.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    rlimit.setrlimit(rlimit.RLIMIT_FSIZE, (SMALL // 4, hard))
    try:
        yield
    finally:
        rlimit.setrlimit(rlimit.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def _room_again(kind: str, volume: Path) -> None:
    if kind == "tmpfs":
        subprocess.run(["mount", "-o", "remount,size=256m", str(volume)], check=True)


def test_a_load_that_fills_the_disk_fails_in_chinese_and_leaves_the_previous_snapshot(
    small_volume, tmp_path, people, monkeypatch
):
    volume, kind = small_volume
    print(f"disk full by: {kind}")
    (tmp_path / "catalog").mkdir()
    # the workflow store lives elsewhere (as a PostgreSQL server would): the event still tells what happened
    settings = get_settings(
        volume, tmp_path / "catalog", env={"GOVHUB_STATE_URL": f"sqlite:///{tmp_path}/s.db"}
    )
    assert settings.state_url.endswith("s.db")
    first = run_load(settings, people, Extract(batches=people_batches(people, 2_000)), receipt=None, actor="t",
                     trigger="t")  # fmt: skip
    assert first.status == "published"
    with _full(kind, volume):
        big = Extract(batches=people_batches(people, 400_000, age_shift=1))
        outcome = run_load(settings, people, big, receipt=None, actor="t", trigger="t")
    assert outcome.status == "failed"
    assert [p.code for p in outcome.problems] == ["load.disk_full"]
    assert "磁盘空间不足" in outcome.problems[0].message_zh and "Error" not in outcome.problems[0].message_zh
    assert current_snapshot_id(settings, people) == first.snapshot_id
    import duckdb

    glob = resource_paths(settings, people).current / "*.parquet"
    assert duckdb.connect().execute(f"SELECT count(*) FROM '{glob}'").fetchone()[0] == 2_000
    paths = resource_paths(settings, people)
    assert not any(paths.staging.iterdir()) and not (paths.root / ".load.json").exists()
    assert [e.kind for e in list_events(settings, kind="load.*")] == ["load.published", "load.failed"]
    _room_again(kind, volume)
    retry = run_load(settings, people, Extract(batches=people_batches(people, 400_000, age_shift=1)),
                     receipt=None, actor="t", trigger="t")  # fmt: skip
    assert retry.status == "published" and retry.rows == 400_000


def test_an_upload_that_cannot_be_landed_on_a_full_disk_is_refused_in_chinese(small_volume, tmp_path, people):
    from govhub.problems import GovhubError
    from govhub.warehouse.landing import Landing

    volume, kind = small_volume
    (tmp_path / "catalog").mkdir()
    settings = get_settings(
        volume, tmp_path / "catalog", env={"GOVHUB_STATE_URL": f"sqlite:///{tmp_path}/s.db"}
    )
    big = tmp_path / "大文件.csv"
    big.write_bytes(b"x" * (3 * SMALL))
    with _full(kind, volume), pytest.raises(GovhubError) as err:
        Landing(settings).land_file(people, big, received_by="张三", source="test")
    problem = err.value.problems[0]
    assert (
        problem.code == "load.disk_full"
        and "大文件.csv" in problem.message_zh
        and "磁盘空间不足" in str(problem)
    )
    incoming = list(volume.rglob("*.part"))
    assert incoming == []  # the partial copy is removed at once: the space comes back
