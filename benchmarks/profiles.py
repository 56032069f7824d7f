"""Input sizes: `full` is what issue 5 specifies, `quick` a few-minute check, `tiny` the test suite's smoke run."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    csv_rows: int  # W1: GBK CSV sheet
    xlsx_rows: int  # W2: xlsx fill-in sheet
    snapshot_rows: int  # W3, W4, W6 and the 10M-row load
    api_rows: int  # W5
    api_page: int
    small_sheets: int  # W8 through govhub
    baseline_small_sheets: int  # W8 through the naive path (stated in the table when fewer)
    small_sheet_rows: int
    small_agencies: int
    repeats: int  # warm runs after the cold one; the median of these is the headline
    slow_repeats: int  # for the slowest baselines only (stated in the table)
    cli_repeats: int  # W7: fresh processes
    use_events: int  # W12: the event log's grant-use events (queries, exports, docking-API calls)

    def to_dict(self) -> dict:
        return asdict(self)


PROFILES = {
    "full": Profile(
        "full",
        csv_rows=1_000_000,
        xlsx_rows=200_000,
        snapshot_rows=10_000_000,
        api_rows=1_000_000,
        api_page=1000,
        small_sheets=1000,
        baseline_small_sheets=100,
        small_sheet_rows=200,
        small_agencies=10,
        repeats=3,
        slow_repeats=2,
        cli_repeats=5,
        use_events=400_000,
    ),
    "quick": Profile(
        "quick",
        csv_rows=100_000,
        xlsx_rows=20_000,
        snapshot_rows=1_000_000,
        api_rows=100_000,
        api_page=1000,
        small_sheets=60,
        baseline_small_sheets=20,
        small_sheet_rows=200,
        small_agencies=4,
        repeats=3,
        slow_repeats=2,
        cli_repeats=3,
        use_events=40_000,
    ),
    "tiny": Profile(
        "tiny",
        csv_rows=1_000,
        xlsx_rows=300,
        snapshot_rows=3_000,
        api_rows=1_000,
        api_page=100,
        small_sheets=3,
        baseline_small_sheets=2,
        small_sheet_rows=20,
        small_agencies=2,
        repeats=1,
        slow_repeats=1,
        cli_repeats=1,
        use_events=2_000,
    ),
}
