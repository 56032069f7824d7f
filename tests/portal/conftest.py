"""The real portal on 127.0.0.1 for tests: a hub with the demo district's people (demo passwords), uvicorn in a
thread serving `create_app`, and a clock the tests move forward (session expiry, lock-out windows)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from govhub import store
from govhub.catalog.load import require_catalog
from govhub.catalog.model import Catalog
from govhub.config import Settings, get_settings
from govhub.demo.people import DEMO_PASSWORD, register_demo_people
from govhub.portal.app import CSRF_COOKIE, create_app
from govhub.portal.config import PortalConfig
from govhub.portal.sessions import SESSION_COOKIE
from tests.conftest import fast_catalog

STEWARD = "wangjingyi"  # 民政局 (mzj) steward
OTHER_STEWARD = "lujianhua"  # 公安局 (gaj) steward
OFFICE = "zhaoqiang"
ENGINEER = "liuyang"
ANALYST = "mzj_fenxi"
GAJ_ANALYST = "gaj_fenxi"  # 公安局 (gaj) analyst: the requester of the sharing tests (mzj provides)
REVIEWER = "rsj_shenhe"
SHEET_RESOURCE = ("mzj", "shjz")  # a sheet-fed resource of the steward's agency


class MovableClock:
    """The portal's clock: real time plus whatever the test added."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, delta: dt.timedelta) -> None:
        self.offset += delta


@dataclass
class Portal:
    url: str
    settings: Settings
    catalog: Catalog
    clock: MovableClock
    config: PortalConfig
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        c = httpx.Client(base_url=self.url, follow_redirects=False, timeout=60)
        self.clients.append(c)
        return c

    def sign_in(self, login: str, password: str = DEMO_PASSWORD, *, agent: str | None = None) -> httpx.Client:
        c = self.client()
        if agent:
            c.headers["user-agent"] = agent
        c.get("/signin")
        r = c.post("/signin", data={"login": login, "password": password, "_csrf_token": csrf(c)})
        assert r.status_code == 303, f"{login} could not sign in: {r.status_code} {r.text[:300]}"
        return c


def csrf(client: httpx.Client) -> str:
    """The CSRF token a page of this client's session carries (the cookie's value; pages render the same)."""
    token = client.cookies.get(CSRF_COOKIE)
    assert token, "no CSRF cookie yet: open a page first"
    return token


def page_token(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found, "page carries no CSRF token"
    return found.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_hub(home: Path, demo_source: Path, catalog_dir: Path) -> tuple[Settings, Catalog]:
    from govhub.warehouse.hub import sync_hub

    home.mkdir(parents=True)
    shutil.copytree(demo_source / "demo", home / "demo")
    settings = get_settings(home, catalog_dir, env={})
    catalog = require_catalog(catalog_dir)
    register_demo_people(settings, catalog)
    sync_hub(settings, catalog)
    return settings, catalog


@dataclass
class Served:
    server: object
    thread: threading.Thread
    url: str


def serve(app: object, *, send_buffer: int | None = None) -> Served:
    """`app` under uvicorn on a free port. `send_buffer`: the kernel's send buffer of each connection, fixed that
    small (Linux otherwise grows it to megabytes), so a response larger than the buffers waits on its reader."""
    import uvicorn

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)  # accepted connections inherit it
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="portal")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the portal did not start"
        time.sleep(0.05)
    return Served(server, thread, f"http://127.0.0.1:{port}")


def stop(served: Served) -> None:
    served.server.should_exit = True  # type: ignore[attr-defined]
    served.thread.join(timeout=30)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, demo_source: Path) -> Iterator[Portal]:
    """One hub and one running portal per test module (signing 22 people in with argon2 is not free)."""
    root = tmp_path_factory.mktemp("portal")
    settings, catalog = build_hub(root / "home", demo_source, fast_catalog(root / "catalog"))
    clock = MovableClock()
    config = PortalConfig(clock=clock)
    served = serve(create_app(settings, config))
    portal = Portal(served.url, settings, catalog, clock, config)
    yield portal
    for c in portal.clients:
        c.close()
    stop(served)
    store.dispose_engines()


__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "Portal", "csrf", "page_token"]
