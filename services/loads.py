"""What every delivery goes through after the warehouse's load, whichever way it came (upload, inbox, pull).

The load itself (land → stage → audit → publish → record) has already ended with an outcome. Then: the submission
ledger (§11), catalog-drift and volume watches, and — for a refused sheet — the agency's own workbook with the
offending cells marked. Each of these steps is guarded: its failure is logged and noted on the outcome, but can never
turn a clean refusal (or a publish) into an error.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from govhub.catalog.model import Resource
from govhub.config import Settings
from govhub.problems import Category, Problem
from govhub.states import LoadStatus
from govhub.warehouse.landing import Landing, Receipt

if TYPE_CHECKING:  # `govhub status` reconciles through this module without loading DuckDB
    from govhub.warehouse.load import LoadOutcome

log = logging.getLogger(__name__)
ANNOTATED_SUFFIXES = (".xlsx", ".csv")
ANNOTATED_NAME = (
    "-错误标注.xlsx"  # the marked workbook is `<the upload's name>-错误标注.xlsx` in the load's report folder
)
# openpyxl rewrites a workbook at ≈7,000 rows/s: past ≈40k rows the marked copy would take longer than the load
# itself (and hold the workbook in memory several times over), so a larger refused file gets its problem list only
ANNOTATE_MAX_BYTES = 2 << 20
ANNOTATE_MAX_PROBLEMS = 10_000  # each marked cell is a comment: 100k of them took xlsxwriter 45 s


def guarded(outcome: LoadOutcome, step_zh: str, step: Callable[[], object]) -> None:
    """Run a step that follows a load; a failure is logged with its traceback and noted (non-blocking) only."""
    try:
        step()
    except Exception:
        log.exception(
            "%s/%s load %s: step %s failed", outcome.agency, outcome.resource, outcome.load_id, step_zh
        )
        outcome.problems.append(
            Problem(
                "load.step_failed",
                f"{step_zh}未能完成（不影响本次结果：{outcome.status.label}），已记入系统日志",
            )
        )


def after_load(
    settings: Settings,
    resource: Resource,
    outcome: LoadOutcome,
    *,
    actor: str,
    previous_rows: int | None,
    upload: Path | None = None,
    receipt: Receipt | None = None,
    from_template: bool = False,
) -> LoadOutcome:
    """Ledger, watches and (for a refused sheet) the annotated workbook; see the module docstring.

    `from_template`: the sheet was made from one of the hub's templates (any version), so columns that differ from
    the catalog are the template's problem (told to the steward), not catalog drift."""
    if (
        upload is not None
        and receipt is not None
        and outcome.status is LoadStatus.REJECTED
        and outcome.problems
        and upload.suffix.lower() in ANNOTATED_SUFFIXES
        # unreadable: nothing to mark in it
        and not any(p.category is Category.FILE for p in outcome.problems)
    ):
        if receipt.size > ANNOTATE_MAX_BYTES or outcome.problem_count > ANNOTATE_MAX_PROBLEMS:
            outcome.problems.append(
                Problem(
                    "load.not_annotated",
                    f"文件较大（{receipt.size / (1 << 20):.1f} MB，{outcome.problem_count:,}处问题），"
                    "未生成错误标注工作簿；请按问题清单（problems.csv）中的行号和列修改",
                    blocking=False,
                )
            )
        else:
            guarded(
                outcome, "错误标注工作簿", lambda: _annotate(settings, resource, receipt, upload, outcome)
            )
    guarded(outcome, "报送台账登记", lambda: _record_in_ledger(settings, resource, outcome, actor))
    guarded(outcome, "目录变更与数据量检查",
            lambda: _watch(settings, resource, outcome, previous_rows, drift=not from_template))  # fmt: skip
    return outcome


def _annotate(
    settings: Settings, resource: Resource, receipt: Receipt, upload: Path, outcome: LoadOutcome
) -> None:
    """Give the agency back its own workbook with every offending cell marked."""
    from govhub.connectors.annotate import annotate_workbook
    from govhub.problems import GovhubError
    from govhub.warehouse.reports import report_dir

    dest = report_dir(settings, resource, outcome.load_id) / f"{upload.stem}{ANNOTATED_NAME}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        outcome.annotated_path = str(
            annotate_workbook(Landing(settings).open_blob(receipt), _all_problems(outcome), dest)
        )
    except GovhubError:  # a file we cannot open cannot be annotated; the report still lists problems
        outcome.annotated_path = None


def _all_problems(outcome: LoadOutcome) -> list[Problem]:
    """Every problem of the load — the report keeps them all; the outcome carries those shown — so every cell is
    marked, also those a column's cause explains and those past the first `DISPLAY_PROBLEMS`."""
    import json

    if outcome.report_path and outcome.problem_count > len(outcome.problems):
        path = Path(outcome.report_path) / "problems.json"
        try:
            return [Problem.from_dict(p) for p in json.loads(path.read_text(encoding="utf-8"))["problems"]]
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("%s: cannot read the full problem list; marking the problems shown", path)
    return outcome.problems


def _record_in_ledger(settings: Settings, resource: Resource, outcome: LoadOutcome, actor: str) -> None:
    """The submission ledger names who delivered (§17: whoever uses it is responsible)."""
    from govhub.governance.ledger import record_load_outcome

    record_load_outcome(settings, resource, {**outcome.to_dict(), "actor": actor}, at=dt.datetime.now(dt.UTC))


def _watch(
    settings: Settings, resource: Resource, outcome: LoadOutcome, previous_rows: int | None, *, drift: bool
) -> None:
    """Signals beyond pass/fail: catalog drift (§10) — raised by sources and by sheets from no template version
    (`drift`) — and silent anomalies (far fewer rows, no zero update)."""
    from govhub.governance.alerts import check_volume, raise_alert
    from govhub.governance.drift import flag_drift

    now = dt.datetime.now(dt.UTC)
    if drift:
        flag_drift(settings, resource, outcome.problems, at=now)
    # Volume anomalies are about data that arrived: a publish, or a refusal for having far fewer rows than usual —
    # not a file refused before any row was read (that one has its own report).
    too_few = any(p.code == "load.too_few_rows" for p in outcome.problems)
    if (outcome.status is LoadStatus.PUBLISHED or too_few) and outcome.rows is not None:
        alert = check_volume(resource, outcome.rows, previous_rows, at=now, period=outcome.load_id)
        if alert is not None:
            raise_alert(settings, alert)


def reconcile(settings: Settings, resource: Resource) -> list[dict]:
    """Finish the records of a load a killed process cut off (`warehouse.journal`) before anything else happens to the
    resource: a publish that went live is recorded with its actor and entered in the ledger (§11) as delivered; an
    interrupted load as failed — also when a power cut took the journal (the current snapshot carries what its load
    published). Returns the load records written (usually none: a `stat` and a read of `snapshot.json`)."""
    from govhub.warehouse.journal import pending
    from govhub.warehouse.journal import reconcile as finish_records
    from govhub.warehouse.snapshots import current_info, recover, resource_lock

    if not pending(settings, resource):
        return []
    with resource_lock(settings, resource):
        recover(settings, resource)
        records = finish_records(settings, resource, current=current_info(settings, resource))
    for record in records:
        if record["status"] == LoadStatus.PUBLISHED.value:
            from govhub.governance.ledger import record_load_outcome

            try:
                # the delivery's own time (a publish reconciled after a weekend is not late for it)
                started = record.get("started_at")
                at = dt.datetime.fromisoformat(started) if started else dt.datetime.now(dt.UTC)
                record_load_outcome(settings, resource, record, at=at)
            except Exception:
                log.exception("%s/%s: reconciled load %s not entered in the ledger", resource.agency,
                              resource.id, record["load_id"])  # fmt: skip
    return records


def previous_rows(settings: Settings, resource: Resource) -> int | None:
    """Rows of the current snapshot before a load (None when nothing real was published yet)."""
    from govhub.warehouse.snapshots import current_info

    previous = current_info(settings, resource)
    return previous.rows if previous and not previous.initial else None


def nothing_to_load(resource: Resource) -> LoadOutcome:
    """The outcome for a sheet-fed resource whose inbox is empty."""
    from govhub.warehouse.load import LoadOutcome

    return LoadOutcome(load_id="", agency=resource.agency, resource=resource.id, status=LoadStatus.NO_UPLOAD)


def refused(resource: Resource, problems: list[Problem]) -> LoadOutcome:
    """The outcome for a delivery refused before landing (who asked may not): nothing was loaded."""
    from govhub.warehouse.load import LoadOutcome

    return LoadOutcome(load_id="", agency=resource.agency, resource=resource.id, status=LoadStatus.REJECTED,
                       problems=list(problems), problem_count=len(problems))  # fmt: skip
