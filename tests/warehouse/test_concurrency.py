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
