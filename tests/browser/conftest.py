"""Chromium through the pages: one browser for the session, a context per person.

Debian's Chromium (/usr/bin/chromium, installed by `make test`) is driven by Playwright's
sync API against pytest-django's live server; Playwright never downloads a browser. Every
page a journey visits is screenshotted into var/test-artifacts/ and checked by axe-core (the
vendored copy, injected by the test: the app's Content-Security-Policy stays as it is).
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import sync_playwright

from tests.browser.pages import Journey

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API keeps an event loop running in this thread, and Django refuses
    # ORM calls from a thread with a running loop; the tests' own ORM calls are synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # this run's screenshots only
        old.unlink()
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def journey(request, browser, live_server, transactional_db):
    """Open tabs as people in one language; every page they reach is checked.

    The journey's name is the test's, with the language taken from its `lang` parameter.
    """
    callspec = getattr(request.node, "callspec", None)
    lang = callspec.params.get("lang", "en") if callspec else "en"
    name = re.sub(r"^test_", "", request.node.originalname)
    journey = Journey(browser, live_server.url, name=name, lang=lang, artifacts=ARTIFACTS)
    yield journey
    journey.close()
