"""Declare a zero update (零更新, §11): a steward of the resource's agency says nothing changed this period."""

from __future__ import annotations

import datetime as dt

from govhub.access import Action, authorize
from govhub.catalog.model import Resource
from govhub.config import Settings
from govhub.governance.ledger import LedgerEntry
from govhub.governance.zero_update import file_zero_update
from govhub.services.pull import source_changed


def declare_zero_update(
    settings: Settings,
    resource: Resource,
    *,
    actor: str,
    period: str | None = None,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> LedgerEntry:
    """Authorize `actor`, then record the declaration; an interface-fed source whose content changed since the
    current snapshot cannot be zero-updated (checked by a verification pull)."""
    who = authorize(settings, actor, Action.ZERO_UPDATE, resource.agency)
    return file_zero_update(settings, resource, period=period, by=who.name, note=note, at=at,
                            source_changed=lambda r: source_changed(settings, r))  # fmt: skip
