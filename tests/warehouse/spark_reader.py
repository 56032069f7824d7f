"""Spark reading a govhub hub as any engine would: through `hub/_manifest.json`, each table's `current.json` pointer
and the folder layout — no govhub code. Runs in its own virtualenv (`make spark`: pyspark and nothing of govhub's),
as Spark does beside a real hub; the tests compare what it answers with DuckDB's answers through hub.duckdb.

    python spark_reader.py HUB_DIR REQUEST.json ANSWERS.pickle

REQUEST: {"queries": {name: sql over `agency.resource` and `agency.resource__history`}}. ANSWERS: {"counts":
{table: rows}, "queries": {name: [row tuples]}} — pickled, so dates, decimals and floats arrive as Python values."""

from __future__ import annotations

import json
import os
import pickle
import re
import sys
from pathlib import Path


def spark_views(spark, hub_dir: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The hub's names (`agency.resource`, `agency.resource__history`) with the temp views that stand for them."""
    from pyspark.sql import functions as F

    names = {}
    manifest = json.loads((hub_dir / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "govhub-parquet-1", manifest["format"]
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


def main(hub_dir: str, request: str, answers: str) -> None:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Spark's Python workers: this virtualenv
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("govhub-layout-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    try:
        views = spark_views(spark, Path(hub_dir))
        queries = json.loads(Path(request).read_text(encoding="utf-8"))["queries"]
        out = {
            "counts": {
                name: spark.sql(f"SELECT count(*) FROM {view}").collect()[0][0]
                for name, view in views.items()
                if not name.endswith("__history")
            },
            "queries": {
                name: [tuple(r) for r in spark.sql(_spark_sql(sql, views)).collect()]
                for name, sql in queries.items()
            },
        }
    finally:
        spark.stop()
    Path(answers).write_bytes(pickle.dumps(out))


def _spark_sql(sql: str, views: dict[str, str]) -> str:
    """The same SQL with the hub's table names replaced by their Spark temp views."""
    return re.sub(r"\b[a-z]+\.[a-z_]+\b", lambda m: views.get(m[0], m[0]), sql)


if __name__ == "__main__":
    main(*sys.argv[1:4])
