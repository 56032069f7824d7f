"""Grants (§12): who may see them, and revoking one — the provider's steward or reviewer, or the office."""

from __future__ import annotations

import datetime as dt

from govhub.access import Action, authorize
from govhub.config import Settings
from govhub.governance.grants import Grant, get_grant, list_grants, revoke_grant
from govhub.governance.sharing import said
from govhub.governance.sharing_measures import GrantUse, grant_uses
from govhub.roles import Role
from govhub.services.requests import authorize_party
from govhub.services.workspaces import drop_api_copies


def visible_grants(settings: Settings, *, actor: str, agency: str | None = None,
                   live_on: dt.date | None = None) -> list[Grant]:  # fmt: skip
    """The grants `actor` may see: where their agency is consumer or provider (all of them for the office)."""
    who = authorize(settings, actor, Action.VIEW_SHARING, agency)
    mine = who.person.agency if who.person and not who.has(Role.OFFICE) else None
    return list_grants(settings, agency=mine or agency, live_on=live_on)


def show_grant(settings: Settings, grant_id: str, *, actor: str) -> Grant:
    grant = get_grant(settings, grant_id)
    authorize_party(settings, actor, grant.consumer, grant.provider)
    return grant


def used(settings: Settings, grants: list[Grant], *, actor: str) -> dict[str, GrantUse]:
    """How each grant was used — queries, exports, API calls, rows and bytes, when last — for a party to it (§15):
    the grants of the actor's agency (any, for the office); another agency's are refused."""
    who = authorize(settings, actor, Action.VIEW_SHARING)
    mine = who.person.agency if who.person and not who.has(Role.OFFICE) else None
    if mine is not None:
        for g in grants:
            if mine not in (g.consumer, g.provider):
                authorize_party(settings, actor, g.consumer, g.provider)  # refuses, and records it
    return grant_uses(settings, grants)


def revoke(settings: Settings, grant_id: str, *, actor: str, reason: str) -> Grant:
    """Revoke a grant of the actor's agency's resource (or any, for the office); every path stops reading it at
    once — the consumer's workspace is rebuilt without it by the next build (the Dagster asset sees the event)."""
    who = authorize(settings, actor, Action.REVOKE_GRANT, get_grant(settings, grant_id).provider)
    grant = revoke_grant(settings, grant_id, by=who.name, reason=said("撤销理由", reason) or "")
    drop_api_copies(settings, grant.consumer, grant.key)
    return grant
