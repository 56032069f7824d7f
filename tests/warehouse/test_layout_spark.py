"""Spark (pyspark in local mode in its own virtualenv, `make spark`; no jars fetched) reads the hub through
`_manifest.json` and each resource's `current.json` — knowing nothing of govhub (tests/warehouse/spark_reader.py) —
and answers the analysts' queries exactly as DuckDB does through
hub.duckdb: counts of every table, group-bys, joins across agencies, and history (time travel)."""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from govhub.connectors.base import Extract
from govhub.warehouse.hub import connect_readonly
from govhub.warehouse.load import run_load
from govhub.warehouse.snapshots import DATA_FILE, current_info, resource_paths
from tests.conftest import DemoHub

pytestmark = pytest.mark.spark
DROPPED = 20
REPO = Path(__file__).resolve().parents[2]
PYTHON_SPARK = REPO / ".venv-spark" / "bin" / "python"
READER = Path(__file__).with_name("spark_reader.py")

QUERIES = {
    "people_by_town_and_sex": """
        SELECT town_code, sex, count(*) AS n FROM gaj.hjrk GROUP BY town_code, sex""",
    "employment_of_residents": """
        SELECT j.employment_form, count(*) AS n, count(DISTINCT h.town_code) AS towns
        FROM gaj.hjrk h JOIN rsj.jydj j ON h.id_number = j.id_number GROUP BY j.employment_form""",
    "employers_by_type": """
        SELECT q.entity_type, count(*) AS n, round(sum(q.registered_capital), 2) AS capital
        FROM rsj.jydj j JOIN scjgj.qydj q ON j.employer_uscc = q.uscc GROUP BY q.entity_type""",
    "residents_without_jobs_by_birth_year": """
        SELECT year(h.birth_date) AS y, count(*) AS n FROM gaj.hjrk h
        LEFT JOIN rsj.jydj j ON h.id_number = j.id_number WHERE j.id_number IS NULL GROUP BY year(h.birth_date)""",
    "enterprises_rows": "SELECT * FROM scjgj.qydj",
    "history_counts": "SELECT snapshot_id, count(*) AS n FROM rsj.jydj__history GROUP BY snapshot_id",
    "time_travel_first_snapshot": """
        SELECT * FROM rsj.jydj__history
        WHERE snapshot_id = (SELECT min(snapshot_id) FROM rsj.jydj__history)""",
}


@pytest.fixture(scope="module")
def hub_with_history(ingested_hub: DemoHub) -> DemoHub:
    """The demo hub, with a second snapshot of rsj.jydj (its first 20 rows dropped): history has two."""
    settings, resource = ingested_hub.settings, ingested_hub.resource("rsj/jydj")
    info = current_info(settings, resource)
    table = pq.read_table(resource_paths(settings, resource).snapshot(info.id) / DATA_FILE)
    outcome = run_load(
        settings, resource, Extract(batches=iter(table.slice(DROPPED).to_batches()), mode="full", source="test"),
        receipt=None, validate=None, actor="tester", trigger="test",
    )  # fmt: skip
    assert outcome.status == "published", outcome.problems
    return ingested_hub


@pytest.fixture(scope="module")
def spark_answers(hub_with_history: DemoHub, tmp_path_factory) -> dict[str, Any]:
    """What Spark, in its own virtualenv, answers on the hub (tests/warehouse/spark_reader.py)."""
    if not (PYTHON_SPARK.parent.parent / ".installed").exists():
        done = subprocess.run(["make", "-s", "spark"], cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, f"make spark failed (needs PyPI and Java 17): {done.stdout}{done.stderr}"
    work = tmp_path_factory.mktemp("spark")
    (work / "request.json").write_text(json.dumps({"queries": QUERIES}), encoding="utf-8")
    done = subprocess.run(
        [str(PYTHON_SPARK), str(READER), str(hub_with_history.settings.hub_dir), str(work / "request.json"),
         str(work / "answers.pickle")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return pickle.loads((work / "answers.pickle").read_bytes())


def _rows(rows) -> list[tuple]:
    return sorted((tuple(r) for r in rows), key=repr)


def test_spark_reads_every_current_table_with_duckdbs_counts(spark_answers, hub_with_history: DemoHub):
    settings = hub_with_history.settings
    expected = {}
    with connect_readonly(settings) as con:
        for resource in hub_with_history.catalog.resources:
            agency, rid = resource.key
            expected[f"{agency}.{rid}"] = con.execute(f'SELECT count(*) FROM "{agency}"."{rid}"').fetchone()[
                0
            ]
    assert spark_answers["counts"] == expected


@pytest.mark.parametrize("name", list(QUERIES))
def test_spark_answers_like_duckdb(spark_answers, hub_with_history: DemoHub, name: str):
    settings = hub_with_history.settings
    sql = QUERIES[name]
    with connect_readonly(settings) as con:
        expected = _rows(con.execute(sql).fetchall())
    got = _rows(spark_answers["queries"][name])
    assert expected, f"{name}: the demo hub should answer something"
    assert got == expected


def test_history_has_both_snapshots_and_time_travel_sees_the_dropped_rows(spark_answers):
    counts = dict(spark_answers["queries"]["history_counts"])
    assert len(counts) == 2
    first, second = sorted(counts)
    assert counts[first] == counts[second] + DROPPED
