"""WSGI entry point (gunicorn config.wsgi).

Each worker loads the URL patterns (and with them every view, form and model module) here,
then moves everything made so far out of the garbage collector's reach (`gc.freeze`): the
~120,000 objects of a loaded worker live as long as it does, and a full collection walking
them paused the request that triggered it for tens of milliseconds, every few requests
(the p95 of `make bench`). Objects made later are collected as usual.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 -- imported now, so that they are frozen below
gc.freeze()
