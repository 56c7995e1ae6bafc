"""Every page names its icon, so browsers do not ask for a missing /favicon.ico."""

import re

from django.contrib.staticfiles import finders
from django.test import Client


def test_the_pages_link_an_icon_that_the_static_files_hold(db):
    page = Client().get("/accounts/login/").content.decode()
    link = re.search(r'<link rel="icon"[^>]*href="/static/([^"]+)"', page)
    assert link is not None
    assert finders.find(link.group(1)) is not None
