"""Writes for collaboration: comments on any record, and replies on sales' feedback threads.

`add_comment` is generic: the caller has checked that the author may see the target (through
its app's scoped selector). `reply_to_feedback` is the closed loop's thread: marketing answers
a rep's verdict, the rep answers back, and each reply tells the other side.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from accord.accounts.models import User
from accord.collaboration.models import Comment
from accord.core.errors import ValidationFailed
from accord.core.permissions import Action, require
from accord.lifecycle.models import LeadFeedback
from accord.notifications.services import notify

MAX_BODY = 5_000


def add_comment(*, author: User, target: models.Model, body: str, client_key: str = "") -> Comment:
    """Add a comment to a record; a repeated client key returns the comment it added the first time."""
    comment, _ = add_comment_once(author=author, target=target, body=body, client_key=client_key)
    return comment


def add_comment_once(*, author: User, target: models.Model, body: str,
                     client_key: str = "") -> tuple[Comment, bool]:
    """Add a comment as `add_comment` does; also tell whether this call added it (False on a repeat)."""
    require(author, Action.COMMENT)
    body = body.strip()
    if not body:
        raise ValidationFailed("Write something to post.", field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"Keep a comment to {MAX_BODY:,} characters.", field="body")
    client_key = client_key.strip()[:100]
    if client_key:
        earlier = Comment.objects.filter(author=author, client_key=client_key).first()
        if earlier is not None:
            return earlier, False
    try:
        with transaction.atomic():
            return Comment.objects.create(
                author=author, target_type=ContentType.objects.get_for_model(target), target_id=target.pk,
                body=body, created_at=timezone.now(), client_key=client_key,
            ), True
    except IntegrityError:
        # The same key, posted twice at once: the other request added it.
        return Comment.objects.get(author=author, client_key=client_key), False


def feedback_participants(feedback: LeadFeedback) -> set[int]:
    """Return who a feedback thread concerns: the rep who gave the verdict, the campaign's owner, commenters."""
    people = {feedback.by_user_id}
    if feedback.campaign_id is not None and feedback.campaign.owner_id:
        people.add(feedback.campaign.owner_id)
    people.update(Comment.objects.filter(target_type=ContentType.objects.get_for_model(LeadFeedback),
                                         target_id=feedback.pk).values_list("author_id", flat=True))
    return {pk for pk in people if pk is not None}


@transaction.atomic
def reply_to_feedback(*, author: User, feedback: LeadFeedback, body: str, client_key: str = "") -> Comment:
    """Reply on a feedback thread and tell everyone else on it (the rep, the campaign's owner, earlier repliers).

    The caller has read `feedback` through a scoped selector. A repeated reply notifies nobody twice.
    """
    comment, added = add_comment_once(author=author, target=feedback, body=body, client_key=client_key)
    if not added:
        return comment
    url = reverse("quality-feedback-detail", args=[feedback.pk])
    verdict = "rejection" if feedback.decision == LeadFeedback.Decision.REJECT else "acceptance"
    recipients = User.objects.filter(pk__in=feedback_participants(feedback) - {author.pk}, is_active=True)
    for person in recipients:
        notify(recipient=person, kind="comment", url=url, body=comment.body[:1000],
               title=f"{author} replied on the {verdict} of {feedback.contact}",
               dedupe_key=f"feedback-comment:{comment.pk}:{person.pk}")
    return comment
