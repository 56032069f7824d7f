"""Deliver a fill-in sheet (§11 平台填报): from the CLI, the portal, the inbox or a Dagster launch alike.

`upload_sheet` authorizes the person (a steward of the resource's agency, or the office), lands the file as received,
loads it (write → audit → publish), and returns the typed outcome; it never raises for a bad file — a refusal is an
outcome with Chinese problems (row, column) and the agency's workbook marked. `deliver_inbox` does the same for every
file waiting in a resource's inbox, attributed to the person whose folder it was dropped in.
"""

from __future__ import annotations

from pathlib import Path

from govhub.access import UNATTRIBUTED, Action, authorize
from govhub.catalog.model import DeliveryMethod, Resource
from govhub.config import Settings
from govhub.problems import AccessDenied, GovhubError, Problem
from govhub.services.inbox import move_aside, pending_uploads
from govhub.services.loads import after_load, previous_rows, reconcile, refused
from govhub.services.templates import SheetOrigin, identify_sheet
from govhub.warehouse.load import LoadOutcome


def upload_sheet(
    settings: Settings,
    resource: Resource,
    path: Path,
    *,
    actor: str,
    via: str = "cli",
    origin: SheetOrigin | None = None,
) -> LoadOutcome:
    """Authorize, land and load one sheet; raises `AccessDenied` (recorded) when `actor` may not deliver it.

    `origin` is what `services.templates.identify_sheet` found (looked up here when not given): the template version
    the sheet was made from decides what an outdated template is told, and that it is not catalog drift."""
    if resource.delivery.method is not DeliveryMethod.SHEET:
        raise GovhubError(
            Problem(
                "sheet.wrong_type",
                f"「{resource.name}」通过{resource.delivery.method.label}汇聚，不接受填报文件",
            )
        )
    who = authorize(settings, actor, Action.UPLOAD, resource.agency)
    from govhub.warehouse.sheet_guard import start_reader

    start_reader(path.name)  # the workbook reader's process starts while the file is identified and landed
    if origin is None or origin.resource.code != resource.code:
        origin = identify_sheet(settings, None, path, resource=resource)
    return _load_file(settings, resource, path, actor=who.name, via=via, origin=origin)


def _load_file(
    settings: Settings, resource: Resource, path: Path, *, actor: str, via: str, origin: SheetOrigin
) -> LoadOutcome:
    from govhub.expectations.validate import audit_key, validate_load
    from govhub.warehouse.landing import Landing
    from govhub.warehouse.load import record_refusal, run_load, zero_update_if_same_file

    reconcile(settings, resource)  # a publish a killed process left unrecorded: recorded before this upload
    before = previous_rows(settings, resource)
    landing = Landing(settings)
    receipt = landing.land_file(resource, path, received_by=actor, source=f"{via}:{path.name}")
    key = audit_key(resource)
    # the very file the current snapshot was built from: a zero update without parsing it again
    outcome = zero_update_if_same_file(settings, resource, receipt, audit_key=key, actor=actor, trigger=via)
    if outcome is None:
        try:
            from govhub.warehouse.sheet_guard import read_sheet_bounded

            extract = read_sheet_bounded(settings, resource, landing.open_blob(receipt), filename=path.name,
                                         template=origin.template, sha256=receipt.sha256)  # fmt: skip
            outcome = run_load(settings, resource, extract, receipt=receipt, validate=validate_load, audit_key=key,
                               actor=actor, trigger=via)  # fmt: skip
        except GovhubError as exc:  # the file could not be read: the agency's to fix
            outcome = record_refusal(
                settings, resource, exc.problems, actor=actor, trigger=via, receipt=receipt
            )
    return after_load(settings, resource, outcome, actor=actor, previous_rows=before, upload=path,
                      receipt=receipt, from_template=origin.from_template)  # fmt: skip


def deliver_inbox(
    settings: Settings, resource: Resource, *, via: str = "inbox", only: Path | None = None
) -> list[tuple[Path, LoadOutcome]]:
    """Load every file waiting in `resource`'s inbox (or just `only`), each as the person whose folder it is in;
    (file, outcome) per file, oldest first.

    A file from someone who may not deliver it is refused — `access.denied` in the event log, the file moved to
    `refused/` with the reason — and loading goes on with the next file."""
    outcomes: list[tuple[Path, LoadOutcome]] = []
    for item in pending_uploads(settings, resource):
        if only is not None and item.path != only:
            continue
        try:
            outcome = upload_sheet(settings, resource, item.path, actor=item.person or UNATTRIBUTED, via=via)
        except AccessDenied as exc:
            move_aside(settings, resource, item.path, refused_because="；".join(str(p) for p in exc.problems))
            outcomes.append((item.path, refused(resource, exc.problems)))
            continue
        move_aside(settings, resource, item.path)
        outcomes.append((item.path, outcome))
    return outcomes
