"""Shared fixtures for the Dagster layer: a hub in tmp_path, the demo district generated into it, its API served.

Every test here drives Dagster itself (sensor contexts, real runs, the CLI, `dagster dev`) against a real data folder.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govhub import store
from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings, get_settings

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A fresh hub: GOVHUB_HOME is tmp_path, the catalog is the repo's demo district."""
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    monkeypatch.setenv("GOVHUB_CATALOG", str(CATALOG_DIR))
    for name in ("GOVHUB_STATE_URL", "GOVHUB_ALERT_WEBHOOK", "GOVHUB_SECRETS_FILE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    # a hub's data folder, as `govhub init` leaves it (the CLI checks)
    (tmp_path / "state").mkdir(exist_ok=True)
    yield get_settings()
    store.dispose_engines()


@pytest.fixture
def catalog(settings: Settings) -> Catalog:
    from govhub.catalog.load import require_catalog

    return require_catalog(settings.catalog_dir)


@pytest.fixture(scope="session")
def generated_district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The demo district generated once per session (≈2 s); tests get their own copy in their hub."""
    from govhub.catalog.load import require_catalog
    from govhub.demo.generate import generate_district

    home = tmp_path_factory.mktemp("district")
    settings = get_settings(home, CATALOG_DIR)
    return home, generate_district(settings, require_catalog(CATALOG_DIR)).to_dict()


@pytest.fixture
def demo(settings: Settings, generated_district: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    """The demo district's source systems under `<home>/demo` (as `generate_district` writes them, secrets file
    included); the manifest as plain data with absolute paths into this hub."""
    origin, manifest = generated_district
    shutil.copytree(origin / "demo", settings.demo_dir)
    shutil.copyfile(origin / "secrets.yaml", settings.secrets_file)
    text = json.dumps(manifest).replace(
        json.dumps(str(origin / "demo"))[1:-1], json.dumps(str(settings.demo_dir))[1:-1]
    )
    return json.loads(text)


@pytest.fixture
def demo_api(settings: Settings, demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The API-fed agencies' paged interface on 127.0.0.1, exported as GOVHUB_DEMO_API (the catalog's URLs use it)."""
    from govhub.demo import DEMO_API_TOKEN
    from govhub.demo.api_server import PagedApiServer

    server = PagedApiServer(token=DEMO_API_TOKEN)
    server.serve_directory(settings.demo_dir / "api")
    server.start()
    monkeypatch.setenv("GOVHUB_DEMO_API", server.url)
    try:
        yield server.url
    finally:
        server.stop()


def sheet_file(demo: dict[str, Any], key: str, suffix: str = ".xlsx") -> Path:
    """The demo's clean fill-in sheet of `agency/resource` in the given format."""
    files = [Path(f) for f in demo["resources"][key]["files"]]
    return next(f for f in files if f.suffix == suffix)


def drop_in_inbox(
    settings: Settings, resource: Resource, source: Path, name: str | None = None, person: str | None = None
) -> Path:
    """Upload a sheet the way a steward does: copy it into `inbox/<agency>/<resource>/<person>/` (no person: straight
    into the resource's folder, which an open hub — nobody registered — accepts)."""
    from govhub.services.inbox import inbox_dir

    folder = inbox_dir(settings, resource) / (person or "")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or source.name)
    shutil.copyfile(source, target)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def upload(settings: Settings):
    """`upload(resource, source, name=None, person=None)`: drop a sheet into the inbox; returns its inbox path."""
    return lambda resource, source, name=None, person=None: drop_in_inbox(
        settings, resource, source, name, person
    )


def hub_resources(settings: Settings) -> dict[str, Any]:
    """The resources a run of the code location gets (the hub it serves)."""
    from govhub.pipelines.definitions import hub_resource

    return {"hub": hub_resource(settings)}


def materialize(settings: Settings, catalog: Catalog, keys: list[str] | None = None, **kwargs: Any):
    """Dagster's own in-process `materialize` of the code location's assets (all resources, or the keys given:
    `agency/resource`, `workspaces/agency`)."""
    import dagster as dg

    from govhub.pipelines.definitions import build_assets
    from govhub.pipelines.workspaces import build_workspace_assets

    selection = [dg.AssetKey(k.split("/")) for k in keys] if keys else build_assets(catalog)
    return dg.materialize([*build_assets(catalog), *build_workspace_assets(catalog)], selection=selection,
                          resources=hub_resources(settings), raise_on_error=False, **kwargs)  # fmt: skip


def run_outcome(result) -> dict[str, Any]:
    """The outcome a run recorded on its asset: the materialization's, else the failure's (a refusal)."""
    for event in result.get_asset_materialization_events():
        return event.step_materialization_data.materialization.metadata["outcome"].data
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.user_failure_data is not None:
            return event.step_failure_data.user_failure_data.metadata["outcome"].data
    raise AssertionError("the run recorded no outcome")
