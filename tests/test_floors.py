"""The floors hold: import-linter's contracts (.importlinter) pass on the tree, and fail when a wrong arrow is planted
— so a capability importing an adapter, or the CLI importing Dagster, fails CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` in `root`, finding the `govhub` package there (not the installed one)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT)], cwd=root, env=env, capture_output=True, text=True, timeout=120)


def copy_of_the_tree(dest: Path) -> Path:
    """The package as grimp sees it (symlinked floors resolved into real folders) and the contracts."""
    shutil.copytree(
        REPO / "govhub", dest / "govhub", symlinks=False, ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copyfile(REPO / ".importlinter", dest / ".importlinter")
    return dest


def test_the_contracts_hold_on_the_tree() -> None:
    done = lint(REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout
    # every floor is really in the graph (a floor grimp could not see would hold vacuously)
    assert "Analyzed" in done.stdout and int(done.stdout.split("Analyzed ")[1].split()[0]) > 150


def test_a_capability_importing_an_adapter_is_caught(tmp_path: Path) -> None:
    root = copy_of_the_tree(tmp_path)
    (root / "govhub" / "warehouse" / "planted.py").write_text(
        "from govhub.pipelines.assets import asset_key  # a capability reaching up to Dagster's adapter\n"
    )
    done = lint(root)
    assert done.returncode != 0
    assert "govhub.warehouse.planted -> govhub.pipelines.assets" in done.stdout
    assert "BROKEN" in done.stdout


def test_the_cli_importing_dagster_is_caught(tmp_path: Path) -> None:
    root = copy_of_the_tree(tmp_path)
    (root / "govhub" / "cli" / "planted.py").write_text(
        "import dagster  # would cost every command a second\n"
    )
    done = lint(root)
    assert done.returncode != 0 and "govhub.cli is not allowed to import dagster" in done.stdout


def test_every_module_and_floor_of_govhub_is_in_the_layers_contract() -> None:
    """A new core module or floor outside the contract would be checked by nothing."""
    contract = (REPO / ".importlinter").read_text(encoding="utf-8")
    layers = contract.split("layers =")[1].split("[importlinter")[0]
    named = {
        part.strip()
        for line in layers.splitlines()
        for part in line.replace("|", ":").split(":")
        if part.strip()
    }
    present = {f"govhub.{p.stem}" for p in (REPO / "govhub").glob("*.py") if p.stem != "__init__"}
    present |= {
        f"govhub.{p.name}" for p in (REPO / "govhub").iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    assert present - named == set()
