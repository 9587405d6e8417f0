"""Settings every test run shares, whatever the folder."""

import os

import pytest

# Playwright drives the browser from the test thread while live_server serves in another;
# Django's async-safety check would refuse ORM calls from the test thread otherwise.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The local SMTP and HTTP receivers listen on loopback, which webhooks may not reach unless
# allowed; set here so the worker processes tests start inherit it too.
LOOPBACK = "127.0.0.0/8"
os.environ.setdefault("ACCORD_WEBHOOK_ALLOW_PRIVATE", LOOPBACK)

IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "periodic"]}
}


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings):
    """Run enqueued tasks in-process; tests of the real worker override this."""
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(settings):
    settings.ACCORD_WEBHOOK_ALLOW_PRIVATE = (LOOPBACK,)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher costs ~0.5 s per password by design; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
