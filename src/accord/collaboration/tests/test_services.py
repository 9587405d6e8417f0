"""Comments on any record, and the feedback thread: each reply tells the other side, once."""

from datetime import UTC, datetime

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import CampaignFactory, ContactFactory
from accord.collaboration import selectors, services
from accord.collaboration.models import Comment
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.lifecycle import domain
from accord.lifecycle import services as lifecycle
from accord.notifications.models import Notification

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 2, 10, tzinfo=UTC)


@pytest.fixture
def rejection():
    owner = UserFactory(role=Role.MARKETING, first_name="Mia", last_name="Marketer")
    rep = UserFactory(role=Role.SALES_REP, first_name="Rob", last_name="Rep")
    contact = ContactFactory(first_name="Lee", last_name="Lead", original_campaign=CampaignFactory(owner=owner))
    lifecycle.change_stage(contact=contact, to_stage=S.MQL, rule=domain.SCORE_THRESHOLD, at=AT)
    feedback = lifecycle.record_feedback(contact=contact, by=rep, decision="reject", reason="bad_data",
                                         note="The form let a fake phone through", at=AT)
    return feedback, owner, rep


def test_marketing_replies_and_the_rep_who_rejected_is_told(rejection):
    feedback, owner, rep = rejection

    comment = services.reply_to_feedback(author=owner, feedback=feedback, body="  We fixed the form, thanks  ")

    assert (comment.body, comment.target) == ("We fixed the form, thanks", feedback)
    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.title, note.body, note.url) == (
        rep, "comment", "Mia Marketer replied on the rejection of Lee Lead", "We fixed the form, thanks",
        f"/quality/feedback/{feedback.pk}/")


def test_the_reps_answer_tells_the_campaign_owner_and_everyone_who_replied(rejection):
    feedback, owner, rep = rejection
    colleague = UserFactory(role=Role.MARKETING)
    services.reply_to_feedback(author=colleague, feedback=feedback, body="Which form?")
    Notification.objects.all().delete()

    services.reply_to_feedback(author=rep, feedback=feedback, body="The webinar sign-up")

    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted([owner.pk, colleague.pk])


def test_a_resubmitted_reply_is_posted_and_announced_once(rejection):
    feedback, owner, _ = rejection

    first = services.reply_to_feedback(author=owner, feedback=feedback, body="Fixed", client_key="k1")
    again = services.reply_to_feedback(author=owner, feedback=feedback, body="Fixed", client_key="k1")

    assert first == again
    assert (Comment.objects.count(), Notification.objects.count()) == (1, 1)


def test_an_empty_reply_is_refused_and_an_executive_may_not_comment(rejection):
    feedback, owner, _ = rejection

    with pytest.raises(ValidationFailed) as empty:
        services.reply_to_feedback(author=owner, feedback=feedback, body="   ")
    with pytest.raises(PermissionDenied):
        services.reply_to_feedback(author=UserFactory(role=Role.EXECUTIVE), feedback=feedback, body="Hm")

    assert empty.value.field == "body"
    assert (Comment.objects.count(), Notification.objects.count()) == (0, 0)


def test_a_thread_reads_oldest_first_and_keeps_other_records_apart(rejection):
    feedback, owner, rep = rejection
    services.add_comment(author=owner, target=feedback, body="first")
    services.add_comment(author=rep, target=feedback, body="second")
    services.add_comment(author=rep, target=feedback.contact, body="on the contact")

    assert [c.body for c in selectors.comments_on(target=feedback)] == ["first", "second"]
    assert [c.body for c in selectors.comments_on_many(model=type(feedback), ids=[feedback.pk])[feedback.pk]] == [
        "first", "second"]
