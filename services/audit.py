"""Pruning the audit log past its retention (网络安全法 Art. 21: at least six months), by the office.

What the log says of each grant's use is folded into `grant_use` first, in the prune's own transaction
(`sharing_measures.fold_before_prune`): the sharing pages and `govhub grant show` keep telling how a grant was used
after the events themselves are gone.
"""

from __future__ import annotations

import datetime as dt

from govhub.access import Action, authorize
from govhub.config import Settings
from govhub.events import Pruned, prune_events
from govhub.governance.sharing_measures import fold_before_prune


def prune(settings: Settings, *, before: dt.datetime, actor: str, now: dt.datetime | None = None) -> Pruned:
    who = authorize(settings, actor, Action.PRUNE_AUDIT)
    return prune_events(settings, before=before, actor=who.name, now=now, before_removing=fold_before_prune)
