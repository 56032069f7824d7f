"""Running `govhub` in tests: in-process (the `govhub` fixture: exit code, stdout, stderr) or as the installed command
(`run_command`). Registered for every test in tests/conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

GOVHUB = Path(sys.executable).with_name("govhub")


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def govhub(capsys: pytest.CaptureFixture[str]):
    """`govhub(*args)` runs the command in this process, as `govhub.cli.main.main` would from a shell."""
    from govhub.cli.main import main

    def run(*args: str) -> Run:
        capsys.readouterr()  # drop what earlier steps printed
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def run_command(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
    """The installed `govhub` as a separate process, with this process's environment (GOVHUB_HOME, …) and `env`."""
    assert GOVHUB.is_file(), f"{GOVHUB} is missing: install the project into the venv (pip install -e .)"
    proc = subprocess.run(
        [str(GOVHUB), *[str(a) for a in args]],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
