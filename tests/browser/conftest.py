"""Playwright against Debian's chromium (never a downloaded browser).

CI installs /usr/bin/chromium (apt-get install chromium fonts-noto-cjk); on a
machine without it the browser tests skip and say why.
"""

import os
from pathlib import Path

import pytest

from ..conftest import BROWSER

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _serial_live_server_on_sqlite():
    """On SQLite the live server's threads share the test's one in-memory connection, and two
    requests at once (a page fetching its panels in parallel) interleave on its cursor: one of
    them reads nothing and answers 404. There the application runs one request at a time (the
    connections keep their threads, so keep-alive still works); PostgreSQL keeps full threads."""
    import threading

    from django.conf import settings
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return

    class SerialApplicationServer(ThreadedWSGIServer):
        def set_app(self, application):
            lock = threading.Lock()

            def one_at_a_time(environ, start_response):
                with lock:
                    result = application(environ, start_response)
                    try:
                        return [b"".join(result)]  # streamed bodies read the database too
                    finally:
                        if hasattr(result, "close"):
                            result.close()

            super().set_app(one_at_a_time)

    LiveServerThread.server_class = SerialApplicationServer


_serial_live_server_on_sqlite()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # Browser tests run last, whatever order another plugin chose for the rest: Playwright's
    # sync API keeps an asyncio loop running in the main thread from its first use to the end
    # of the session, and Django then refuses ORM calls (see allow_orm_beside_playwright).
    items.sort(key=lambda item: "browser" in item.keywords)
    if Path(BROWSER).exists():
        return
    skip = pytest.mark.skip(reason=f"no chromium at {BROWSER}: apt-get install -y chromium fonts-noto-cjk")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def allow_orm_beside_playwright():
    """From the first browser test on, Playwright's loop runs in the main thread and Django's
    async guard would refuse every ORM call, including the flush between tests. The tests are
    plain synchronous code, so the guard is a false alarm; it is switched off only here, and
    the browser tests run after all others (pytest_collection_modifyitems above)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


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


PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


def shoot_both_widths(page, shots, name):
    """`name`-360.png and `name`-1280.png of the page in `shots`: the page must fit the phone's width
    (no sideways scrolling) and have raised no CSP violation."""
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(PHONE)
    scroll, inner = page.evaluate("document.documentElement.scrollWidth"), page.evaluate("window.innerWidth")
    assert scroll <= inner, f"{page.url} is {scroll}px wide at {inner}px"
    page.screenshot(path=str(shots / f"{name}-360.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert page.csp_violations == []


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
