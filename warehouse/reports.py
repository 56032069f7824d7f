"""The per-load report returned to an agency: every problem (JSON and CSV) and the quarantined rows (Parquet).

Written under `reports/<agency>/<resource>/<load_id>/`. The CSV has a BOM so Excel opens the Chinese text right, and
its cells are neutralised (`csv_cell`): a delivered value such as `=HYPERLINK(…)` must not become a formula when the
agency opens its report.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from govhub.catalog.model import Resource
from govhub.config import Settings
from govhub.problems import Problem
from govhub.warehouse.meta import write_json_atomic

CSV_COLUMNS = ["row", "column", "value", "expected", "message_zh", "code", "field", "blocking"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def csv_cell(value: Any) -> str:
    """A value as CSV text a spreadsheet shows as text: one starting like a formula gets a leading apostrophe
    (OWASP's advice against CSV injection; full-width signs too, which some spreadsheets accept)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_dir(settings: Settings, resource: Resource, load_id: str) -> Path:
    agency, rid = resource.key
    return settings.reports_dir / agency / rid / load_id


def write_problem_report(folder: Path, problems: list[Problem], summary: dict[str, Any]) -> tuple[Path, Path]:
    """problems.json (summary + all problems) and problems.csv (one problem per line, row order)."""
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(problems, key=lambda p: (p.row is not None, p.row or 0, p.column or ""))
    json_path = write_json_atomic(
        folder / "problems.json", {**summary, "problems": [p.to_dict() for p in ordered]}
    )
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for p in ordered:
        writer.writerow([csv_cell(getattr(p, c)) for c in CSV_COLUMNS])
    csv_path = folder / "problems.csv"
    csv_path.write_text(buf.getvalue(), encoding="utf-8-sig")
    return json_path, csv_path
