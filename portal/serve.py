"""The portal as uvicorn starts it: `govhub portal` names `app_from_environment` (a factory), so the portal's edge
reads the hub's settings once, here, like the CLI's `main` and Dagster's code location do."""

from __future__ import annotations

import os

from litestar import Litestar

SECURE_COOKIES = "GOVHUB_PORTAL_SECURE_COOKIES"  # "1" when people reach the portal over https


def app_from_environment() -> Litestar:
    from govhub.config import get_settings
    from govhub.portal.app import create_app
    from govhub.portal.config import PortalConfig

    return create_app(get_settings(), PortalConfig(secure_cookies=os.environ.get(SECURE_COOKIES) == "1"))
