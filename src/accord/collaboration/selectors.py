"""Reads for collaboration: the comments on a record, oldest first so a thread reads top to bottom."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from accord.collaboration.models import Comment


def comments_on(*, target: models.Model) -> QuerySet[Comment]:
    """Return the comments on one record, newest last, with their authors.

    The caller has already checked that the viewer may see `target`; bodies are plain text,
    escaped where they are shown.
    """
    return (Comment.objects.filter(target_type=ContentType.objects.get_for_model(target), target_id=target.pk)
            .select_related("author").order_by("created_at", "id"))


def comments_on_many(*, model: type[models.Model], ids: Sequence[int]) -> dict[int, list[Comment]]:
    """Return the threads of many records of one model (id → comments, newest last), in one query."""
    threads: dict[int, list[Comment]] = defaultdict(list)
    rows = (Comment.objects.filter(target_type=ContentType.objects.get_for_model(model), target_id__in=list(ids))
            .select_related("author").order_by("created_at", "id"))
    for comment in rows:
        threads[comment.target_id].append(comment)
    return threads
