"""A full delivery with a quarantined row keeps that key's previous version: one bad cell never deletes a record."""

from __future__ import annotations

import duckdb

from govhub.catalog.model import QualityPolicy
from govhub.problems import Problem
from govhub.warehouse.load import run_load
from govhub.warehouse.snapshots import current_info, data_glob, resource_paths

from .conftest import extract_of, make_resource, people_rows, people_table


def _rows_by_key(settings, resource) -> dict[str, dict]:
    info = current_info(settings, resource)
    folder = resource_paths(settings, resource).snapshots / info.id
    table = duckdb.sql(f"SELECT * FROM read_parquet('{data_glob(folder)}')").arrow().read_all()
    return {r["person_id"]: r for r in table.to_pylist()}


def test_a_quarantined_key_keeps_its_previous_version_and_is_not_counted_deleted(settings) -> None:
    resource = make_resource(quality=QualityPolicy(max_bad_row_pct=5))
    first = people_rows(100)
    assert (
        run_load(
            settings,
            resource,
            extract_of(people_table(resource, first)),
            receipt=None,
            actor="t",
            trigger="t",
        ).status
        == "published"
    )

    second = [dict(r) for r in first]
    second[10]["name"] = "改名一"
    second[11]["name"] = "改名二"
    second[20]["age"] = 999  # a bad value the agency delivered for P0000020 (row 22 of its sheet)
    bad = Problem(code="check.range", message_zh="年龄超出范围", row=22, column="年龄", value="999")
    outcome = run_load(
        settings,
        resource,
        extract_of(people_table(resource, second), problems=[bad]),
        receipt=None,
        actor="t",
        trigger="t",
    )

    assert outcome.status == "published"
    assert (outcome.inserted, outcome.updated, outcome.deleted) == (0, 2, 0)
    assert (outcome.quarantined, outcome.held) == (1, 1)
    rows = _rows_by_key(settings, resource)
    assert len(rows) == 100
    assert rows["P0000020"]["age"] == first[20]["age"]  # the last good version, not the quarantined one
    assert rows["P0000010"]["name"] == "改名一"


def test_on_a_first_delivery_a_quarantined_row_has_nothing_to_hold(settings) -> None:
    resource = make_resource(quality=QualityPolicy(max_bad_row_pct=5))
    bad = Problem(code="check.range", message_zh="年龄超出范围", row=2, column="年龄", value="999")
    outcome = run_load(
        settings,
        resource,
        extract_of(people_table(resource, people_rows(50)), problems=[bad]),
        receipt=None,
        actor="t",
        trigger="t",
    )
    assert (outcome.status, outcome.rows, outcome.quarantined, outcome.held) == ("published", 50, 1, 0)
    assert current_info(settings, resource).rows == 49  # delivered 50, one quarantined, nothing to hold
