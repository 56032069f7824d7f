"""Every measured case by key `<workload>/<side>`, and which input groups a workload needs."""

from __future__ import annotations

import importlib

from benchmarks.harness import Case

CASES: dict[str, str] = {
    "W1/govhub": "benchmarks.w_sheets:W1Govhub",
    "W1/baseline": "benchmarks.w_sheets:W1Baseline",
    "W2/govhub": "benchmarks.w_sheets:W2Govhub",
    "W2/baseline": "benchmarks.w_sheets:W2Baseline",
    "W8/govhub": "benchmarks.w_sheets:W8Govhub",
    "W8/baseline": "benchmarks.w_sheets:W8Baseline",
    "W5/govhub": "benchmarks.w_api:W5Govhub",
    "W5/baseline": "benchmarks.w_api:W5Baseline",
    "W10/govhub": "benchmarks.w_docking:W10Govhub",
    "W10/baseline": "benchmarks.w_docking:W10Baseline",
    "W10R/govhub": "benchmarks.w_docking:W10RGovhub",
    "W10R/baseline": "benchmarks.w_docking:W10RBaseline",
    "W10C/govhub": "benchmarks.w_docking:W10CGovhub",
    "W10C/baseline": "benchmarks.w_docking:W10CBaseline",
    "L10M/first": "benchmarks.w_snapshots:L10MFirst",
    "L10M/next": "benchmarks.w_snapshots:L10MNext",
    "L10M/reload": "benchmarks.w_snapshots:L10MReload",
    "W3/govhub": "benchmarks.w_snapshots:W3Govhub",
    "W3/govhub-rehash": "benchmarks.w_snapshots:W3GovhubRehash",
    "W3/baseline": "benchmarks.w_snapshots:W3Baseline",
    "W4/govhub": "benchmarks.w_snapshots:W4Govhub",
    "W4/baseline": "benchmarks.w_snapshots:W4Baseline",
    "W4F/govhub": "benchmarks.w_sheets:W4FileGovhub",
    "W4F/baseline": "benchmarks.w_sheets:W4FileBaseline",
    "W6/govhub": "benchmarks.w_snapshots:W6Govhub",
    "W6/baseline": "benchmarks.w_snapshots:W6Baseline",
    "W6/sandbox": "benchmarks.w_workspaces:W6Sandbox",
    "W6O/sandbox": "benchmarks.w_workspaces:W6OSandbox",
    "W6O/baseline": "benchmarks.w_workspaces:W6OBaseline",
    "W9/govhub": "benchmarks.w_workspaces:W9Govhub",
    "W9/baseline": "benchmarks.w_workspaces:W9Baseline",
    "W9G/govhub": "benchmarks.w_workspaces:W9GGovhub",
    "W9G/baseline": "benchmarks.w_workspaces:W9GBaseline",
    "W11/govhub": "benchmarks.w_portal:W11Govhub",
    "W12/govhub": "benchmarks.w_audit:W12Govhub",
    "W12/baseline": "benchmarks.w_audit:W12Baseline",
    "S1/load-1x": "benchmarks.w_scale:S1_1X",
    "S1/load-10x": "benchmarks.w_scale:S1_10X",
    "S1/load-100x": "benchmarks.w_scale:S1_100X",
    "S2/query-1x": "benchmarks.w_scale:S2_1X",
    "S2/query-10x": "benchmarks.w_scale:S2_10X",
    "S2/query-100x": "benchmarks.w_scale:S2_100X",
    "S3/tick-10x": "benchmarks.w_scale:S3_10X",
    "S3/tick-100x": "benchmarks.w_scale:S3_100X",
}

INPUTS: dict[str, list[str]] = {
    "W1": ["sheets"],
    "W2": ["sheets"],
    "W3": ["snapshots"],
    "W4": ["snapshots"],
    "W4F": ["sheets"],
    "W5": ["api"],
    "W6": ["snapshots"],
    "W6O": ["snapshots"],
    "W7": [],
    "W8C": [],  # builds its own 200-row sheets
    "W8": ["small"],
    "W9": ["snapshots"],
    "W9G": ["snapshots"],
    "W10": ["sheets"],  # the 1M-row (csv_rows) people table, published into a hub of its own
    "W10C": ["sheets"],
    "W10R": ["sheets"],
    "L10M": ["snapshots"],
    "W11": [],  # builds its own demo hub and sheets
    "W12": [],  # writes its own event log
}


def case_class(key: str) -> type[Case]:
    module, name = CASES[key].split(":")
    return getattr(importlib.import_module(module), name)


def cases_of(workload: str) -> list[str]:
    return [k for k in CASES if k.split("/")[0] == workload]
