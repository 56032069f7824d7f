"""Loads of different resources run fully in parallel; loads of one resource take turns."""

import json
import time

from govhub.warehouse.snapshots import current_snapshot_id, published_ids

from .conftest import make_resource, start_load_process

ROWS = 20_000


def test_two_processes_loading_different_resources_both_publish(settings):
    procs = [
        start_load_process(settings.home, agency, rid, ROWS, 0)
        for agency, rid in [("civil", "people"), ("market", "firms")]
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["status"] for r in results] == ["published", "published"]
    for (agency, rid), r in zip([("civil", "people"), ("market", "firms")], results, strict=True):
        assert current_snapshot_id(settings, make_resource(agency=agency, rid=rid)) == r["snapshot_id"]


def test_a_load_paused_on_one_resource_does_not_hold_up_another_but_holds_its_own(settings):
    marker = settings.home / "paused"
    pause = {"GOVHUB_TEST_PAUSE_AT": "before_publish", "GOVHUB_TEST_PAUSE_MARKER": str(marker)}
    holder = start_load_process(settings.home, "civil", "people", ROWS, 0, env=pause)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert holder.poll() is None and time.monotonic() < deadline, holder.stderr.read()
            time.sleep(0.02)
        other = start_load_process(settings.home, "market", "firms", ROWS, 0)
        out, err = other.communicate(timeout=60)
        assert other.returncode == 0 and json.loads(out.splitlines()[-1])["status"] == "published", err
        same = start_load_process(settings.home, "civil", "people", ROWS, 1)
        time.sleep(1.5)
        assert same.poll() is None  # waiting for the resource lock
    finally:
        holder.kill()
        holder.wait(timeout=30)
    out, err = same.communicate(timeout=60)
    assert same.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["status"] == "published"
    assert len(published_ids(settings, make_resource())) == 1


def _result(proc) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_two_loads_of_one_resource_at_once_both_publish_in_turn_and_the_second_is_told_it_waited(settings):
    marker = settings.home / "paused"
    slow = {"GOVHUB_TEST_PAUSE_AT": "before_publish", "GOVHUB_TEST_PAUSE_MARKER": str(marker),
            "GOVHUB_TEST_PAUSE_SECONDS": "1.5"}  # fmt: skip
    first = start_load_process(settings.home, "civil", "people", ROWS, 0, env=slow)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()
        time.sleep(0.02)
    second = start_load_process(
        settings.home, "civil", "people", ROWS, 1
    )  # arrives while the first publishes
    a, b = _result(first), _result(second)
    assert (a["status"], b["status"]) == ("published", "published")
    assert (
        b["previous"] == a["snapshot_id"]
    )  # no lost update: the second is diffed against the first's snapshot
    assert "load.waited" in b["codes"] and "load.waited" not in a["codes"]
    (told,) = [m for c, m in zip(b["codes"], b["messages"], strict=True) if c == "load.waited"]
    assert "另一次载入正在进行" in told and "lock" not in told.lower()
    assert published_ids(settings, make_resource()) == [a["snapshot_id"], b["snapshot_id"]]
    assert current_snapshot_id(settings, make_resource()) == b["snapshot_id"]


def test_queries_during_publishes_always_see_one_whole_snapshot(settings):
    """Analysts query hub.duckdb in a loop while loads publish one after another: every answer is exactly one
    published snapshot's (its row count and age sum), never a mix, and no query fails."""
    import threading

    from govhub.warehouse.hub import connect_readonly, sync_hub
    from govhub.warehouse.load import run_load

    from .conftest import make_catalog, people_batches

    people = make_resource()
    sync_hub(settings, make_catalog(people))
    from govhub.connectors.base import Extract

    def load(shift: int):
        return run_load(settings, people, Extract(batches=people_batches(people, ROWS, age_shift=shift)),
                        receipt=None, actor="t", trigger="t")  # fmt: skip

    load(0)
    seen, errors, stop = [], [], threading.Event()

    def query_loop():
        while not stop.is_set():
            try:
                con = connect_readonly(settings)
                seen.append(con.execute("SELECT count(*), sum(age) FROM civil.people").fetchone())
                con.close()
            except Exception as exc:  # any failure is a finding
                errors.append(repr(exc))

    readers = [threading.Thread(target=query_loop) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        outcomes = [load(shift) for shift in (1, 2, 3, 4)]
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert errors == [] and len(seen) > 4
    expected = {(ROWS, sum(20 + (i + s) % 60 for i in range(ROWS))) for s in range(5)}
    assert set(seen) <= expected, set(seen) - expected
    assert all(o.status == "published" for o in outcomes)
