"""WSGI entry point: gunicorn serves Accord with threaded (gthread) workers (see docs/architecture.md)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
application = get_wsgi_application()
# Load every view and the API schema now: with `gunicorn --preload` this happens once in
# the master, so no forked worker pays for it on its first request.
get_resolver().url_patterns  # noqa: B018
