"""Bring resources up to date now: pull the interface-fed ones, load what waits in the sheet-fed ones' inboxes.

What `govhub ingest`, `govhub demo` and the Dagster assets run, one resource after another; every load goes through
`upload_sheet` or `pull_resource` (authorization, events, ledger), so all entry points behave alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from govhub.catalog.model import DeliveryMethod, Resource
from govhub.config import Settings
from govhub.problems import AccessDenied
from govhub.services.loads import nothing_to_load, refused
from govhub.services.pull import pull_resource
from govhub.services.upload import deliver_inbox
from govhub.warehouse.load import LoadOutcome


def refresh(settings: Settings, resource: Resource, *, actor: str, via: str = "cli") -> list[LoadOutcome]:
    """One resource: a pull by `actor`, or every file in its inbox (each by the person who dropped it there)."""
    if resource.delivery.method is DeliveryMethod.SHEET:
        return [o for _, o in deliver_inbox(settings, resource, via=via)] or [nothing_to_load(resource)]
    return [pull_resource(settings, resource, actor=actor, via=via)]


def ingest(
    settings: Settings,
    resources: Iterable[Resource],
    *,
    actor: str,
    via: str = "cli",
    on_done: Callable[[Resource, list[LoadOutcome]], None] | None = None,
) -> list[LoadOutcome]:
    """`refresh` every resource in turn; a refused pull (AccessDenied) becomes that resource's outcome."""
    outcomes: list[LoadOutcome] = []
    for resource in resources:
        try:
            done = refresh(settings, resource, actor=actor, via=via)
        except AccessDenied as exc:
            done = [refused(resource, exc.problems)]
        outcomes += done
        if on_done is not None:
            on_done(resource, done)
    return outcomes
