"""A resource's delivery history (§11): every upload and pull that reached the load, newest first, with what each
left behind — so a steward who closed the page after a refusal can still fetch its problem list and marked workbook.

Read from the event log (one `load.*` event per delivery, indexed by subject) and, for the file's own name, the
load's record; the report folder says which downloads exist. An empty inbox ("无待处理上传") delivered nothing and
is not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from govhub.access import Action, authorize
from govhub.catalog.model import Resource
from govhub.config import Settings
from govhub.events import list_events
from govhub.services.loads import ANNOTATED_NAME
from govhub.states import LoadStatus

DELIVERED = [f"load.{s.value}" for s in LoadStatus if s is not LoadStatus.NO_UPLOAD]


@dataclass(frozen=True)
class Delivery:
    event_id: int  # its place in the event log (pages go back from the last one shown)
    load_id: str
    at: str  # when it ended (UTC, as the event log keeps it)
    status: LoadStatus
    by: str  # the person (or system) who delivered
    source: str  # the file's name as uploaded, or what was pulled ("—" when the load's record is gone)
    rows: int
    inserted: int
    updated: int
    deleted: int
    quarantined: int
    problem_count: int
    has_problems: bool  # a problem list can be downloaded
    has_annotated: bool  # a marked copy of the agency's workbook can be downloaded


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]  # newest first
    older: int | None  # `before` for the next page back; None: this page reaches the first delivery


def deliveries(
    settings: Settings, resource: Resource, *, actor: str, limit: int = 20, before: int | None = None
) -> DeliveryPage:
    """`limit` deliveries of `resource`, newest first — the last ones, or those before the event `before` — for
    whoever may deliver it (its agency's stewards, the office)."""
    authorize(settings, actor, Action.UPLOAD, resource.agency)
    from govhub.warehouse.reports import report_dir

    agency, rid = resource.key
    events = list_events(settings, kinds=DELIVERED, subject=f"{agency}/{rid}", newest_first=True,
                         limit=limit + 1, before_id=before)  # fmt: skip
    more = len(events) > limit
    events = events[:limit]
    out = []
    for e in events:
        p = e.payload
        load_id = str(p.get("load_id") or "")
        folder = report_dir(settings, resource, load_id) if load_id else None
        out.append(
            Delivery(
                event_id=e.id,
                load_id=load_id,
                at=e.at,
                status=LoadStatus(e.kind.removeprefix("load.")),
                by=e.actor,
                source=_source(settings, load_id) or "—",
                rows=int(p.get("rows") or 0),
                inserted=int(p.get("inserted") or 0),
                updated=int(p.get("updated") or 0),
                deleted=int(p.get("deleted") or 0),
                quarantined=int(p.get("quarantined") or 0),
                problem_count=int(p.get("problem_count") or 0),
                has_problems=folder is not None and (folder / "problems.json").is_file(),
                has_annotated=folder is not None and any(folder.glob(f"*{ANNOTATED_NAME}")),
            )
        )
    return DeliveryPage(out, older=out[-1].event_id if more else None)


def _source(settings: Settings, load_id: str) -> str | None:
    """The delivered file's name (or the pulled source) from the load's record, when it is there."""
    import json

    from govhub.connectors.headers import shown
    from govhub.warehouse.meta import meta_dir

    if not load_id:
        return None
    path: Path = meta_dir(settings, "loads") / f"{load_id}.json"
    try:
        source = json.loads(path.read_text(encoding="utf-8")).get("source")
    except (OSError, ValueError):
        return None
    return shown(str(source)) if source else None  # a name as the agency gave it: escape codes shown as "�"
