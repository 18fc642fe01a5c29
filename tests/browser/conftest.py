"""Playwright against Debian's chromium (never a downloaded browser).

CI installs /usr/bin/chromium (apt-get install chromium fonts-noto-cjk); on a
machine without it the browser tests skip and say why.
"""

import os
from pathlib import Path

import pytest

from ..conftest import BROWSER

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Playwright's sync API keeps an asyncio loop running in the main thread from
# its first use to the end of the session, and Django refuses ORM calls while a
# loop runs, in these tests and in every test after them. The tests (and the
# database flushes between them) are plain synchronous code, so the guard is a
# false alarm; it has to be off for the whole session, not per test.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if Path(BROWSER).exists():
        return
    skip = pytest.mark.skip(reason=f"no chromium at {BROWSER}: apt-get install -y chromium fonts-noto-cjk")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": BROWSER,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


@pytest.fixture
def screenshot_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def open_page(new_context, live_server):
    """A fresh browser tab (its own cookies) at a given size that records CSP violations."""

    def make(viewport, *, phone=False):
        context = new_context(
            viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1,
            locale="zh-CN",
        )
        page = context.new_page()
        page.csp_violations = []
        page.on(
            "console",
            lambda msg: page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        page.base = live_server.url
        return page

    return make
