"""W7: cold start of the `govhub` command (`--help`, `status`) against `python -c "import great_expectations"`."""

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
