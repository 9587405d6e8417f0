"""Real peers for the notification tests: an SMTP server and an HTTP receiver on local ports."""

import pytest
from tests.receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def smtp_server(settings):
    """Run aiosmtpd on a free port and point Accord's mailer at it."""
    server = SmtpReceiver().start()
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 5},
    }}
    settings.ACCORD_PUBLIC_URL = "https://accord.example.com"
    yield server
    server.stop()


@pytest.fixture
def http_receiver(settings):
    """Run a local HTTP receiver that records requests; Slack hooks may point at it over http."""
    settings.ACCORD_SLACK_REQUIRE_HTTPS = False
    receiver = HttpReceiver().up()
    yield receiver
    receiver.down()
