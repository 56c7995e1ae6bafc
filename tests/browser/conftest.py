"""Chromium through the pages: one browser for the run of browser tests, a context per person.

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


class _Chromium:
    """Started by the first browser test, stopped after the last one in a row.

    While Playwright runs, its event loop counts as running in this thread, and Django then
    refuses ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set (the tests' own ORM calls are
    synchronous). Neither may outlive the browser tests: later tests would see that loop,
    and subprocesses they start (manage.py check --deploy) that variable.
    """

    def __init__(self):
        self.playwright = None
        self.browser = None
        self.previous_env = None

    def get(self):
        if self.browser is None:
            self.previous_env = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
            )
        return self.browser

    def stop(self):
        if self.browser is None:
            return
        try:
            self.browser.close()
            self.playwright.stop()
        finally:
            self.browser = self.playwright = None
            if self.previous_env is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self.previous_env


_chromium = _Chromium()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the test's own fixtures are torn down: stop the browser unless a browser test
    comes next."""
    result = yield
    if nextitem is None or nextitem.get_closest_marker("browser") is None:
        _chromium.stop()
    return result


@pytest.fixture(scope="session")
def _artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # this run's screenshots only
        old.unlink()
    return ARTIFACTS


@pytest.fixture
def browser(_artifacts):
    return _chromium.get()


@pytest.fixture
def journey(request, browser, live_server, transactional_db, _artifacts):
    """Open tabs as people in one language; every page they reach is checked.

    The journey's name is the test's, with the language taken from its `lang` parameter.
    """
    callspec = getattr(request.node, "callspec", None)
    lang = callspec.params.get("lang", "en") if callspec else "en"
    name = re.sub(r"^test_", "", request.node.originalname)
    journey = Journey(browser, live_server.url, name=name, lang=lang, artifacts=_artifacts)
    yield journey
    journey.close()
