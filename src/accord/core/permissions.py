"""The one place that decides who may do what.

Two questions, both answered here and nowhere else:
- may this role perform this action at all (`can`, `require`), and
- which owned records may this user see (`owner_scope`): a rep sees their own book,
  a sales manager their team's book plus unassigned records, everyone else all of it.
docs/permissions.md is the same matrix in prose; a test checks they agree.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from accord.core.errors import PermissionDenied

if TYPE_CHECKING:
    from accord.accounts.models import User


class Role(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES_REP = "sales_rep", "Sales rep"
    SALES_MANAGER = "sales_manager", "Sales manager"
    REVOPS_ADMIN = "revops_admin", "Revenue-ops admin"
    EXECUTIVE = "executive", "Executive viewer"


class Action(StrEnum):
    VIEW_RECORDS = "view_records"  # accounts, contacts, deals (scoped by owner_scope)
    EDIT_CONTACTS = "edit_contacts"  # accounts and contacts
    VIEW_CAMPAIGNS = "view_campaigns"
    EDIT_CAMPAIGNS = "edit_campaigns"  # campaigns and their costs
    EDIT_DEALS = "edit_deals"
    IMPORT_DATA = "import_data"
    GIVE_LEAD_FEEDBACK = "give_lead_feedback"  # accept or reject a handed-over lead
    ASSIGN_LEADS = "assign_leads"
    EDIT_GOALS = "edit_goals"
    EDIT_SLA = "edit_sla"
    EDIT_REJECTION_REASONS = "edit_rejection_reasons"  # the taxonomy sales rejects leads with
    EDIT_SCORING = "edit_scoring"
    VIEW_ANALYTICS = "view_analytics"
    COMMENT = "comment"
    EDIT_CONTENT = "edit_content"
    MANAGE_USERS = "manage_users"
    USE_ADMIN = "use_admin"
    MANAGE_OWN_TOKENS = "manage_own_tokens"
    # Data-subject requests (docs/privacy.md): a copy of everything held on one person, and erasure.
    EXPORT_PERSONAL_DATA = "export_personal_data"
    ERASE_PERSONAL_DATA = "erase_personal_data"


A = Action
_EVERY_ROLE = {A.VIEW_RECORDS, A.VIEW_CAMPAIGNS, A.VIEW_ANALYTICS, A.MANAGE_OWN_TOKENS}

MATRIX: dict[Role, frozenset[Action]] = {
    Role.MARKETING: frozenset(
        _EVERY_ROLE
        | {
            A.EDIT_CONTACTS,
            A.EDIT_CAMPAIGNS,
            A.IMPORT_DATA,
            A.COMMENT,
            A.EDIT_CONTENT,
            A.EDIT_SCORING,
            # The SLA, the goals and the rejection reasons are joint commitments: each side edits its half.
            A.EDIT_SLA,
            A.EDIT_GOALS,
            A.EDIT_REJECTION_REASONS,
            # Marketing ops answers access requests (it runs the forms and consents); erasure,
            # which cannot be undone, stays with revenue ops.
            A.EXPORT_PERSONAL_DATA,
        }
    ),
    Role.SALES_REP: frozenset(
        _EVERY_ROLE | {A.EDIT_CONTACTS, A.EDIT_DEALS, A.GIVE_LEAD_FEEDBACK, A.COMMENT}
    ),
    Role.SALES_MANAGER: frozenset(
        _EVERY_ROLE
        | {
            A.EDIT_CONTACTS,
            A.EDIT_DEALS,
            A.GIVE_LEAD_FEEDBACK,
            A.ASSIGN_LEADS,
            A.EDIT_GOALS,
            A.EDIT_SLA,
            A.EDIT_REJECTION_REASONS,
            A.COMMENT,
            A.EDIT_CONTENT,
        }
    ),
    Role.REVOPS_ADMIN: frozenset(Action),
    # Executives read everything and change nothing, not even comments: a viewer seat.
    Role.EXECUTIVE: frozenset(_EVERY_ROLE),
}


def can(user: User, action: Action) -> bool:
    """Tell whether the user's role allows the action. Inactive or anonymous users may do nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return action in MATRIX.get(Role(user.role), frozenset())


def require(user: User, action: Action) -> None:
    """Raise PermissionDenied, naming the action, unless the user may perform it."""
    if not can(user, action):
        raise PermissionDenied(
            f"Your role ({user.get_role_display() if hasattr(user, 'get_role_display') else 'none'})"
            f" may not {action.value.replace('_', ' ')}."
        )


def sees_everything(user: User) -> bool:
    return user.is_superuser or user.role in {Role.MARKETING, Role.REVOPS_ADMIN, Role.EXECUTIVE}


def owner_scope(user: User, *, field: str = "owner") -> Q:
    """Return the filter on an owner field that limits records to what the user may see."""
    if not can(user, Action.VIEW_RECORDS):
        return Q(pk__in=[])
    if sees_everything(user):
        return Q()
    if user.role == Role.SALES_MANAGER and user.team_id is not None:
        return Q(**{f"{field}__team_id": user.team_id}) | Q(**{f"{field}__isnull": True})
    return Q(**{field: user})
