"""What a portal process is configured with: session lifetimes, limits, cookie security, its clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from govhub.config import Settings
from govhub.portal.api.config import ApiConfig
from govhub.services.accounts import SignInPolicy
from govhub.services.keys import state_secret


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PortalConfig:
    idle_timeout: dt.timedelta = dt.timedelta(minutes=30)  # a session unused this long is gone
    absolute_timeout: dt.timedelta = dt.timedelta(hours=10)  # and none outlives a working day
    max_upload_bytes: int = 50 << 20  # a request body beyond this is refused as it streams in
    sign_in: SignInPolicy = field(default_factory=SignInPolicy)
    sign_in_per_minute: int = 60  # sign-in attempts per client address (on top of the per-account lock-out)
    secure_cookies: bool = False  # True when served over https (cookies then carry Secure)
    # tests move time forward (the docking API's "today" too)
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    api: ApiConfig = field(default_factory=ApiConfig)  # the docking API's rate and query limits

    def now(self) -> dt.datetime:
        return self.clock()


def portal_secret(settings: Settings) -> str:
    """The key that signs CSRF tokens, kept in the hub's state folder so every portal process on this hub (and the
    next one after a restart) accepts the tokens already in people's browsers."""
    return state_secret(settings, "portal.secret")
