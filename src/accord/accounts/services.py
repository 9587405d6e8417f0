"""Writes on users, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accord.accounts.models import ApiToken, Team, User
from accord.core.errors import Conflict, NotFound, ValidationFailed
from accord.core.permissions import Action, Role, require

TOKEN_PREFIX = "acc_"


@transaction.atomic
def create_user(
    *,
    username: str,
    email: str,
    role: str,
    password: str,
    team_name: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a login with a role; the team is created if it does not exist yet."""
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}; expected one of {', '.join(Role.values)}.", field="role")
    email = email.strip().lower()
    if User.objects.filter(username=username).exists():
        raise Conflict(f"The username {username!r} is taken.", field="username")
    if email and User.objects.filter(email__iexact=email).exists():
        raise Conflict(f"The email {email!r} is taken.", field="email")
    team = None
    if team_name:
        function = Team.Function.MARKETING if role == Role.MARKETING else Team.Function.SALES
        team, _ = Team.objects.get_or_create(name=team_name, defaults={"function": function})
    user = User(
        username=username,
        email=email,
        role=role,
        team=team,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.REVOPS_ADMIN,
        is_superuser=role == Role.REVOPS_ADMIN,
    )
    user.set_password(password)
    user.save()
    return user


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_api_token(*, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a personal token and return it with its secret, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the token a name.", field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=raw[:12], digest=hash_token(raw), expires_at=expires_at
    )
    return token, raw


def revoke_api_token(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def issue_own_api_token(
    *, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue the user a token of their own, as asked through the API or the profile page."""
    require(user, Action.MANAGE_OWN_TOKENS)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiry must be in the future.", field="expires_at")
    return issue_api_token(user=user, name=name, expires_at=expires_at)


def revoke_own_api_token(*, user: User, token: ApiToken) -> ApiToken:
    """Revoke one of the user's own tokens; revoking twice keeps the first time."""
    require(user, Action.MANAGE_OWN_TOKENS)
    if token.user_id != user.pk:
        raise NotFound(f"No API token {token.pk}.")
    return revoke_api_token(token=token)
