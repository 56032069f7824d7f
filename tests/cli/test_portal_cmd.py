"""`govhub portal` serves the portal on the hub it is given; `govhub people password` sets the password it checks."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.commands import GOVHUB
from tests.conftest import fast_catalog
from tests.portal.conftest import OFFICE, build_hub, free_port


def wait_until_listening(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "the portal exited"
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


def test_govhub_portal_serves_the_hub_and_people_password_sets_what_it_checks(
    tmp_path: Path, demo_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = fast_catalog(tmp_path / "catalog")
    build_hub(tmp_path / "home", demo_source, catalog)
    base = [str(GOVHUB), "--home", str(tmp_path / "home"), "--catalog", str(catalog)]
    for name in ("GOVHUB_HOME", "GOVHUB_CATALOG", "GOVHUB_STATE_URL"):
        monkeypatch.delenv(name, raising=False)
    done = subprocess.run([*base, "people", "password", OFFICE, "--by", OFFICE, "--stdin"],
                          input="Neues-Passwort-2026\n", capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "已设置门户密码" in done.stdout
    weak = subprocess.run([*base, "people", "password", OFFICE, "--by", OFFICE, "--stdin"],
                          input="short\n", capture_output=True, text=True, timeout=120)  # fmt: skip
    assert weak.returncode == 1 and "至少10个字符" in weak.stderr and "Traceback" not in weak.stderr

    port = free_port()
    proc = subprocess.Popen([*base, "portal", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ})  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(f"{url}/signin", proc)
        with httpx.Client(base_url=url) as c:
            assert "登录" in c.get("/signin").text
            token = c.cookies["govhub_csrf"]
            r = c.post(
                "/signin", data={"login": OFFICE, "password": "Neues-Passwort-2026", "_csrf_token": token}
            )
            assert r.status_code == 303
            assert "全区报送概况" in c.get("/").text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_govhub_portal_workers_share_sessions_through_the_store(
    tmp_path: Path, demo_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--workers 2`: two processes; a session begun on one is honoured by either (each request on a new connection,
    so the kernel spreads them over both), and signing out ends it for both."""
    catalog = fast_catalog(tmp_path / "catalog")
    build_hub(tmp_path / "home", demo_source, catalog)
    for name in ("GOVHUB_HOME", "GOVHUB_CATALOG", "GOVHUB_STATE_URL"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    proc = subprocess.Popen([str(GOVHUB), "--home", str(tmp_path / "home"), "--catalog", str(catalog), "portal",
                             "--port", str(port), "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ}, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(f"{url}/signin", proc)
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) >= 2, children  # uvicorn's two worker processes
        with httpx.Client(base_url=url) as c:
            c.get("/signin")
            r = c.post("/signin", data={"login": OFFICE, "password": "Songjiang-2016!", "_csrf_token": c.cookies["govhub_csrf"]})  # fmt: skip
            assert r.status_code == 303
            cookies = dict(c.cookies)
        for _ in range(12):
            fresh = httpx.get(f"{url}/", cookies=cookies, headers={"connection": "close"})
            assert fresh.status_code == 200 and "全区报送概况" in fresh.text
        with httpx.Client(base_url=url, cookies=cookies) as c:
            assert c.post("/signout", data={"_csrf_token": cookies["govhub_csrf"]}).status_code == 303
        for _ in range(6):
            assert httpx.get(f"{url}/", cookies=cookies, headers={"connection": "close"}).status_code == 302
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
