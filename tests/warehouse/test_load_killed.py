"""A load killed at any moment (SIGKILL, no cleanup code runs) leaves the previous snapshot current and readable."""

import json
import os
import random
import signal
import time

import duckdb
import pytest

from govhub.connectors.base import Extract
from govhub.events import list_events
from govhub.problems import GovhubError, Problem
from govhub.warehouse.hub import connect_readonly, sync_hub
from govhub.warehouse.load import LoadOutcome, run_load
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


# Every step of a load, in order: a kill at the first six leaves the previous snapshot current, at the last three
# the new one (published whole, its record cut off). Landing is killed in tests/warehouse/test_landing.py, the
# workspace rebuild in tests/warehouse/test_workspace.py.
BEFORE_SWITCH = ["staging", "audit", "parquet_written", "before_publish", "before_rename", "before_switch"]
AFTER_SWITCH = ["after_switch", "before_record", "before_event"]
SHIFT = 7  # the killed load's delivery (start_load_process): every row's age differs from the first load's


def _expected_content(people, shift: int) -> tuple[int, int]:
    """What a snapshot of `people_batches(shift)` must hold, computed from the batches themselves."""
    import pyarrow as pa

    delivered = pa.Table.from_batches(list(people_batches(people, ROWS, age_shift=shift)))
    con = duckdb.connect()
    con.register("delivered", delivered.drop_columns(["__row__"]))
    return con.execute("SELECT count(*), sum(hash(t)::HUGEINT) FROM delivered t").fetchone()


def _load_events(settings):
    from govhub.events import list_events

    return list_events(settings, kind="load.*")


@pytest.mark.parametrize("point", BEFORE_SWITCH + AFTER_SWITCH)
def test_a_load_killed_at_any_step_leaves_one_whole_snapshot_and_the_log_says_which(settings, people, point):
    before_id, before_content = _first_load(settings, people)
    sync_hub(settings, make_catalog(people))
    _kill_at(settings, point)
    switched = point in AFTER_SWITCH
    current = current_snapshot_id(settings, people)
    # exactly the previous or exactly the new snapshot, never a mix, and the cursor moved with it
    if switched:
        assert current > before_id and current_info(settings, people).previous_id == before_id
        assert _content(settings, people) == _expected_content(people, SHIFT)
        assert current_info(settings, people).cursor == {"shift": SHIFT}
    else:
        assert current == before_id and _content(settings, people) == before_content
        assert current_info(settings, people).cursor is None
    con = connect_readonly(settings)
    assert con.execute("SELECT count(*) FROM civil.people").fetchone()[0] == ROWS
    history = con.execute("SELECT list(DISTINCT snapshot_id ORDER BY snapshot_id) FROM civil.people__history")
    assert history.fetchone()[0] == ([before_id, current] if switched else [before_id])

    # the retry delivers the same data again: the killed load is recorded first, with its actor, then the retry
    retry = run_load(
        settings, people, Extract(batches=people_batches(people, ROWS, age_shift=SHIFT), cursor={"shift": SHIFT}),
        receipt=None, actor="retry", trigger="t",
    )  # fmt: skip
    killed, retried = _load_events(settings)[1:]
    assert (killed.actor, retried.actor) == ("proc", "retry")
    assert killed.payload["reconciled"] is True
    if switched:  # the publish is on the record with its counts; the retry is then honestly a zero update
        assert killed.kind == "load.published" and killed.payload["snapshot_id"] == current
        assert killed.payload["updated"] == ROWS and killed.payload["previous_snapshot_id"] == before_id
        assert retry.status == "zero_update" and retry.snapshot_id == current
    else:
        assert killed.kind == "load.failed" and killed.payload["snapshot_id"] is None
        assert [p["code"] for p in killed.payload["problems"]] == ["load.interrupted"]
        assert (
            retry.status == "published" and retry.updated == ROWS and retry.previous_snapshot_id == before_id
        )
    # whatever is current has its load record, diff record and `load.published` event
    info = current_info(settings, people)
    load = settings.hub_dir / "_meta" / "loads" / f"{info.load_id}.json"
    diff = settings.hub_dir / "_meta" / "diffs" / f"{info.load_id}.json"
    assert load.exists() and diff.exists() and json.loads(load.read_text())["status"] == "published"
    assert any(
        e.kind == "load.published" and e.payload["load_id"] == info.load_id for e in _load_events(settings)
    )
    con = connect_readonly(settings)
    assert con.execute("SELECT count(*) FROM meta.loads WHERE status = 'published'").fetchone()[0] == 2
    assert published_ids(settings, people) == [before_id, info.id]
    paths = resource_paths(settings, people)
    assert not any(paths.staging.iterdir()) and not (paths.root / ".load.json").exists()


@pytest.mark.parametrize("cut", ["emptied", "gone"])
def test_a_publish_whose_journal_a_power_cut_took_is_recorded_from_the_snapshot_itself(settings, people, cut):
    """The journal's `begun` entry is not fsynced: after a power cut its file may be empty (its name is on disk: the
    switch fsyncs the folder) or, were the folder not synced, gone. The publishing entry is in the snapshot, fsynced
    before its rename, so the next load still records who published what, once."""
    before_id, _ = _first_load(settings, people)
    _kill_at(settings, "before_record")
    journal = resource_paths(settings, people).root / ".load.json"
    if cut == "emptied":
        journal.write_bytes(b"")
    else:
        journal.unlink()
    current = current_snapshot_id(settings, people)
    assert current > before_id and current_info(settings, people).load["actor"] == "proc"

    retry = run_load(
        settings, people, Extract(batches=people_batches(people, ROWS, age_shift=SHIFT), cursor={"shift": SHIFT}),
        receipt=None, actor="retry", trigger="t",
    )  # fmt: skip
    assert retry.status == "zero_update" and retry.snapshot_id == current
    killed = [
        e for e in _load_events(settings) if e.payload.get("snapshot_id") == current and e.actor == "proc"
    ]
    assert [(e.kind, e.payload["reconciled"], e.payload["updated"]) for e in killed] == [
        ("load.published", True, ROWS)
    ]
    record = settings.hub_dir / "_meta" / "loads" / f"{current_info(settings, people).load_id}.json"
    assert json.loads(record.read_text())["status"] == "published" and not journal.exists()
    # a further load finds everything recorded: nothing is reconciled twice
    run_load(
        settings,
        people,
        extract_of(people_table(people, people_rows(5))),
        receipt=None,
        actor="x",
        trigger="t",
    )
    assert len([e for e in _load_events(settings) if e.payload.get("reconciled")]) == 1


# `make test` kills 6 loads at random moments; `make soak` sets GOVHUB_SOAK_KILLS to kill hundreds
SOAK_KILLS = int(os.environ.get("GOVHUB_SOAK_KILLS", "6"))


@pytest.mark.slow
def test_loads_killed_at_random_moments_never_break_the_current_snapshot_and_the_log_tells_what_is_current(
    settings, people
):
    from govhub.warehouse.journal import reconcile
    from govhub.warehouse.snapshots import recover, resource_lock

    before_id, before_content = _first_load(settings, people)
    rng = random.Random(2016)
    published = {before_id: before_content}
    points = BEFORE_SWITCH + AFTER_SWITCH
    kinds: dict[str, int] = {}
    for shift in range(1, SOAK_KILLS + 1):
        # half at a random moment, half at a random step (the step's pause is cut short by the kill)
        point = rng.choice(points) if shift % 2 else None
        env = {"GOVHUB_TEST_PAUSE_AT": point, "GOVHUB_TEST_PAUSE_MARKER": str(settings.home / "m"),
               "GOVHUB_TEST_PAUSE_SECONDS": "0.2"} if point else None  # fmt: skip
        proc = start_load_process(settings.home, "civil", "people", ROWS, shift % 60, env=env)
        time.sleep(rng.uniform(0.3, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kinds[point or "random"] = kinds.get(point or "random", 0) + 1
        current = current_snapshot_id(settings, people)
        count, digest = _content(settings, people)
        assert count == ROWS
        if current not in published:  # the kill came after the switch: a whole new snapshot
            assert current > max(published)
            published[current] = (count, digest)
        assert published[current] == (count, digest)
        # what the next start or load does first: afterwards the log names every snapshot ever made current
        with resource_lock(settings, people):
            recover(settings, people)
            reconcile(settings, people)
        logged = {e.payload["snapshot_id"] for e in _load_events(settings) if e.kind == "load.published"}
        assert logged == set(published) == set(published_ids(settings, people))
    assert os.path.islink(resource_paths(settings, people).current)
    print(f"kills: {SOAK_KILLS} ({kinds}); snapshots published whole: {len(published)}")


def test_half_written_records_of_killed_processes_are_swept_by_the_next_load(settings, people):
    """`write_json_atomic` writes `.<name>.<pid>.<hex>.tmp` beside the record, then renames: a kill in between leaves
    the temporary file (a load record's in `_meta/loads/`, the journal's beside the snapshots) — and the killed
    load's journal. The next load of the resource finds that journal and removes the temporary files whose writer is
    gone, leaving a live writer's alone; a hub with no killed load is not listed record by record on every load."""
    import subprocess
    import sys

    from govhub.warehouse import journal
    from govhub.warehouse.meta import LEGACY_PARTIAL, meta_dir

    _first_load(settings, people)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    gone, alive = int(dead.stdout), os.getppid()
    loads = meta_dir(settings, "loads")
    assert not any(p.name.endswith(".tmp") for p in loads.iterdir())  # renamed away, not left
    root = resource_paths(settings, people).root
    legacy = settings.hub_dir / "_meta" / LEGACY_PARTIAL  # where a hub made before today wrote them
    orphans = [
        loads / f".x.json.{gone}.abc123.tmp",
        root / f".load.json.{gone}.abc123.tmp",
        legacy / f".z.json.{gone}.abc123.tmp",
    ]
    kept = loads / f".y.json.{alive}.abc123.tmp"
    legacy.mkdir(parents=True)
    for path in [*orphans, kept]:
        path.write_text("{half")
    journal.begin(settings, people, {"load_id": "20261127T000000000000Z-dead00", "actor": "t", "pid": gone})

    run_load(
        settings, people, Extract(batches=people_batches(people, 1_000)), receipt=None, actor="t", trigger="t"
    )
    assert not any(p.exists() for p in orphans) and kept.exists() and not legacy.exists()


@pytest.mark.parametrize(
    ("failure", "cause"),
    [
        (OSError(28, "No space left on device"), "load.disk_full"),
        (RuntimeError("the pointer could not be written"), "load.internal_error"),
        (
            GovhubError(Problem("storage.unreachable", "数据已在本机发布，但未能写入对象存储：…")),
            "storage.unreachable",
        ),
    ],
    ids=["disk full", "error", "object store"],
)
def test_a_load_that_fails_after_its_switch_is_recorded_as_the_publish_it_is(
    settings, people, monkeypatch, failure, cause
):
    """Not a kill: the process lives on and sees an error after `current` moved (writing the pointer other engines
    read). The publish stands, so it is recorded as published with its actor (marked reconciled), never as a failed
    load whose live snapshot a later delivery of the same rows would take for a zero update — and with what went
    wrong (an object store that did not get the snapshot is said, not hidden behind "recorded late")."""
    from govhub.warehouse import snapshots
    from govhub.warehouse.journal import journal_path

    def load(rows: int, actor: str) -> LoadOutcome:
        extract = extract_of(people_table(people, people_rows(rows)))
        return run_load(settings, people, extract, actor=actor, receipt=None, trigger="test")

    first = load(30, "甲")
    assert first.status == "published"

    def failing_pointer(*args, **kwargs):
        raise failure

    monkeypatch.setattr(snapshots, "write_pointer", failing_pointer)
    second = load(40, "乙")
    monkeypatch.undo()

    assert current_snapshot_id(settings, people) == second.snapshot_id != first.snapshot_id
    assert second.status == "published" and second.rows == 40 and second.inserted == 10
    assert [(p.code, p.blocking) for p in second.problems] == [("load.reconciled", False), (cause, False)]
    assert "见下条" in second.problems[0].message_zh
    assert not journal_path(settings, people).exists()
    published = [
        e for e in list_events(settings, kind="load.*") if e.payload.get("load_id") == second.load_id
    ]
    assert [(e.kind, e.actor, e.payload.get("reconciled")) for e in published] == [
        ("load.published", "乙", True)
    ]
    again = load(40, "乙")
    assert again.status == "zero_update" and again.snapshot_id == second.snapshot_id
