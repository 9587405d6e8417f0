"""Reads on users and tokens."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from accord.accounts.models import ApiToken, User
from accord.accounts.services import TOKEN_PREFIX, hash_token
from accord.core.errors import NotFound


def user_for_token(*, raw: str) -> User | None:
    """Return the active user a raw API token belongs to, or None if it is unknown, revoked or expired."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=hash_token(raw), revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    # Stamping every request would make each API call a write; once a minute is enough to audit.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def token_for(*, user: User, token_id: int) -> ApiToken:
    try:
        return tokens_of(user=user).get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise NotFound(f"No API token {token_id}.") from None
