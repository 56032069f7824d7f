"""Catalog changes (§10): an agency's steward proposes the new entry of one of its resources; the office approves it
(written to the catalog folder) or returns it with a reason.

A proposal is the resource's whole YAML entry, checked when proposed and again when approved exactly as
`govhub catalog validate` checks the folder (`catalog.load.load_catalog` on a copy of the catalog with the entry
replaced): whatever the validator would say about the new entry refuses it, in its words. An approved change replaces
the resource's file atomically (a temporary file, then `os.replace`), so the portal, the Dagster code location and the
CLI never read half an entry. When the resource had open catalog drift (`governance.drift`) the proposal keeps the
drift's deadline — the §10 2-working-day clock — and pages show it against today.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from govhub import store
from govhub.access import Action, Actor, authorize
from govhub.catalog.load import YAML_ERRORS, CatalogProblem, load_catalog, load_yaml_text, yaml_problem_zh
from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.governance.sharing import LONG_TEXT, said
from govhub.problems import GovhubError, Problem
from govhub.roles import Role
from govhub.states import ChangeState

LOCK = "govhub.catalog_changes"
table = store.catalog_changes
MAX_YAML = 100_000  # characters: a resource entry with hundreds of fields is a few tens of thousands


@dataclass(frozen=True)
class CatalogChange:
    id: str
    agency: str
    resource: str
    yaml_text: str
    note: str
    state: ChangeState
    proposed_by: str
    proposed_by_id: str | None
    proposed_at: str
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    due: dt.date | None  # the §10 drift deadline it answers (None: no open drift when proposed)

    @property
    def key(self) -> str:
        return f"{self.agency}/{self.resource}"

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.update(
            state=self.state.value,
            state_label=self.state.label,
            due=self.due.isoformat() if self.due else None,
        )
        return data


def _change(row: Any) -> CatalogChange:
    m = dict(row._mapping)
    return CatalogChange(**{**m, "state": ChangeState(m["state"])})


def _problem(code: str, message_zh: str, **kw: Any) -> GovhubError:
    return GovhubError(Problem(code, message_zh, **kw))


# ---- where an entry lives, and the validator's word on a new one ------------------------------------------------


def resource_file(settings: Settings, resource: Resource) -> Path:
    """The file holding `resource`'s entry: the one it was read from, else `<catalog>/<agency>/<id>.yaml`."""
    root = Path(settings.catalog_dir)
    source = resource.source_file
    if source is not None and Path(source).resolve().is_relative_to(root.resolve()):
        return root / Path(source).resolve().relative_to(root.resolve())
    return root / resource.agency / f"{resource.id}.yaml"


def current_yaml(settings: Settings, resource: Resource) -> str:
    """The entry's text as it stands in the catalog folder ("" if its file cannot be read)."""
    try:
        return resource_file(settings, resource).read_text(encoding="utf-8")
    except OSError:
        return ""


def diff_to_current(settings: Settings, catalog: Catalog, change: CatalogChange) -> list[str]:
    """The change as a unified diff against the entry in force (all of it new when the resource is no longer in the
    catalog, or its entry is invalid now): what the office's queue and `catalog change show --diff` show."""
    import difflib

    try:
        current = current_yaml(settings, catalog.resource(change.key))
    except KeyError:
        current = ""
    return list(difflib.unified_diff(current.splitlines(), change.yaml_text.splitlines(), "现行目录", "提出的变更",
                                     lineterm=""))  # fmt: skip


def _catalog_problem(p: CatalogProblem) -> Problem:
    return Problem("catalog_change.invalid", str(p), column=p.element, value=p.file)


def check_entry(settings: Settings, resource: Resource, yaml_text: str) -> Resource:
    """The proposed entry as the catalog would read it, or `GovhubError` with every problem `govhub catalog validate`
    would report about it (problems the catalog already had elsewhere are not the proposal's)."""
    if not yaml_text.strip():
        raise _problem("catalog_change.incomplete", "请填写资源的完整目录条目（YAML）", expected="YAML")
    if len(yaml_text) > MAX_YAML:
        raise _problem("catalog_change.invalid", f"目录条目不能超过 {MAX_YAML} 个字（现为 {len(yaml_text)} 个字）",
                       expected=f"不超过 {MAX_YAML} 个字")  # fmt: skip
    try:
        data = load_yaml_text(yaml_text)
    except YAML_ERRORS as exc:
        raise _problem("catalog_change.invalid", f"不是有效的 YAML：{yaml_problem_zh(exc)}") from None
    if not isinstance(data, dict):
        raise _problem("catalog_change.invalid", "目录条目的内容应为目录元素的映射（键: 值）")
    for key, label, own in (("id", "资源标识", resource.id), ("agency", "所属机构", resource.agency)):
        if str(data.get(key)) != own:
            raise _problem("catalog_change.wrong_resource", f"变更后的{label}（{key}）为“{data.get(key)}”，"
                           f"应仍为“{own}”：目录变更只能修改本资源的条目", value=str(data.get(key)),
                           expected=own)  # fmt: skip
    root = Path(settings.catalog_dir)
    target = resource_file(settings, resource)
    rel = target.relative_to(root).as_posix()
    try:
        unchanged = load_yaml_text(target.read_text(encoding="utf-8")) == data
    except (OSError, *YAML_ERRORS):
        unchanged = False  # the current file is gone or broken: the proposal replaces it
    if unchanged:
        raise _problem("catalog_change.unchanged", "提出的条目与现行目录相同，没有需要审核的变更")
    _, before = load_catalog(root)
    known = {str(p) for p in before if p.file != rel}
    with tempfile.TemporaryDirectory(prefix="govhub-catalog-change-") as tmp:
        copy = Path(tmp)
        for path in [root / "agencies.yaml", *root.glob("*/*.yaml"), *root.glob("*/*.yml")]:
            if path.is_file():
                dest = copy / path.relative_to(root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_text(yaml_text, encoding="utf-8")
        catalog, problems = load_catalog(copy)
        new = [p for p in problems if p.file == rel or str(p) not in known]
        if new:
            raise GovhubError([_catalog_problem(p) for p in new])
        found = next(
            (r for r in catalog.resources if (r.agency, r.id) == (resource.agency, resource.id)), None
        )
    if found is None:  # cannot be: an entry left out of the catalog comes with its problems
        raise _problem("catalog_change.invalid", f"目录条目 {rel} 未能读入资源目录")
    return found


def _due(settings: Settings, resource: Resource) -> dt.date | None:
    """The deadline of the resource's open catalog drift (§10), if any."""
    from govhub.governance.drift import open_flags

    deadlines = [
        f.deadline for f in open_flags(settings) if (f.agency, f.resource) == (resource.agency, resource.id)
    ]
    return min(deadlines) if deadlines else None


def due_text(settings: Settings, change: CatalogChange, today: dt.date) -> str | None:
    """The §10 clock in words: "目录更新期限：YYYY-MM-DD（第N个工作日）", N the working day of the 2-day clock that today
    is, or "…（已逾期N个工作日）" once the deadline has passed; None when no drift deadline applies."""
    from govhub.governance.drift import DRIFT_DAYS
    from govhub.governance.workdays import calendar_for

    if change.due is None:
        return None
    calendar = calendar_for(settings.catalog_dir)
    if today > change.due:
        return f"目录更新期限：{change.due.isoformat()}（已逾期{calendar.working_days_between(change.due, today)}个工作日）"
    started = calendar.add_working_days(change.due, -DRIFT_DAYS)
    day = max(1, calendar.working_days_between(started, today))
    return f"目录更新期限：{change.due.isoformat()}（第{day}个工作日）"


# ---- the moves ---------------------------------------------------------------------------------------------------


def _resource(catalog: Catalog, ref: str) -> Resource:
    try:
        return catalog.resource(ref)
    except KeyError:
        raise _problem("catalog_change.unknown_resource", f"资源目录中没有“{ref}”", value=ref) from None


def _event(settings: Settings, change: CatalogChange, kind: str, by: str, **extra: Any) -> None:
    record_event(settings, kind=kind, actor=by, agency=change.agency, subject=f"{change.agency}/{change.resource}",
                 payload={"change_id": change.id, "resource": change.key, "note": change.note,
                          "due": change.due.isoformat() if change.due else None, **extra})  # fmt: skip


def propose(
    settings: Settings,
    catalog: Catalog,
    resource_key: str,
    *,
    actor: str,
    yaml_text: str,
    note: str,
    today: dt.date | None = None,
) -> CatalogChange:
    """A steward of the resource's agency proposes its new entry: validated now, kept pending for the office."""
    from govhub.clock import today_in_beijing

    resource = _resource(catalog, resource_key)
    who = authorize(settings, actor, Action.PROPOSE_CATALOG_CHANGE, resource.agency)
    note = (said("变更说明", note, LONG_TEXT) or "").strip()
    if not note:
        raise _problem(
            "catalog_change.incomplete", "请写明变更说明（改了什么、为什么改）", expected="变更说明"
        )
    check_entry(settings, resource, yaml_text)
    due = _due(settings, resource)
    now = utc_stamp()
    with store.write_transaction(settings, LOCK) as conn:
        change_id = store.day_numbered_id(conn, table, "CC", today or today_in_beijing())
        conn.execute(table.insert().values(
            id=change_id, agency=resource.agency, resource=resource.id, yaml_text=yaml_text, note=note,
            state=ChangeState.PENDING.value, proposed_by=who.name, proposed_by_id=who.person.id if who.person else None,
            proposed_at=now, decided_by=None, decided_at=None, reason=None, due=due))  # fmt: skip
    change = get_change(settings, change_id)
    _event(settings, change, "catalog.change_proposed", who.name)
    return change


def _found(conn: Any, change_id: str) -> CatalogChange:
    row = conn.execute(select(table).where(table.c.id == change_id)).first()
    if row is None:
        raise _problem("catalog_change.unknown", f"没有编号为“{change_id}”的目录变更", value=change_id)
    return _change(row)


def get_change(settings: Settings, change_id: str) -> CatalogChange:
    with store.read_connection(settings) as conn:
        return _found(conn, change_id)


def show_change(settings: Settings, change_id: str, *, actor: str) -> CatalogChange:
    """One change, for whoever may see its agency's changes: its stewards and the office (as `list_changes`)."""
    change = get_change(settings, change_id)
    authorize(settings, actor, Action.PROPOSE_CATALOG_CHANGE, change.agency)
    return change


def list_changes(
    settings: Settings, *, actor: str, agency: str | None = None, states: list[ChangeState] | None = None
) -> list[CatalogChange]:
    """The changes `actor` may see, newest first: their agency's (a steward), or any agency's (the office)."""
    if agency is None:
        from govhub.people import find_person, list_people

        person = find_person(list_people(settings), actor)
        if person is not None and Role.OFFICE not in person.roles:
            agency = person.agency  # a steward's own agency; the office sees every agency's
    action = Action.PROPOSE_CATALOG_CHANGE if agency else Action.REVIEW_CATALOG_CHANGE
    authorize(settings, actor, action, agency)
    q = select(table).order_by(table.c.proposed_at.desc(), table.c.id.desc())
    if agency:
        q = q.where(table.c.agency == agency)
    if states:
        q = q.where(table.c.state.in_([s.value for s in states]))
    with store.read_connection(settings) as conn:
        return [_change(r) for r in conn.execute(q)]


def _pending(conn: Any, change_id: str, what_zh: str) -> CatalogChange:
    change = _found(conn, change_id)
    if change.state is not ChangeState.PENDING:
        raise _problem("catalog_change.wrong_state", f"目录变更 {change_id} 当前为「{change.state.label}」，不能再{what_zh}",
                       value=change.state.label, expected=ChangeState.PENDING.label)  # fmt: skip
    return change


def _authorize_review(settings: Settings, change_id: str, actor: str) -> tuple[CatalogChange, Actor]:
    change = get_change(settings, change_id)
    return change, authorize(settings, actor, Action.REVIEW_CATALOG_CHANGE, change.agency)


def approve(settings: Settings, change_id: str, *, actor: str) -> CatalogChange:
    """The office approves: the entry is checked again against the catalog as it is now, then written in place of
    the resource's file (atomically); a drift flag it answers closes."""
    from govhub.governance.drift import resolve_updated

    change, who = _authorize_review(settings, change_id, actor)
    root = Path(settings.catalog_dir)
    catalog, _ = load_catalog(root)
    resource = next(
        (r for r in catalog.resources if (r.agency, r.id) == (change.agency, change.resource)), None
    )
    if resource is None:
        raise _problem("catalog_change.unknown_resource", f"资源目录中已没有“{change.key}”（或其条目现有错误）",
                       value=change.key)  # fmt: skip
    now = utc_stamp()
    with store.write_transaction(settings, LOCK) as conn:
        _pending(conn, change_id, "批准")
        check_entry(settings, resource, change.yaml_text)
        _write_atomically(resource_file(settings, resource), change.yaml_text)
        conn.execute(table.update().where(table.c.id == change_id)
                     .values(state=ChangeState.APPROVED.value, decided_by=who.name, decided_at=now))  # fmt: skip
    resolve_updated(settings, load_catalog(root)[0])
    change = get_change(settings, change_id)
    _event(settings, change, "catalog.change_approved", who.name)
    return change


def return_change(settings: Settings, change_id: str, *, actor: str, reason: str) -> CatalogChange:
    """The office returns a change with its reason (required); the catalog stays as it was."""
    change, who = _authorize_review(settings, change_id, actor)
    reason = (said("退回理由", reason) or "").strip()
    if not reason:
        raise _problem("catalog_change.incomplete", "退回目录变更须写明理由", expected="理由")
    now = utc_stamp()
    with store.write_transaction(settings, LOCK) as conn:
        _pending(conn, change_id, "退回")
        conn.execute(table.update().where(table.c.id == change_id).values(
            state=ChangeState.RETURNED.value, decided_by=who.name, decided_at=now, reason=reason))  # fmt: skip
    change = get_change(settings, change_id)
    _event(settings, change, "catalog.change_returned", who.name, reason=reason)
    return change


def _write_atomically(path: Path, text: str) -> None:
    """`text` in place of `path`: written beside it under a name the catalog does not read, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as out:
            out.write(text if text.endswith("\n") else text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
