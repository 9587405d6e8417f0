"""Settings every test run shares, whatever the folder."""

import os

# Playwright drives the browser from the test thread while live_server serves in another;
# Django's async-safety check would refuse ORM calls from the test thread otherwise.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("ACCORD_TASKS_IMMEDIATE", "true")
