"""What every browser test shares: the app on a real port, one Chromium for the session (Debian's, driven
by Playwright), a fresh page per test, signing in, axe-core, screenshots.

Screenshots land in test-artifacts/ (CI keeps them as artefacts). Every test in this folder is marked
``browser``. Import the helpers from here: ``from .conftest import with_axe, serious_violations, sign_in``.
"""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.config import ROOT

from ..conftest import DEMO_EMAILS, IN_CI

ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    # Marked here, so a new file in this folder cannot forget it.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


def chromium_path():
    path = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if not Path(path).exists():
        if IN_CI:
            pytest.fail(f"Chromium is not installed at {path}: .ci/run installs Debian's chromium")
        pytest.skip(f"Chromium is not installed at {path}")
    return path


@pytest.fixture
def live_server(app):
    """The app on a real port, in a thread: the browser talks HTTP to it like a resident would."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def chromium():
    """One browser for the whole session (starting Chromium costs about a second); each test gets its
    own context, so no cookie or storage crosses between tests."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def new_page(chromium, width=1200, height=900, **options):
    """A page in a context of its own; ``page.errors`` collects the page's uncaught script errors."""
    context = chromium.new_context(viewport={"width": width, "height": height}, **options)
    # No internet here: tile requests fail fast, like a network that blocks the tile server.
    context.route("https://*/**", lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


@pytest.fixture
def page(chromium):
    page = new_page(chromium)
    yield page
    page.context.close()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def sign_in(page, base, role):
    page.goto(f"{base}/login")
    page.fill("#email", DEMO_EMAILS[role])
    page.fill("#password", "shropshire-demo-2010")
    page.click("button:has-text('Sign in')")


def open_a_popup(page):
    """Click clusters until single markers show, then open one: what a resident does with a mouse."""
    page.wait_for_function("() => document.getElementById('public-map').dataset.markers !== undefined")
    for _ in range(12):
        markers = page.locator(".portal-marker:visible")
        if markers.count():
            markers.first.click()
            break
        page.locator(".marker-cluster:visible").first.click()
        page.wait_for_timeout(400)
    page.wait_for_selector(".portal-popup", timeout=15000)
    return page.locator(".portal-popup").inner_text()


def with_axe(page):
    """axe-core injected by the browser itself, as an extension would be: an added <script> tag has no
    nonce, and the pages' policy (rightly) refuses it."""
    page.context.add_init_script(path=str(AXE))
    return page


def serious_violations(page):
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]
