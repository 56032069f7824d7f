"""W7: cold start of the `govhub` command (`--help`, `status`) against `python -c "import great_expectations"`.

W8c: `govhub upload` of a 200-row sheet as a fresh process, end to end (every run a real publish with its diff:
two versions of the sheet alternate), against the same upload through Dagster's in-process `materialize` — the way
the CLI ran loads before the service floor."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from benchmarks.harness import REPO, Context, Measurement, measure_command


def _govhub() -> str:
    return str(Path(sys.executable).with_name("govhub"))


def measure_cli(ctx: Context) -> list[Measurement]:
    runs = ctx.profile.cli_repeats
    home = ctx.scratch("W7-home")
    env = dict(
        os.environ, GOVHUB_HOME=str(home), GOVHUB_CATALOG=str(REPO / "catalog"), GX_ANALYTICS_ENABLED="false"
    )
    return [
        measure_command(
            "W7", "govhub-help", "`govhub --help`, fresh process", [_govhub(), "--help"], runs, env
        ),
        measure_command(
            "W7", "govhub-status", "`govhub status`, fresh process", [_govhub(), "status"], runs, env
        ),
        measure_command(
            "W7",
            "baseline",
            '`python -c "import great_expectations"`',
            [sys.executable, "-c", "import great_expectations"],
            runs,
            env,
        ),
    ]


UPLOAD_ROWS = 200
UPLOAD_RESOURCE = "rsj/jydj"  # 就业登记信息: a fill-in sheet keyed by 公民身份号码
UPLOAD_PERSON = "benchmark"  # the benchmark hub registers nobody: open, recorded under this name


def _upload_sheets(ctx: Context) -> tuple[Path, list[Path]]:
    """A hub holding the resource's first version, and two other versions of the 200-row sheet to alternate."""
    import pyarrow.compute as pc

    from govhub.catalog.load import require_catalog
    from govhub.config import get_settings
    from govhub.demo.generate import generate_tables
    from govhub.demo.sources import sheet_cells, write_xlsx
    from govhub.services.upload import upload_sheet

    catalog = require_catalog(REPO / "catalog")
    resource = catalog.resource(UPLOAD_RESOURCE)
    table = generate_tables(catalog, scale=1.0)[UPLOAD_RESOURCE].slice(0, UPLOAD_ROWS)
    assert table.num_rows == UPLOAD_ROWS, table.num_rows
    folder = ctx.scratch("W8c")
    headers = [f.label for f in resource.fields]
    sheets = []
    for version in range(3):
        name = next(f.name for f in resource.fields if f.label == "姓名")
        changed = table.set_column(
            table.schema.get_field_index(name),
            name,
            pc.binary_join_element_wise(table[name], str(version), ""),
        )
        path = folder / f"jydj-v{version}.xlsx"
        write_xlsx(resource, headers, sheet_cells(resource, changed), path)
        sheets.append(path)
    home = folder / "home"
    settings = get_settings(home, REPO / "catalog", env={})
    first = upload_sheet(settings, resource, sheets[0], actor=UPLOAD_PERSON)
    assert first.status == "published", first.problems[:3]
    return home, sheets[1:]


def measure_upload(ctx: Context) -> list[Measurement]:
    home, (a, b) = _upload_sheets(ctx)
    runs = max(ctx.profile.cli_repeats, 2) // 2 * 2  # an even count: each version as often as the other
    env = dict(
        os.environ, GOVHUB_HOME=str(home), GOVHUB_CATALOG=str(REPO / "catalog"), GX_ANALYTICS_ENABLED="false"
    )
    env.pop("GOVHUB_STATE_URL", None)

    def upload(i: int) -> list[str]:
        return [
            _govhub(),
            "upload",
            str(a if i % 2 == 0 else b),
            "--resource",
            UPLOAD_RESOURCE,
            "--by",
            UPLOAD_PERSON,
        ]

    def through_dagster(i: int) -> list[str]:
        sheet = str(a if i % 2 == 0 else b)
        return [sys.executable, "-m", "benchmarks.dagster_upload", str(home), str(REPO / "catalog"), sheet,
                UPLOAD_RESOURCE, UPLOAD_PERSON]  # fmt: skip

    return [
        measure_command(
            "W8c", "govhub", "`govhub upload` of a 200-row sheet, fresh process", upload, runs, env
        ),
        measure_command(
            "W8c",
            "baseline",
            "the same upload through Dagster's in-process materialize",
            through_dagster,
            runs,
            env,
        ),
    ]
