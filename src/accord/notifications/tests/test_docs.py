"""The verification sample in docs/notifications.md accepts what Accord really sends."""

import re
from pathlib import Path

import pytest

from accord.notifications import services
from accord.notifications.tests.factories import WebhookSubscriptionFactory

DOC = Path(__file__).resolve().parents[4] / "docs" / "notifications.md"
pytestmark = pytest.mark.django_db


def documented_verify():
    sample = next(block for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
                  if "def verify" in block)
    namespace: dict = {}
    exec(compile(sample, str(DOC), "exec"), namespace)
    return namespace["verify"]


def test_the_documented_verification_accepts_a_real_delivery_and_refuses_a_tampered_one(
    http_receiver, django_capture_on_commit_callbacks
):
    subscription = WebhookSubscriptionFactory(url=http_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_event(event_type="deal.won", record_key="deal:9", payload={"deal_id": 9})
    [request] = http_receiver.received
    verify = documented_verify()
    args = (request.headers["X-Accord-Timestamp"], request.headers["X-Accord-Signature"])

    assert verify(subscription.secret, request.body, *args) is True
    assert verify(subscription.secret, request.body.replace(b"9", b"8"), *args) is False
    assert verify("whsec_wrong", request.body, *args) is False
