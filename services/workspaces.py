"""Per-agency workspaces (§14): what an agency's analysts may reach, built into a file of its own.

The scope of agency X on a day is X's own resources, other agencies' base resources shared unconditionally (their
unconditional fields only) and X's grants live that day (granted fields and rows only). `build` writes it;
`ensure_current` rebuilds when the file no longer matches the scope — a publish in scope, a new, revoked or expired
grant — which every read path (query, download, the docking API) calls first, so a revoked or expired grant stops
working at once. Every build is recorded in the event log with the grants it carries.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb

from govhub.access import Action, authorize
from govhub.catalog.model import Catalog
from govhub.config import Settings
from govhub.events import record_event
from govhub.governance.grants import grant_tables
from govhub.warehouse.export import sidecar_path
from govhub.warehouse.scope import WorkspaceScope, base_scope
from govhub.warehouse.workspace import SCOPE_TABLE, WorkspaceBuild, build_workspace, workspace_path

Signature = frozenset[tuple[Any, ...]]


def api_copies(settings: Settings, agency: str) -> Path:
    """Where the docking API keeps an agency's sorted copies of what it pages through (beside its workspace)."""
    return workspace_path(settings, agency).parent / "api"


def drop_api_copies(settings: Settings, agency: str, key: str) -> None:
    """Remove `agency`'s API copies of resource `key` ("provider/resource") at once, not at the next day's sweep: a
    grant that stopped leaves none of its rows on disk (a walk still going re-sorts what its scope admits)."""
    provider, resource = key.split("/", 1)
    for copy in api_copies(settings, agency).glob(f"{provider}.{resource}.*.parquet"):
        copy.unlink(missing_ok=True)


def agency_scope(settings: Settings, catalog: Catalog, agency: str, today: dt.date) -> WorkspaceScope:
    """Everything `agency` may reach on `today`: its base scope plus its live grants."""
    return base_scope(settings, catalog, agency).with_tables(*grant_tables(settings, catalog, agency, today))


def view_scope(
    settings: Settings, catalog: Catalog, agency: str, *, actor: str, today: dt.date | None = None
) -> WorkspaceScope:
    """What `agency`'s workspace holds on `today`, for its analysts, the engineers and the office."""
    authorize(settings, actor, Action.VIEW_WORKSPACE, agency)
    return agency_scope(settings, catalog, agency, today_or(today))


def signature(scope: WorkspaceScope) -> Signature:
    """What a workspace built from `scope` holds, table by table (as its `_scope` table records it)."""
    return frozenset(
        (
            t.name,
            t.basis.value,
            tuple(t.columns),
            t.row_filter.sql(),
            tuple(t.grant_ids),
            t.source.snapshot_id,
        )
        for t in scope.tables
    )


def built_signature(path: Path) -> Signature | None:
    """What the workspace file at `path` holds (None: no file, or one this version cannot read)."""
    if not path.is_file():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute(
                f"SELECT table_name, basis, columns, row_filter, grant_ids, snapshot_id FROM {SCOPE_TABLE}"
            ).fetchall()
    except duckdb.Error:
        return None
    return frozenset((n, b, tuple(c), f, tuple(g), s) for n, b, c, f, g, s in rows)


def grants_of(scope: WorkspaceScope) -> list[str]:
    return sorted({g for t in scope.tables for g in t.grant_ids})


def build(
    settings: Settings,
    catalog: Catalog,
    agency: str,
    *,
    actor: str,
    today: dt.date | None = None,
    reason: str = "",
) -> WorkspaceBuild:
    """Build `agency`'s workspace now (an engineer, the office, a Dagster run or the agency's own analysts)."""
    who = authorize(settings, actor, Action.BUILD_WORKSPACE, agency)
    return _build(
        settings, agency, agency_scope(settings, catalog, agency, today_or(today)), who.name, reason
    )


def _build(settings: Settings, agency: str, scope: WorkspaceScope, by: str, reason: str) -> WorkspaceBuild:
    done = build_workspace(settings, scope)
    record_event(settings, kind="workspace.built", actor=by, agency=agency, subject=f"workspace/{agency}",
                 payload={"tables": done.tables, "bytes": done.bytes, "duration_s": round(done.duration_s, 3),
                          "grants": grants_of(scope), "reason": reason})  # fmt: skip
    return done


def ensure_current(
    settings: Settings,
    catalog: Catalog,
    agency: str,
    *,
    today: dt.date | None = None,
    by: str = "system:query",
) -> tuple[WorkspaceScope, WorkspaceBuild | None]:
    """The agency's scope today, and a fresh build when the file does not hold exactly that scope (else None)."""
    scope = agency_scope(settings, catalog, agency, today_or(today))
    if built_signature(workspace_path(settings, agency)) == signature(scope):
        return scope, None
    return scope, _build(settings, agency, scope, by, "范围已变化（发布、授权或到期）")


def download(
    settings: Settings, catalog: Catalog, dest: Path, *, actor: str, today: dt.date | None = None
) -> tuple[Path, dict[str, Any]]:
    """A copy of the actor's agency's workspace (current first), with who/grants/purposes/date beside it."""
    who = authorize(settings, actor, Action.DOWNLOAD_WORKSPACE, None)
    agency = actor_agency(who)
    if dest.stem in catalog.agencies:  # DuckDB names a database after its file: `mzj.hydj` would be ambiguous
        from govhub.problems import GovhubError, Problem

        raise GovhubError(Problem("workspace.bad_name", f"文件名“{dest.name}”与部门编号相同，打开后表名“{dest.stem}.…”会有歧义",
                                  expected=f"换一个文件名，如 workspace-{agency}.duckdb"))  # fmt: skip
    scope, _ = ensure_current(settings, catalog, agency, today=today)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workspace_path(settings, agency), dest)
    provenance = {"agency": agency, "by": who.name, "grants": grants_of(scope), "date": today_or(today).isoformat(),
                  "purposes": sorted({p for t in scope.tables for p in t.purposes}),
                  "tables": sorted({t.name for t in scope.tables})}  # fmt: skip
    _keep_provenance(dest, provenance)
    sidecar_path(dest).write_text(json.dumps(provenance, ensure_ascii=False, indent=1),
                                                         encoding="utf-8")  # fmt: skip
    record_event(settings, kind="workspace.downloaded", actor=who.name, agency=agency, subject=f"workspace/{agency}",
                 payload={**provenance, "path": str(dest)})  # fmt: skip
    return dest, provenance


PROVENANCE_TABLE = "_provenance"


def _keep_provenance(copy: Path, provenance: dict[str, Any]) -> None:
    """Who took the copy, for which grants, purposes and date — inside the file itself (the `.meta.json` beside it
    is lost the first time the file is passed on): a table `_provenance(key, value)`, values as JSON text."""
    with duckdb.connect(str(copy)) as con:
        con.execute(f"CREATE OR REPLACE TABLE main.{PROVENANCE_TABLE} (key VARCHAR, value VARCHAR)")
        con.executemany(f"INSERT INTO main.{PROVENANCE_TABLE} VALUES (?, ?)",
                        [(k, json.dumps(v, ensure_ascii=False)) for k, v in provenance.items()])  # fmt: skip


def actor_agency(who: Any) -> str:
    from govhub.problems import AccessDenied, Problem

    if who.agency is None:
        raise AccessDenied(Problem("access.denied", "只有登记在册、属于某一部门的人员才能使用本部门的工作区"))
    return who.agency


def today_or(today: dt.date | None) -> dt.date:
    from govhub.clock import today_in_beijing

    return today or today_in_beijing()
