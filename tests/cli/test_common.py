"""Every sub-command tells the user what is wrong with the catalog or the resource named, never with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from govhub.cli.main import main

REPO_CATALOG = Path(__file__).resolve().parents[2] / "catalog"


@pytest.mark.parametrize(
    "argv",
    [
        ["quality", "suites"],
        ["status"],
        ["template", "x", "-o", "x.xlsx"],
        ["zero-update", "x", "--by", "王敏"],
    ],
    ids=["quality", "status", "template", "zero-update"],
)
def test_an_invalid_catalog_is_reported_not_raised(tmp_path, monkeypatch, capsys, argv) -> None:
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "state").mkdir(parents=True)  # a hub's data folder
    (tmp_path / "catalog").mkdir()  # no agencies.yaml
    assert main(["--catalog", str(tmp_path / "catalog"), *argv]) == 1
    err = capsys.readouterr().err
    assert "目录有误" in err and "agencies.yaml" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "code"),
    [(["catalog", "show", "nosuch"], 2), (["quality", "docs", "--resource", "nosuch"], 2)],
    ids=["catalog-show", "quality-docs"],
)
def test_an_unknown_resource_is_named_with_a_hint(tmp_path, monkeypatch, capsys, argv, code) -> None:
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    (tmp_path / "state").mkdir()  # a hub's data folder
    assert main(["--catalog", str(REPO_CATALOG), *argv]) == code
    assert "目录中没有资源「nosuch」（可用 govhub catalog list 查看）" in capsys.readouterr().err
