"""Real-browser testing support: the app served on 127.0.0.1 by a werkzeug server in a
thread (SQLite file database) and Debian's chromium driven by Playwright.

Use from a test module by importing the fixtures:

    from tests.browser import browser, live_app, live_server, page, log_in  # noqa: F401

Playwright cannot download its own browser here, so it launches /usr/bin/chromium through
`executable_path`. Without chromium the tests skip locally and fail when CI is set.
"""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import create_user, make_test_app, require

CHROMIUM = os.environ.get("FACHO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
USERNAME, PASSWORD = "operador", "clave-segura-123"


@pytest.fixture
def live_app(tmp_path, redis_url):
    """The app on a fresh SQLite file, with a staff user (USERNAME / PASSWORD)."""
    from facho.extensions import db
    app = make_test_app(f"sqlite:///{tmp_path / 'live.db'}", tmp_path)
    with app.app_context():
        db.create_all()
    create_user(app, USERNAME, PASSWORD)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    """Base URL of the app served on a free 127.0.0.1 port for the test's duration."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Not for the whole session: while Playwright's sync API
    is running, its event loop counts as running in this thread, so every later test that
    calls asyncio.run() here (the SNMP client, the reconciler…) would fail; and each module
    importing a session fixture gets its own copy, so a second module could not start one."""
    require(bool(shutil.which(CHROMIUM)), f"chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (own cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server, locale="es-PE",
                                  viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page, username: str = USERNAME, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


def snmpsim_beside_the_browser(snmpsim_factory, data, probe_community: str):
    """Yield an snmpsim agent serving `data`, started from a thread of its own: its
    readiness probe runs asyncio, which Playwright's sync API (owning this thread's loop)
    forbids here. The thread lives as long as the agent, since snmpsim is tied to the
    thread that started it (parent-death signal). Use from a fixture: `yield from …`."""
    started, ready, done = [], threading.Event(), threading.Event()

    def keeper():
        try:
            started.append(snmpsim_factory(data, probe_community=probe_community))
        finally:
            ready.set()
        done.wait()
        for sim in started:
            sim.stop()

    thread = threading.Thread(target=keeper, name="snmpsim-keeper", daemon=True)
    thread.start()
    ready.wait(60)
    assert started, "snmpsim did not start"
    yield started[0]
    done.set()
    thread.join(15)
