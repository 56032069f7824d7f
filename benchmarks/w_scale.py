"""S1–S3 (`make bench-scale`): how far one configuration goes — a resource of 1×, 10× and 100× the W1 size
(1M → 100M rows) loaded and queried, and 10× / 100× the number of feeds in one scheduler tick.

The rows are generated while the load streams them (`inputs.enumerated_people`, 128k-row batches), so a 100M-row
load never needs a 4 GB input file; the generator's own time is reported (`generate_s`) and is part of the wall
time. Peak RSS is the whole process's (generator included). Settings come from the environment like any govhub
process: `GOVHUB_STATE_URL` for the workflow store; the hub's Parquet stays in local folders here.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks.harness import Case

CHUNK_ROWS = 1_000_000
BATCH_ROWS = 128_000
FEED_ROWS = 200
# a district's feeds due in one tick: `small_agencies` of the profile (10 at full size; the demo district has 17
# resources); the cases load 10× and 100× of it
QUERIES = {
    "count": "SELECT count(*) FROM {t}",
    "by_town": "SELECT town_code, count(*), round(avg(monthly_wage), 2) FROM {t} GROUP BY 1 ORDER BY 1",
    "by_year": "SELECT year(birth_date) y, sex, count(*) FROM {t} GROUP BY ALL ORDER BY ALL",
    "point": "SELECT * FROM {t} WHERE id_number = '{key}'",
}


def scale_home(ctx, factor: int) -> Path:
    return ctx.work / "scratch" / f"scale-{factor}x"


def generated_batches(rows: int, clock: list[float]) -> Iterator[pa.RecordBatch]:
    """`rows` people in 128k-row batches, generated 1M at a time; time spent generating is added to clock[0]."""
    from benchmarks.inputs import enumerated_people

    for start in range(0, rows, CHUNK_ROWS):
        began = time.perf_counter()
        table = enumerated_people(start, min(CHUNK_ROWS, rows - start))
        clock[0] += time.perf_counter() - began
        yield from table.to_batches(max_chunksize=BATCH_ROWS)
        del table


def _settings(home: Path):
    from benchmarks.hubs import settings_for

    return settings_for(home)


class ScaleLoad(Case):
    """First load of a 1×/10×/100× W1-sized resource: stream, validate (full suite), hash, publish."""

    workload = "S1"
    factor = 1

    @property
    def side(self) -> str:  # type: ignore[override]
        return f"load-{self.factor}x"

    def rows(self) -> int:
        return self.ctx.profile.csv_rows * self.factor

    def repeats(self) -> int:
        return 0

    def prepare(self) -> None:
        shutil.rmtree(scale_home(self.ctx, self.factor), ignore_errors=True)

    def run(self) -> dict[str, Any]:
        from benchmarks.resources import people_resource
        from benchmarks.w_sheets import outcome_counts
        from govhub.connectors.base import Extract
        from govhub.expectations.validate import validate_load
        from govhub.warehouse.load import run_load

        clock = [0.0]
        extract = Extract(batches=generated_batches(self.rows(), clock), mode="full", source="generated")
        outcome = run_load(
            _settings(scale_home(self.ctx, self.factor)),
            people_resource(),
            extract,
            receipt=None,
            validate=validate_load,
            actor="benchmark",
            trigger="benchmark",
        )
        return outcome_counts(outcome) | {"generate_s": round(clock[0], 2)}


class ScaleQuery(Case):
    """The analysts' queries over the loaded resource through hub.duckdb's view (read-only connection)."""

    workload = "S2"
    factor = 1

    @property
    def side(self) -> str:  # type: ignore[override]
        return f"query-{self.factor}x"

    def rows(self) -> int:
        return self.ctx.profile.csv_rows * self.factor

    def repeats(self) -> int:
        return 2

    def prepare(self) -> None:
        from benchmarks.inputs import enumerated_people
        from benchmarks.resources import bench_catalog, people_resource
        from govhub.warehouse.hub import sync_hub
        from govhub.warehouse.snapshots import current_info

        self.settings = _settings(scale_home(self.ctx, self.factor))
        loaded = current_info(self.settings, people_resource())
        if loaded is None or loaded.rows != self.rows():  # never measure an empty or partial hub
            raise RuntimeError(f"S1/load-{self.factor}x has not published {self.rows()} rows: run it first")
        sync_hub(self.settings, bench_catalog([people_resource()]))
        self.probe = enumerated_people(self.rows() // 2, 1)["id_number"][0].as_py()

    def run(self) -> dict[str, Any]:
        from govhub.warehouse.hub import connect_readonly

        facts: dict[str, Any] = {}
        with connect_readonly(self.settings) as con:
            for name, sql in QUERIES.items():
                began = time.perf_counter()
                rows = con.execute(sql.format(t='bench."jyry"', key=self.probe)).fetchall()
                facts[f"{name}_s"] = round(time.perf_counter() - began, 3)
                facts[f"{name}_rows"] = len(rows)
            facts["count"] = con.execute('SELECT count(*) FROM bench."jyry"').fetchone()[0]
        return facts


class ScaleTick(Case):
    """One scheduler tick's work for 10× / 100× feeds: every feed (200 rows each, its own resource) loaded through
    write-audit-publish in one process, one after another, as the tick's run does."""

    workload = "S3"
    factor = 10

    @property
    def side(self) -> str:  # type: ignore[override]
        return f"tick-{self.factor}x"

    def feeds(self) -> int:
        return self.ctx.profile.small_agencies * self.factor

    def rows(self) -> int:
        return self.feeds() * FEED_ROWS

    def repeats(self) -> int:
        return 0

    def prepare(self) -> None:
        from benchmarks.inputs import enumerated_people
        from benchmarks.resources import people_resource

        self.home = scale_home(self.ctx, 0) / f"feeds-{self.factor}"
        shutil.rmtree(self.home, ignore_errors=True)
        self.resources = [
            people_resource(f"feed{i:04d}", agency=f"a{i % (self.feeds() // 10 or 1):03d}")
            for i in range(self.feeds())
        ]
        self.tables = [enumerated_people(i * FEED_ROWS, FEED_ROWS) for i in range(self.feeds())]

    def run(self) -> dict[str, Any]:
        from govhub.connectors.base import Extract
        from govhub.expectations.validate import validate_load
        from govhub.warehouse.load import run_load

        settings = _settings(self.home)
        statuses: dict[str, int] = {}
        each = []
        for resource, table in zip(self.resources, self.tables, strict=True):
            began = time.perf_counter()
            outcome = run_load(
                settings,
                resource,
                Extract(batches=iter(table.to_batches()), mode="full", source="feed"),
                receipt=None,
                validate=validate_load,
                actor="system:schedule",
                trigger="schedule",
            )
            each.append(time.perf_counter() - began)
            statuses[str(outcome.status)] = statuses.get(str(outcome.status), 0) + 1
        each.sort()
        return {
            "feeds": len(each),
            "statuses": statuses,
            "median_feed_ms": round(each[len(each) // 2] * 1000, 1),
            "p95_feed_ms": round(each[int(len(each) * 0.95)] * 1000, 1),
        }


def _sized(base: type[Case], factor: int) -> type[Case]:
    return type(f"{base.__name__}{factor}x", (base,), {"factor": factor})


S1_1X, S1_10X, S1_100X = (_sized(ScaleLoad, f) for f in (1, 10, 100))
S2_1X, S2_10X, S2_100X = (_sized(ScaleQuery, f) for f in (1, 10, 100))
S3_10X, S3_100X = (_sized(ScaleTick, f) for f in (10, 100))
