"""Spark (pyspark in local mode, no jars fetched) reads the hub through `_manifest.json` and each resource's
`current.json` — knowing nothing of govhub — and answers the analysts' queries exactly as DuckDB does through
hub.duckdb: counts of every table, group-bys, joins across agencies, and history (time travel)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from govhub.connectors.base import Extract
from govhub.warehouse.hub import connect_readonly
from govhub.warehouse.load import run_load
from govhub.warehouse.snapshots import DATA_FILE, current_info, resource_paths
from tests.conftest import DemoHub

pytestmark = pytest.mark.spark
DROPPED = 20

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
def spark() -> Iterator[object]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers in this venv
    session = (
        SparkSession.builder.master("local[1]")
        .appName("govhub-layout-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    yield session
    session.stop()


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


def spark_views(spark, hub_dir: Path) -> dict[str, str]:
    """What an engine needs to know: the manifest, the pointers, and the folder layout — no govhub code. Returns
    the hub's names (`agency.resource`, `agency.resource__history`) with the temp views that stand for them."""
    from pyspark.sql import functions as F

    names = {}
    manifest = json.loads((hub_dir / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "govhub-parquet-1"
    for table in manifest["tables"]:
        root = hub_dir / table["path"]
        current = json.loads((hub_dir / table["pointer"]).read_text(encoding="utf-8"))
        view = table["name"].replace(".", "__")
        data = spark.read.parquet(*[str(root / f) for f in current["files"]])
        data.createOrReplaceTempView(view)
        history = (
            spark.read.schema(data.schema)  # the current snapshot's schema: no inference job over history
            .parquet(str(hub_dir / table["history"]))
            .select(
                F.regexp_extract(F.input_file_name(), r"/snapshots/([^/]+)/[^/]+$", 1).alias("snapshot_id"),
                "*",
            )
            .where(F.col("snapshot_id") <= current["snapshot_id"])
        )
        history.createOrReplaceTempView(view + "____history")
        names[table["name"]], names[table["name"] + "__history"] = view, view + "____history"
    return names


@pytest.fixture(scope="module")
def views(spark, hub_with_history: DemoHub) -> dict[str, str]:
    return spark_views(spark, hub_with_history.settings.hub_dir)


def _spark_sql(sql: str, views: dict[str, str]) -> str:
    """The same SQL with the hub's table names replaced by their Spark temp views."""
    return re.sub(r"\b[a-z]+\.[a-z_]+\b", lambda m: views.get(m[0], m[0]), sql)


def _rows(rows) -> list[tuple]:
    return sorted((tuple(r) for r in rows), key=repr)


def test_spark_reads_every_current_table_with_duckdbs_counts(spark, views, hub_with_history: DemoHub):
    settings = hub_with_history.settings
    with connect_readonly(settings) as con:
        for resource in hub_with_history.catalog.resources:
            agency, rid = resource.key
            expected = con.execute(f'SELECT count(*) FROM "{agency}"."{rid}"').fetchone()[0]
            got = spark.sql(f"SELECT count(*) FROM {views[f'{agency}.{rid}']}").collect()[0][0]
            assert got == expected, (agency, rid)


@pytest.mark.parametrize("name", list(QUERIES))
def test_spark_answers_like_duckdb(spark, views, hub_with_history: DemoHub, name: str):
    settings = hub_with_history.settings
    sql = QUERIES[name]
    with connect_readonly(settings) as con:
        expected = _rows(con.execute(sql).fetchall())
    got = _rows(spark.sql(_spark_sql(sql, views)).collect())
    assert expected, f"{name}: the demo hub should answer something"
    assert got == expected


def test_history_has_both_snapshots_and_time_travel_sees_the_dropped_rows(spark, views):
    counts = dict(spark.sql(_spark_sql(QUERIES["history_counts"], views)).collect())
    assert len(counts) == 2
    first, second = sorted(counts)
    assert counts[first] == counts[second] + DROPPED
