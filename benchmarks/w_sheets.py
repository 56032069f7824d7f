"""W1 (1M-row GBK CSV), W2 (200k-row xlsx) and W8 (many small sheets): a delivered sheet, end to end.

govhub: `upload_sheet(settings, resource, path, actor=…)` (the service every entry point calls) — land, read, validate (one DuckDB pass), diff against
the previous snapshot (1% changed), publish. Baseline: `naive.naive_load` (pandas + GE + merge + to_parquet).
Before each run the hub is restored (untimed) to the state holding the previous version.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Case

ACTOR = "benchmark"  # the hubs benchmarks build have no people registered: open, recorded under this name

PREVIOUS, CURRENT = "prev", "new"


def sheet_path(inputs: Path, kind: str, rows: int, version: str = CURRENT) -> Path:
    return inputs / f"people-{rows}-{version}.{kind}"


def parquet_path(inputs: Path, rows: int, version: str) -> Path:
    return inputs / f"people-{rows}-{version}.parquet"


def outcome_counts(outcome: Any) -> dict[str, Any]:
    """What every govhub case reports of a load (checked against the baselines in tests/benchmarks)."""
    return {
        "status": outcome.status,
        "rows": outcome.rows,
        "inserted": outcome.inserted,
        "updated": outcome.updated,
        "deleted": outcome.deleted,
        "quarantined": outcome.quarantined,
        "problems": outcome.problem_count,
    }


class _SizedSheet(Case):
    """A case over one delivered sheet of `n()` rows."""

    kind = "csv"

    def n(self) -> int:
        raise NotImplementedError

    def rows(self) -> int:
        return self.n()


class SheetGovhub(_SizedSheet):
    side = "govhub"

    def prepare(self) -> None:
        from benchmarks.hubs import load_parquet, settings_for, work_around_open_result
        from benchmarks.resources import people_resource

        self.workaround = work_around_open_result()
        self.resource = people_resource()
        scratch = self.ctx.scratch(f"{self.workload}-govhub")
        self.template, self.home = scratch / "template", scratch / "home"
        if self.template.exists():
            shutil.rmtree(self.template)
        outcome = load_parquet(
            settings_for(self.template), self.resource, parquet_path(self.ctx.inputs, self.n(), PREVIOUS)
        )
        if outcome.status != "published":
            raise RuntimeError(f"previous snapshot not published: {outcome.status} {outcome.problems[:3]}")

    def reset(self) -> None:
        from benchmarks.hubs import restore

        restore(self.template, self.home)

    def run(self) -> dict[str, Any]:
        from benchmarks.hubs import settings_for
        from govhub.services.upload import upload_sheet

        outcome = upload_sheet(
            settings_for(self.home),
            self.resource,
            sheet_path(self.ctx.inputs, self.kind, self.n()),
            actor=ACTOR,
        )
        return outcome_counts(outcome) | {"workaround_open_result": self.workaround}


class SheetBaseline(_SizedSheet):
    side = "baseline"

    def prepare(self) -> None:
        from benchmarks.resources import people_resource

        self.resource = people_resource()
        self.out = self.ctx.scratch(f"{self.workload}-baseline") / "snapshot.parquet"

    def run(self) -> dict[str, Any]:
        from benchmarks.naive import naive_load

        inputs = self.ctx.inputs
        return naive_load(
            self.resource,
            sheet_path(inputs, self.kind, self.n()),
            parquet_path(inputs, self.n(), PREVIOUS),
            self.out,
        )


class W1Govhub(SheetGovhub):
    workload, kind = "W1", "csv"
    title = "GBK CSV sheet end to end: decode, parse, full suite, diff (1% changed), publish"

    def n(self) -> int:
        return self.ctx.profile.csv_rows


class W1Baseline(SheetBaseline):
    workload, kind = "W1", "csv"
    title = "pandas read_csv(gbk) + GE on pandas + merge diff + to_parquet"
    slow = True

    def n(self) -> int:
        return self.ctx.profile.csv_rows


class W2Govhub(SheetGovhub):
    workload, kind = "W2", "xlsx"
    title = "xlsx fill-in sheet end to end (fastexcel: a plain sheet; else calamine), same pipeline"

    def n(self) -> int:
        return self.ctx.profile.xlsx_rows


class W2Baseline(SheetBaseline):
    workload, kind = "W2", "xlsx"
    title = "pandas read_excel (openpyxl) + GE on pandas + merge diff + to_parquet"
    slow = True

    def n(self) -> int:
        return self.ctx.profile.xlsx_rows


# --- W8: many small sheets, one after another --------------------------------------------------------------


def small_sheets(inputs: Path) -> list[tuple[str, Path]]:
    """(agency, sheet) in upload order, as written by `prepare_inputs.small_sheets`."""
    folder = inputs / "small"
    return [
        (p.name.split("-")[0], p) for p in sorted(folder.iterdir(), key=lambda p: p.name.split("-", 1)[1])
    ]


class W8Govhub(Case):
    workload, side = "W8", "govhub"
    title = "small sheets (many agencies) one after another through upload_sheet"

    def rows(self) -> int:
        return self.ctx.profile.small_sheets

    def prepare(self) -> None:
        from benchmarks.hubs import work_around_open_result
        from benchmarks.resources import people_resource

        self.workaround = work_around_open_result()
        self.sheets = small_sheets(self.ctx.inputs)[: self.ctx.profile.small_sheets]
        self.resources = {a: people_resource(agency=a) for a, _ in self.sheets}
        self.home = self.ctx.scratch("W8-govhub") / "home"

    def reset(self) -> None:
        if self.home.exists():
            shutil.rmtree(self.home)

    def run(self) -> dict[str, Any]:
        from benchmarks.hubs import settings_for
        from govhub.services.upload import upload_sheet

        settings = settings_for(self.home)
        per_sheet, statuses = [], {}
        for agency, path in self.sheets:
            start = time.perf_counter()
            outcome = upload_sheet(settings, self.resources[agency], path, actor=ACTOR)
            per_sheet.append(time.perf_counter() - start)
            statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        return {"item_seconds": per_sheet, "statuses": statuses, "workaround_open_result": self.workaround}


class W8Baseline(Case):
    workload, side = "W8", "baseline"
    title = "the same sheets through the naive path (pandas + GE + merge + to_parquet per sheet)"

    def rows(self) -> int:
        return self.ctx.profile.baseline_small_sheets

    def repeats(self) -> int:
        return 0  # every sheet is timed on its own; one pass gives hundreds of samples

    def prepare(self) -> None:
        from benchmarks.resources import people_resource

        self.sheets = small_sheets(self.ctx.inputs)[: self.ctx.profile.baseline_small_sheets]
        self.resources = {a: people_resource(agency=a) for a, _ in self.sheets}
        self.out = self.ctx.scratch("W8-baseline")

    def reset(self) -> None:
        shutil.rmtree(self.out, ignore_errors=True)
        self.out.mkdir(parents=True)

    def run(self) -> dict[str, Any]:
        from benchmarks.naive import naive_load

        per_sheet, updated = [], 0
        for agency, path in self.sheets:
            start = time.perf_counter()
            current = self.out / f"{agency}.parquet"
            counts = naive_load(self.resources[agency], path, current, current)
            per_sheet.append(time.perf_counter() - start)
            updated += counts["updated"]
        return {"item_seconds": per_sheet, "updated": updated}


W8Govhub.repeats = W8Baseline.repeats  # type: ignore[method-assign]


# --- W4F: identical re-upload of a delivered FILE, through upload_sheet ---------------------------------------


class W4FileGovhub(SheetGovhub):
    """The W1 CSV was published from this very file (untimed); it is delivered again. Landing still copies, hashes
    and records it; the load recognises the sha256 of the file the current snapshot was built from."""

    workload, kind = "W4F", "csv"
    title = "identical re-upload of the W1 GBK CSV file through upload_sheet: landed, recognised by sha256"

    def n(self) -> int:
        return self.ctx.profile.csv_rows

    def upload(self) -> Path:
        return sheet_path(self.ctx.inputs, self.kind, self.n())

    def prepare(self) -> None:
        from benchmarks.hubs import settings_for, work_around_open_result
        from benchmarks.resources import people_resource
        from govhub.services.upload import upload_sheet

        self.workaround = work_around_open_result()
        self.resource = people_resource()
        scratch = self.ctx.scratch(f"{self.workload}-{self.side}")
        self.template, self.home = scratch / "template", scratch / "home"
        if self.template.exists():
            shutil.rmtree(self.template)
        original = sheet_path(self.ctx.inputs, self.kind, self.n())
        first = upload_sheet(settings_for(self.template), self.resource, original, actor=ACTOR)
        if first.status != "published":
            raise RuntimeError(f"first upload not published: {first.status} {first.problems[:3]}")
        if self.upload() != original:
            with open(original, "rb") as src, open(self.upload(), "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.write(b"\r\n")

    def run(self) -> dict[str, Any]:
        from benchmarks.hubs import settings_for
        from govhub.services.upload import upload_sheet

        outcome = upload_sheet(settings_for(self.home), self.resource, self.upload(), actor=ACTOR)
        return outcome_counts(outcome) | {"zero_update": outcome.status == "zero_update"}


class W4FileBaseline(W4FileGovhub):
    """What the same re-delivery cost before: the same rows in a file that differs by one byte (a trailing line
    break) are parsed, validated, hashed and compared by fingerprint — a zero update by content."""

    side = "baseline"
    title = (
        "the same rows in a byte-different file (one more line break): parse, full suite, hash → zero update"
    )

    def upload(self) -> Path:
        return self.ctx.scratch("W4F-baseline") / "people-again.csv"
