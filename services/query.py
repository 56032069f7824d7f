"""Grant-scoped query (§14): an analyst's read-only SQL over their agency's workspace, accountable (§16–§17).

The engine enforces the scope — the workspace file holds nothing else, and the SQL runs sandboxed in a child process
(`warehouse.sandbox`) — never the SQL text. Before each query the workspace is brought to today's scope (a revoked or
expired grant is gone at once). Every query is in the event log: person, agency, the grants and purposes of the
tables it names, the SQL, rows returned and duration — refused and failed ones too; exports say who, which grants,
what purpose and when in their metadata.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govhub.access import Action, authorize
from govhub.catalog.model import Catalog
from govhub.clock import BEIJING
from govhub.config import Settings
from govhub.events import record_event
from govhub.problems import GovhubError, Problem
from govhub.services.workspaces import actor_agency, ensure_current, today_or
from govhub.warehouse.sandbox import QueryLimits, QueryResult, run_query
from govhub.warehouse.scope import ScopedTable, WorkspaceScope
from govhub.warehouse.workspace import workspace_path

SQL_IN_EVENT = 4000  # characters of the SQL kept in the event (the whole text for anything reasonable)


@dataclass
class QueryOutcome:
    result: QueryResult
    person: str
    agency: str
    tables: list[str] = field(default_factory=list)  # the workspace tables the SQL names
    grants: list[str] = field(default_factory=list)  # the grants those tables are reached through
    purposes: list[str] = field(default_factory=list)

    @property
    def provenance(self) -> dict[str, Any]:
        return {"person": self.person, "agency": self.agency, "grants": self.grants, "purposes": self.purposes,
                "tables": self.tables, "date": dt.datetime.now(BEIJING).isoformat(timespec="seconds")}  # fmt: skip


def named_tables(scope: WorkspaceScope, sql: str) -> list[ScopedTable]:
    """The scope's tables the SQL names (`agency.resource`, quoted or not) — for the record, never to decide
    access: what the engine can reach is decided by the workspace file alone."""
    text = sql.lower().replace('"', "")
    return [
        t
        for t in scope.tables
        if re.search(rf"\b{re.escape(t.agency)}\s*\.\s*{re.escape(t.resource)}\b", text)
    ]


def run_sql(
    settings: Settings,
    catalog: Catalog,
    sql: str,
    *,
    actor: str,
    limits: QueryLimits | None = None,
    today: dt.date | None = None,
) -> QueryOutcome:
    """Run `sql` as `actor` (an analyst) over their agency's workspace; the outcome carries any error as a value."""
    who = authorize(settings, actor, Action.QUERY, None)
    if not sql.strip():  # nothing to run: said, never an empty result (or an empty download)
        raise GovhubError(Problem("sandbox.empty", "请输入要执行的 SQL 查询"))
    agency = actor_agency(who)
    scope, _ = ensure_current(settings, catalog, agency, today=today_or(today))
    result = run_query(settings, workspace_path(settings, agency), sql, limits)
    touched = named_tables(scope, sql)
    outcome = QueryOutcome(result, who.name, agency, sorted({t.name for t in touched}),
                           sorted({g for t in touched for g in t.grant_ids}),
                           sorted({p for t in touched for p in t.purposes}))  # fmt: skip
    record_event(settings, kind="query.run" if result.ok else "query.failed", actor=who.name, agency=agency,
                 subject=f"workspace/{agency}",
                 payload={"sql": sql[:SQL_IN_EVENT], "rows": result.rows, "truncated": result.truncated,
                          "duration_s": round(result.duration_s, 3), "tables": outcome.tables,
                          "grants": outcome.grants, "purposes": outcome.purposes,
                          "error": result.error.code if result.error else None})  # fmt: skip
    return outcome


def export(settings: Settings, outcome: QueryOutcome, path: Path, fmt: str, *, via: str = "cli") -> Path:
    """Write the rows as CSV/JSON/Parquet with their provenance, and record the export. A CSV for the portal's
    download (`via="portal"`) has its formula-like text cells neutralised: it opens in a spreadsheet."""
    from govhub.warehouse.export import write_result

    written = Path(write_result(outcome.result, path, fmt, outcome.provenance, neutralise=via == "portal"))
    record_event(settings, kind="export.written", actor=outcome.person, agency=outcome.agency,
                 subject=f"workspace/{outcome.agency}",
                 payload={"path": str(written), "format": fmt, "rows": outcome.result.rows, "via": via,
                          "grants": outcome.grants, "purposes": outcome.purposes})  # fmt: skip
    return written
