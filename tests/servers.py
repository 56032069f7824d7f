"""The real database servers tests use (PostgreSQL and MariaDB run on 127.0.0.1 on our machines and CI's).

A test whose server is absent fails, saying which server to start — it is never skipped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govhub import store
from govhub.config import Settings, get_settings

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
_ISOLATE = ("GOVHUB_STATE_URL", "GOVHUB_ALERT_WEBHOOK", "GOVHUB_SECRETS_FILE", "GOVHUB_SECRET_DEMO_API_TOKEN",
            "GOVHUB_STORAGE_URL", "GOVHUB_STORAGE_ENDPOINT", "GOVHUB_CELERY_BROKER")  # fmt: skip
# `make test-scale` sets this: the `settings` of tests marked `scale` then have their workflow store on PostgreSQL
# (a schema of their own) and their snapshots on the local S3 server (a bucket of their own)
SCALE_RUN = os.environ.get("GOVHUB_TEST_SCALE") == "1"


@pytest.fixture
def settings(tmp_path, monkeypatch, request) -> Iterator[Settings]:
    """A fresh, independent hub in tmp_path: embedded SQLite store, no webhook, no secrets from the environment
    (in `make test-scale`, tests marked `scale`: PostgreSQL store and S3 storage instead)."""
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    for name in _ISOLATE:
        monkeypatch.delenv(name, raising=False)
    if SCALE_RUN and request.node.get_closest_marker("scale"):
        _scale_out(tmp_path, monkeypatch, request)
    (tmp_path / "catalog").mkdir(exist_ok=True)
    # a hub's data folder, as `govhub init` leaves it (the CLI checks)
    (tmp_path / "state").mkdir(exist_ok=True)
    yield get_settings(tmp_path, tmp_path / "catalog")
    store.dispose_engines()


def scale_state_url(request: pytest.FixtureRequest) -> str | None:
    """In `make test-scale`, for a test marked `scale`: the URL of a PostgreSQL schema of its own (dropped after the
    test) for its workflow store; None otherwise (the embedded SQLite store). For fixtures that build their
    settings themselves rather than through `settings`."""
    if not (SCALE_RUN and request.node.get_closest_marker("scale")):
        return None
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"govhub_s_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at 127.0.0.1:5432 (start it; user postgres, db test): {exc}"
        )

    def drop() -> None:
        store.dispose_engines()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    request.addfinalizer(drop)
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def store_env(request: pytest.FixtureRequest, home: Path) -> dict[str, str]:
    """The environment for `get_settings(home, …, env=…)` in such a fixture: the scale run's store URL (also set for
    the commands the test runs, with the data folder `govhub init` would leave), or nothing."""
    url = scale_state_url(request)
    if url is None:
        return {}
    request.getfixturevalue("monkeypatch").setenv("GOVHUB_STATE_URL", url)
    (home / "state").mkdir(parents=True, exist_ok=True)
    return {"GOVHUB_STATE_URL": url}


def _scale_out(tmp_path, monkeypatch, request) -> None:
    """The store in a PostgreSQL schema of the test's own (dropped after), the hub's objects in a fresh bucket."""
    import uuid

    import boto3

    monkeypatch.setenv("GOVHUB_STATE_URL", scale_state_url(request))
    endpoint = request.getfixturevalue("moto_s3")
    bucket = f"govhub-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    monkeypatch.setenv("GOVHUB_STORAGE_URL", f"s3://{bucket}/district")
    monkeypatch.setenv("GOVHUB_STORAGE_ENDPOINT", endpoint)
    monkeypatch.setenv("GOVHUB_STORAGE_LOCK_LEASE_S", "5")  # the kill tests' dead holders: taken over soon


@pytest.fixture
def pg_settings(tmp_path, monkeypatch) -> Iterator[Settings]:
    """A hub whose workflow store is a fresh PostgreSQL schema (via search_path), dropped afterwards."""
    from sqlalchemy import create_engine, text

    # unique per process as well as per test: several test runs may share the server
    schema = f"govhub_t_{os.getpid()}_{tmp_path.name.lower().replace('-', '_')[-40:]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except Exception as exc:  # the server is part of the test environment: say which one is missing
        pytest.fail(
            f"PostgreSQL is not reachable at 127.0.0.1:5432 (start it; user postgres, db test): {exc}"
        )
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    monkeypatch.setenv("GOVHUB_STATE_URL", f"{PG_URL}?options=-csearch_path%3D{schema}")
    monkeypatch.delenv("GOVHUB_ALERT_WEBHOOK", raising=False)
    (tmp_path / "catalog").mkdir(exist_ok=True)
    # a hub's data folder, as `govhub init` leaves it (the CLI checks)
    (tmp_path / "state").mkdir(exist_ok=True)
    yield get_settings(tmp_path, tmp_path / "catalog")
    store.dispose_engines()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


class TcpProxy:
    """A TCP forwarder between govhub and a server (127.0.0.1:<port> → upstream) that a test can cut and restore —
    a database server stopped and started again mid-operation, without touching the shared server itself.

    `cut()` closes every open connection (both sides see a reset) and refuses new ones; `restore()` accepts again.
    `response_delay_s`: the server's answer to each request waits that long (a slow server, not a dead one)."""

    def __init__(self, upstream: tuple[str, int], response_delay_s: float = 0.0):
        self.response_delay_s = response_delay_s
        import socket
        import threading

        self.upstream = upstream
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.restore()

    def restore(self) -> None:
        import socket
        import threading

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        import socket

        with self._lock:
            listener, self._listener = self._listener, None
            open_, self._sockets = self._sockets, []
        for s in ([listener] if listener is not None else []) + open_:
            with contextlib.suppress(OSError):  # shutdown wakes the thread blocked in accept() or recv()
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener) -> None:  # type: ignore[no-untyped-def]
        import socket
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            asked = threading.Event()  # the client sent something the server has not begun to answer
            for a, b, delay in ((client, server, 0.0), (server, client, self.response_delay_s)):
                threading.Thread(target=self._pump, args=(a, b, delay, asked), daemon=True).start()

    @staticmethod
    def _pump(src, dst, delay: float, asked) -> None:  # type: ignore[no-untyped-def]
        import time

        try:
            while data := src.recv(65536):
                if not delay:
                    asked.set()
                elif asked.is_set():  # the first bytes of an answer wait
                    asked.clear()
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def close(self) -> None:
        self.cut()


@pytest.fixture
def pg_through_proxy(pg_settings: Settings, monkeypatch) -> Iterator[tuple[Settings, TcpProxy]]:
    """`pg_settings` whose store is reached through a `TcpProxy` the test can cut and restore."""
    from dataclasses import replace

    proxy = TcpProxy(("127.0.0.1", 5432))
    url = pg_settings.state_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    monkeypatch.setenv("GOVHUB_STATE_URL", url)
    try:
        yield replace(pg_settings, state_url=url), proxy
    finally:
        proxy.close()
        store.dispose_engines()


_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@contextlib.contextmanager
def moto_server(log: Any) -> Iterator[str]:
    """moto's standalone S3 server on a free port of 127.0.0.1, its output to `log`, until the block ends: its
    endpoint URL. Raises RuntimeError when it does not start (is moto[server] installed?)."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"moto's S3 server did not start on 127.0.0.1:{port} (is moto[server] installed?)"
                    ) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory) -> Iterator[str]:
    """moto's standalone S3 server on 127.0.0.1 (started here, stopped after the session): its endpoint URL.
    Credentials are moto's dummies, set in this process's environment (children inherit them)."""
    saved = {k: os.environ.get(k) for k in _AWS}
    os.environ.update(_AWS)
    try:
        with open(tmp_path_factory.mktemp("moto") / "moto.log", "w") as log, moto_server(log) as endpoint:
            yield endpoint
    except RuntimeError as exc:
        pytest.fail(str(exc))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def s3_settings(tmp_path, monkeypatch, moto_s3) -> Iterator[Settings]:
    """A hub in tmp_path whose snapshots are also published to a fresh bucket on the local S3 server."""
    import uuid

    import boto3

    bucket = f"govhub-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1").create_bucket(Bucket=bucket)
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    for name in _ISOLATE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVHUB_STORAGE_URL", f"s3://{bucket}/district")
    monkeypatch.setenv("GOVHUB_STORAGE_ENDPOINT", moto_s3)
    (tmp_path / "catalog").mkdir(exist_ok=True)
    # a hub's data folder, as `govhub init` leaves it (the CLI checks)
    (tmp_path / "state").mkdir(exist_ok=True)
    yield get_settings(tmp_path, tmp_path / "catalog")
    store.dispose_engines()
