"""The feedback thread over the API: read and reply on what you may see, never on another rep's verdict."""

from datetime import UTC, datetime

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.capture.tests.factories import CampaignFactory, ContactFactory
from accord.collaboration.models import Comment
from accord.core.permissions import Role
from accord.lifecycle import services as lifecycle
from accord.notifications.models import Notification

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 2, 10, tzinfo=UTC)


@pytest.fixture
def feedback():
    rep = UserFactory(role=Role.SALES_REP)
    contact = ContactFactory(original_campaign=CampaignFactory(owner=UserFactory(role=Role.MARKETING)))
    return lifecycle.record_feedback(contact=contact, by=rep, decision="reject", reason="no_need", at=AT)


def test_marketing_posts_a_reply_once_per_key_and_the_rep_reads_it(feedback):
    marketer = api_as(UserFactory(role=Role.MARKETING))
    marketer.headers["Idempotency-Key"] = "reply-1"

    first = marketer.post(f"/feedback/{feedback.pk}/comments", {"body": "<b>Thanks</b>, fixed"})
    again = marketer.post(f"/feedback/{feedback.pk}/comments", {"body": "<b>Thanks</b>, fixed"})
    thread = api_as(feedback.by_user).get(f"/feedback/{feedback.pk}/comments")

    assert (first.status_code, again.status_code, first.json()["id"]) == (201, 201, again.json()["id"])
    assert [c["body"] for c in thread.json()] == ["<b>Thanks</b>, fixed"]
    assert Notification.objects.filter(recipient=feedback.by_user, kind="comment").count() == 1


def test_another_rep_can_neither_read_nor_reply_on_a_verdict_that_is_not_theirs(feedback):
    other = api_as(UserFactory(role=Role.SALES_REP))

    read = other.get(f"/feedback/{feedback.pk}/comments")
    reply = other.post(f"/feedback/{feedback.pk}/comments", {"body": "Mine now"})

    assert (read.status_code, reply.status_code) == (404, 404)
    assert Comment.objects.count() == 0


def test_an_empty_reply_is_refused_naming_the_field(feedback):
    response = api_as(feedback.by_user).post(f"/feedback/{feedback.pk}/comments", {"body": ""})

    assert response.status_code == 422
    assert [field for field, _ in errors_of(response)] == ["body"]
