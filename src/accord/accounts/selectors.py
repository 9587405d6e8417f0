"""Reads on users and tokens."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from accord.accounts.models import ApiToken, User
from accord.accounts.services import TOKEN_PREFIX, hash_token
from accord.core.errors import NotFound, PermissionDenied, ValidationFailed
from accord.core.permissions import Action, Role, can, require, sees_everything


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


def tokens_manageable_by(*, user: User) -> QuerySet[ApiToken]:
    """Return the user's own tokens, newest first, refusing roles that may not manage tokens."""
    require(user, Action.MANAGE_OWN_TOKENS)
    return tokens_of(user=user).order_by("-created_at", "-id")


def allowed_actions(*, user: User) -> list[str]:
    return [action.value for action in Action if can(user, action)]


# Who may own a record a user creates or edits. This mirrors core.permissions.owner_scope:
# a record handed to anyone outside the giver's scope would vanish from the giver's view,
# so a rep keeps their own records and a manager hands out within their team.
def assignable_owners(*, user: User) -> QuerySet[User]:
    """Return the active users the user may make the owner of a record."""
    active = User.objects.filter(is_active=True)
    if not can(user, Action.VIEW_RECORDS):
        return active.none()
    if sees_everything(user):
        return active
    if user.role == Role.SALES_MANAGER and user.team_id is not None:
        return active.filter(team_id=user.team_id)
    return active.filter(pk=user.pk)


def may_leave_unassigned(*, user: User) -> bool:
    """Tell whether the user still sees a record that has no owner."""
    if not can(user, Action.VIEW_RECORDS):
        return False
    return sees_everything(user) or (user.role == Role.SALES_MANAGER and user.team_id is not None)


def default_owner(*, user: User) -> User | None:
    """Return who owns a record the user creates without naming an owner."""
    return None if sees_everything(user) else user


def owner_for_assignment(*, user: User, owner_id: int | None) -> User | None:
    """Return the owner with this id if the user may give them a record, else raise naming owner_id."""
    if owner_id is None:
        if may_leave_unassigned(user=user):
            return None
        raise PermissionDenied("You may not leave a record without an owner.", field="owner_id")
    owner = User.objects.filter(pk=owner_id, is_active=True).select_related("team").first()
    if owner is None:
        raise ValidationFailed(f"No active user {owner_id}.", field="owner_id")
    if owner.pk != user.pk and not assignable_owners(user=user).filter(pk=owner.pk).exists():
        scope = "your team" if user.role == Role.SALES_MANAGER and user.team_id else "yourself"
        raise PermissionDenied(f"You may only assign records to {scope}.", field="owner_id")
    return owner
