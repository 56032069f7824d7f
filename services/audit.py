"""Pruning the audit log past its retention (网络安全法 Art. 21: at least six months), by the office.

What the log says of each grant's use is folded into `grant_use` first (`sharing_measures.fold_grant_uses`): the
sharing pages and `govhub grant show` keep telling how a grant was used after the events themselves are gone.
"""

from __future__ import annotations

import datetime as dt

from govhub.access import Action, authorize
from govhub.config import Settings
from govhub.events import Pruned, prune_events
from govhub.governance.sharing_measures import fold_grant_uses


def prune(settings: Settings, *, before: dt.datetime, actor: str, now: dt.datetime | None = None) -> Pruned:
    who = authorize(settings, actor, Action.PRUNE_AUDIT)
    fold_grant_uses(settings)
    return prune_events(settings, before=before, actor=who.name, now=now)
