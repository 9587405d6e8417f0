"""Writes for notifications: tell one person something, once.

Domains call `notify` with plain data inside their own transaction. The dedupe key makes a
retried request or a restarted worker a no-op instead of a second message.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accord.notifications.models import Notification


def notify(*, recipient, kind: str, title: str, dedupe_key: str, body: str = "", url: str = "",
           at=None) -> Notification | None:
    """Put a notification in the recipient's inbox; return None when the key was already used."""
    if Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        # A savepoint, so losing a race on the unique key leaves the caller's transaction usable.
        with transaction.atomic():
            return Notification.objects.create(
                recipient=recipient, kind=kind, title=title[:200], body=body, url=url[:500],
                dedupe_key=dedupe_key[:200], created_at=at or timezone.now(),
            )
    except IntegrityError:
        return None
