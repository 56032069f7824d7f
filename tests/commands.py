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


def run_here(capsys: pytest.CaptureFixture[str], *args: object) -> Run:
    """`govhub args` in this process, argparse's usage errors (SystemExit 2) coming back as a Run too."""
    from govhub.cli.main import main

    capsys.readouterr()  # drop what earlier steps printed
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


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


def kill_command_at(point: str, *args: str, marker_dir: Path, timeout: float = 120) -> None:
    """Start the installed `govhub` with `args`, wait until it reaches `warehouse.meta.pause_point(point)`, SIGKILL it
    (no cleanup code runs), and check that it was killed there."""
    import signal
    import time

    marker = marker_dir / f"paused-{point}"
    marker.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [str(GOVHUB), *[str(a) for a in args]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GOVHUB_TEST_PAUSE_AT": point, "GOVHUB_TEST_PAUSE_MARKER": str(marker)},
    )
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"govhub ended before {point}: {proc.stdout.read()} {proc.stderr.read()}")
        assert time.monotonic() < deadline, f"govhub never reached {point}"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
