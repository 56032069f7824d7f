"""A load killed at any moment (SIGKILL, no cleanup code runs) leaves the previous snapshot current and readable."""

import os
import random
import signal
import time

import duckdb
import pytest

from govhub.connectors.base import Extract
from govhub.warehouse.hub import connect_readonly, sync_hub
from govhub.warehouse.load import run_load
from govhub.warehouse.snapshots import current_info, current_snapshot_id, published_ids, resource_paths

from .conftest import extract_of, make_catalog, people_batches, people_rows, people_table, start_load_process

ROWS = 130_000  # more than one staged row group, so "staging" is hit mid-stream

pytestmark = pytest.mark.scale  # also run on PostgreSQL + S3 by `make test-scale`


def _content(settings, resource) -> tuple[int, int]:
    glob = resource_paths(settings, resource).current / "*.parquet"
    return (
        duckdb.connect()
        .execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM read_parquet('{glob}') t")
        .fetchone()
    )


def _first_load(settings, people):
    first = run_load(
        settings, people, Extract(batches=people_batches(people, ROWS)), receipt=None, actor="t", trigger="t"
    )
    assert first.status == "published"
    return current_snapshot_id(settings, people), _content(settings, people)


def _kill_at(settings, point: str):
    marker = settings.home / f"paused-{point}"
    proc = start_load_process(
        settings.home, "civil", "people", ROWS, 7,
        env={"GOVHUB_TEST_PAUSE_AT": point, "GOVHUB_TEST_PAUSE_MARKER": str(marker)},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, f"load never reached {point}"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", ["staging", "before_publish", "before_rename", "before_switch"])
def test_killed_load_leaves_previous_snapshot_current_readable_and_unchanged(settings, people, point):
    before_id, before_content = _first_load(settings, people)
    sync_hub(settings, make_catalog(people))
    _kill_at(settings, point)
    assert current_snapshot_id(settings, people) == before_id
    assert _content(settings, people) == before_content
    con = connect_readonly(settings)
    assert con.execute("SELECT count(*) FROM civil.people").fetchone()[0] == ROWS
    # a folder renamed but never switched to is not history
    assert con.execute("SELECT list(DISTINCT snapshot_id) FROM civil.people__history").fetchone()[0] == [
        before_id
    ]
    # the next load cleans up after the killed one and publishes normally
    changed = Extract(batches=people_batches(people, ROWS, age_shift=3))
    after = run_load(settings, people, changed, receipt=None, actor="t", trigger="t")
    assert after.status == "published" and after.previous_snapshot_id == before_id and after.updated == ROWS
    assert published_ids(settings, people) == [before_id, after.snapshot_id]
    assert not any(resource_paths(settings, people).staging.iterdir())


def test_load_killed_right_after_the_switch_is_published_whole_and_recorded_later(settings, people):
    before_id, _ = _first_load(settings, people)
    _kill_at(settings, "after_switch")
    new_id = current_snapshot_id(settings, people)
    assert new_id > before_id and current_info(settings, people).previous_id == before_id
    count, _ = _content(settings, people)
    assert count == ROWS
    record = settings.hub_dir / "_meta" / "snapshots" / f"civil.people.{new_id}.json"
    assert not record.exists()
    again = run_load(
        settings,
        people,
        extract_of(people_table(people, people_rows(3))),
        receipt=None,
        actor="t",
        trigger="t",
    )
    assert again.status == "rejected"  # far fewer rows; but the load recovered the missing record first
    assert record.exists()


@pytest.mark.slow
def test_loads_killed_at_random_moments_never_break_the_current_snapshot(settings, people):
    before_id, before_content = _first_load(settings, people)
    rng = random.Random(2016)
    published = {before_id: before_content}
    for shift in range(1, 7):
        proc = start_load_process(settings.home, "civil", "people", ROWS, shift)
        time.sleep(rng.uniform(0.3, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        current = current_snapshot_id(settings, people)
        count, digest = _content(settings, people)
        assert count == ROWS
        if current not in published:  # the kill came after the switch: a whole new snapshot
            assert current > max(published)
            published[current] = (count, digest)
        assert published[current] == (count, digest)
    assert os.path.islink(resource_paths(settings, people).current)
