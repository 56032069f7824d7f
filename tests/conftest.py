"""A demo hub for end-to-end ingestion tests (tests/services/test_ingest.py, tests/cli/): a temporary data folder holding the
demo district's source systems, a copy of the catalog with fast retries, and the demo API on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from govhub.catalog.load import require_catalog
from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings, get_settings

pytest_plugins = [
    "tests.servers",
    "tests.browser",
    "tests.commands",
]  # shared fixtures: settings, pg_settings; browser, offline_page; govhub

REPO_CATALOG = Path(__file__).resolve().parents[1] / "catalog"
DEMO_SCALE = 0.2  # hjrk 600 rows, sbcb/jydj 120: several API pages, fast loads
API_PAGE_SIZE = 100


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test has an id of its own: pytest-xdist (`make test`) sends tests to its workers by id, so of two tests
    sharing one only the first would run — silently."""
    twice = sorted(nodeid for nodeid, n in Counter(i.nodeid for i in items).items() if n > 1)
    if twice:
        raise pytest.UsageError(
            "tests sharing an id (only the first would run in make test): " + ", ".join(twice)
        )


@dataclass
class DemoHub:
    settings: Settings
    catalog: Catalog
    server: object  # govhub.demo.api_server.PagedApiServer

    def resource(self, code: str) -> Resource:
        return self.catalog.resource(code)

    def reload_catalog(self) -> Catalog:
        self.catalog = require_catalog(self.settings.catalog_dir)
        return self.catalog


def deliver(settings: Settings, resource: Resource, upload: Path | None = None, actor: str = "tester",
            via: str = "test"):  # fmt: skip
    """One delivery through the services every entry point calls: the sheet `upload`, else a pull."""
    from govhub.services.pull import pull_resource
    from govhub.services.upload import upload_sheet

    if upload is not None:
        return upload_sheet(settings, resource, upload, actor=actor, via=via)
    return pull_resource(settings, resource, actor=actor, via=via)


def fast_catalog(dest: Path) -> Path:
    """The repo's catalog with API retries and timeouts short enough for tests, and small pages."""
    shutil.copytree(REPO_CATALOG, dest)
    for path in sorted(dest.glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        api = (data.get("delivery") or {}).get("api")
        if api is None:
            continue
        api.update(max_retries=1, timeout_s=1)
        api.setdefault("pagination", {})["page_size"] = API_PAGE_SIZE
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def set_quality(catalog_dir: Path, code: str, **quality: object) -> None:
    """Rewrite one resource's quality policy in a catalog folder (`code` is agency/resource)."""
    path = catalog_dir / f"{code}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["quality"] = {**(data.get("quality") or {}), **quality}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo district generated once: `<dir>/demo/` and `<dir>/secrets.yaml` (copied into each test's hub)."""
    from govhub.demo.generate import generate_district

    home = tmp_path_factory.mktemp("demo-source")
    generate_district(get_settings(home, REPO_CATALOG), require_catalog(REPO_CATALOG), scale=DEMO_SCALE)
    return home


@contextmanager
def _serving_demo_hub(root: Path, demo_source: Path, mp: pytest.MonkeyPatch) -> Iterator[DemoHub]:
    """A fresh hub under `root` with the demo sources, the fast catalog, and the demo API serving them."""
    from govhub.demo import DEMO_API_TOKEN
    from govhub.demo.api_server import PagedApiServer
    from govhub.warehouse.hub import sync_hub

    home = root / "home"
    home.mkdir()
    shutil.copytree(demo_source / "demo", home / "demo")
    shutil.copyfile(demo_source / "secrets.yaml", home / "secrets.yaml")
    catalog_dir = fast_catalog(root / "catalog")
    for name in ("GOVHUB_STATE_URL", "GOVHUB_SECRETS_FILE", "GOVHUB_SECRET_DEMO_API_TOKEN"):
        mp.delenv(name, raising=False)
    mp.setenv("GOVHUB_HOME", str(home))
    mp.setenv("GOVHUB_CATALOG", str(catalog_dir))
    mp.setenv("DAGSTER_HOME", str(home / "dagster"))  # set (not left to the CLI) so it is undone after
    catalog = require_catalog(catalog_dir)
    with PagedApiServer(token=DEMO_API_TOKEN) as server:
        server.serve_directory(home / "demo" / "api")
        mp.setenv("GOVHUB_DEMO_API", server.url)  # for what the tests start themselves (the CLI)
        settings = get_settings(home, catalog_dir)
        sync_hub(settings, catalog)
        yield DemoHub(settings, catalog, server)


@pytest.fixture
def demo_hub(tmp_path: Path, demo_source: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoHub]:
    """A fresh hub in tmp_path with the demo sources, the fast catalog, and the demo API serving them."""
    with _serving_demo_hub(tmp_path, demo_source, monkeypatch) as hub:
        yield hub


def ingest_demo(hub: DemoHub) -> None:
    """Load every resource of the demo district once: pulls for API/database feeds, the clean sheet for the others."""
    import json

    from govhub.catalog.model import DeliveryMethod

    manifest = json.loads((hub.settings.demo_dir / "manifest.json").read_text(encoding="utf-8"))
    for resource in hub.catalog.resources:
        upload = None
        if resource.delivery.method is DeliveryMethod.SHEET:
            upload = hub.settings.demo_dir / manifest["resources"][f"{resource.agency}/{resource.id}"]["path"]
        outcome = deliver(hub.settings, resource, upload)
        assert outcome.status == "published", (resource.code, outcome.status, outcome.problems)


@pytest.fixture(scope="module")
def ingested_hub(tmp_path_factory: pytest.TempPathFactory, demo_source: Path) -> Iterator[DemoHub]:
    """The demo district with every resource published, built once per module (≈4 s at the test scale) for tests
    that read a whole hub (Data Docs, the reports site); its tests share it, so each says what it changes."""
    with (
        pytest.MonkeyPatch.context() as mp,
        _serving_demo_hub(tmp_path_factory.mktemp("hub"), demo_source, mp) as hub,
    ):
        ingest_demo(hub)
        yield hub
