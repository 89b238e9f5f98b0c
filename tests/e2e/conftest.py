"""Browser tests: the real app on a free loopback port (uvicorn in a thread, temp SQLite),
driven by Debian's chromium through Playwright. No browser is ever downloaded."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from syndication import migrate
from syndication.app import create_app
from syndication.db import session_scope
from syndication.settings import Settings
from syndication.staff.accounts import create_staff

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EMAIL = "desk@example.org"
PASSWORD = "browser test password"
# The README's screenshots are refreshed by `make screenshots`; ordinary runs write to a
# temporary folder so that `make test` leaves the tree clean.
SCREENSHOTS = Path(
    os.environ.get("SYNDICATION_SCREENSHOTS_DIR")
    or Path(tempfile.gettempdir()) / "syndication-screenshots"
)


def _no_browser(reason: str) -> None:
    if os.environ.get("SYNDICATION_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and SYNDICATION_REQUIRE_BROWSER=1 requires the browser tests")
    pytest.skip(f"{reason} (install Debian's chromium to run the browser tests)")


@dataclass
class LiveServer:
    url: str
    app: Litestar

    def has_route(self, path: str) -> bool:
        return path in self.app.route_handler_method_map


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import uvicorn

    port = _free_port()
    path = tmp_path_factory.mktemp("e2e") / "e2e.db"
    settings = Settings(
        database_url=f"sqlite:///{path}",
        base_url=f"http://127.0.0.1:{port}",
        secret_key="e2e-secret-key",
    )
    migrate.upgrade(settings)
    app = create_app(settings)
    with session_scope(app.state.engine) as session:
        create_staff(session, EMAIL, PASSWORD)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the e2e server did not start")
        time.sleep(0.05)
    yield LiveServer(settings.base_url, app)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
        _no_browser(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
