"""A real browser for tests of web pages: Debian's Chromium driven by Playwright (`make test` installs it).

`offline_page` opens pages with every request that leaves the machine refused and recorded, as on a government
network without internet. A missing Chromium FAILS the test with what to do; it never skips.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path(__file__).parent / "screenshots"  # git-ignored: look at them after a run


def chromium_path() -> str | None:
    return os.environ.get("GOVHUB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(
    scope="module"
)  # not longer: Playwright's event loop must not outlive its tests (Dagster's runs
def browser() -> Iterator[Any]:  # later in the session would find it and warn)
    path = chromium_path()
    if path is None:
        pytest.fail(
            "Chromium is not installed: run `make test` (it installs Debian's chromium) or apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def offline_page(browser: Any) -> Iterator[Any]:
    """A page whose requests to anything but file:// and 127.0.0.1 are refused; `page.refused` lists them."""
    context = browser.new_context()
    page = context.new_page()
    page.refused = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "http://127.0.0.1", "http://localhost")):
            r.continue_()
        else:
            page.refused.append(url)
            r.abort("internetdisconnected")

    page.route("**/*", route)
    yield page
    context.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save what the page shows as tests/screenshots/<name>.png (to be looked at: Chinese must be legible)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
