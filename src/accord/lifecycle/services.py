"""Writes for the lifecycle: stage moves, lead assignments, sales feedback, activities, routing.

The one write path for Contact.lifecycle_stage, stage_changed_at and owner: every change
records its StageTransition or LeadAssignment in the same transaction. A move the stage
machine refuses raises StageRefused (HTTP 409) with the reason, and changes nothing.
(The demo and the CSV import still write history in bulk: they load the past, they do
not make decisions.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accord.accounts.models import Team, User
from accord.accounts.selectors import owner_for_assignment
from accord.capture.models import Contact
from accord.core.errors import Conflict, ValidationFailed
from accord.core.permissions import Action, require
from accord.core.yamldoc import DocumentError, InvalidDocument, parse
from accord.lifecycle import domain, selectors
from accord.lifecycle.models import (
    Activity,
    LeadAssignment,
    LeadFeedback,
    RoutingConfig,
    RoutingRotation,
    StageTransition,
)
from accord.lifecycle.rules import RoutingDocument, parse_routing

DEFAULT_ROUTING = Path(__file__).with_name("default_routing.yaml")
MANUAL = "manual"


class StageRefused(Conflict):
    """The stage machine does not allow this move, for this person or rule."""


# -- stages -------------------------------------------------------------------------------


def _check(contact_stage: str, to_stage: str, *, by: User | None, rule: str | None) -> None:
    reason = domain.refusal(
        from_stage=contact_stage, to_stage=to_stage,
        role=by.role if by is not None else None, rule=rule if by is None else None,
        superuser=bool(by is not None and by.is_superuser),
    )
    if reason is not None:
        raise StageRefused(reason, field="to_stage")


@transaction.atomic
def change_stage(*, contact: Contact, to_stage: str, by: User | None = None, rule: str | None = None,
                 reason: str = "", at: datetime | None = None) -> StageTransition:
    """Move one contact to a stage, by a person (`by`) or a named rule, recording the transition."""
    if by is not None:
        require(by, Action.EDIT_CONTACTS)
    # Lock the row: two people accepting the same lead at once must not both succeed.
    current = Contact.objects.select_for_update().only("lifecycle_stage").get(pk=contact.pk)
    _check(current.lifecycle_stage, to_stage, by=by, rule=rule)
    at = at or timezone.now()
    transition = StageTransition.objects.create(
        contact_id=contact.pk, from_stage=current.lifecycle_stage, to_stage=to_stage, occurred_at=at,
        by_user=by, by_rule="" if by is not None else (rule or ""), reason=reason[:500],
    )
    Contact.objects.filter(pk=contact.pk).update(lifecycle_stage=to_stage, stage_changed_at=at, updated_at=at)
    contact.lifecycle_stage, contact.stage_changed_at = to_stage, at
    return transition


@transaction.atomic
def change_stages_by_rule(*, contact_ids: Sequence[int], to_stage: str, rule: str, reason: str = "",
                          at: datetime | None = None, reasons: dict[int, str] | None = None) -> list[int]:
    """Move many contacts to a stage by a rule, skipping any the table does not allow; return those moved.

    One locking read, one bulk insert and one UPDATE, for batches of thousands of new MQLs.
    """
    at = at or timezone.now()
    rows = list(Contact.objects.select_for_update().filter(pk__in=list(contact_ids))
                .values_list("pk", "lifecycle_stage"))
    allowed = [(pk, stage) for pk, stage in rows
               if domain.refusal(from_stage=stage, to_stage=to_stage, rule=rule) is None]
    reasons = reasons or {}
    StageTransition.objects.bulk_create([
        StageTransition(contact_id=pk, from_stage=stage, to_stage=to_stage, occurred_at=at, by_rule=rule,
                        reason=reasons.get(pk, reason)[:500])
        for pk, stage in allowed
    ])
    moved = [pk for pk, _ in allowed]
    Contact.objects.filter(pk__in=moved).update(lifecycle_stage=to_stage, stage_changed_at=at, updated_at=at)
    return moved


# -- owners -------------------------------------------------------------------------------


@transaction.atomic
def assign_lead(*, contact: Contact, owner: User, by: User | None = None, rule: str = MANUAL,
                reason: str = "", at: datetime | None = None) -> LeadAssignment:
    """Give a lead to an owner, by hand (`by`, who must be allowed to assign to them) or by a rule."""
    if by is not None:
        require(by, Action.ASSIGN_LEADS)
        owner = owner_for_assignment(user=by, owner_id=owner.pk)
    if owner is None or not owner.is_active:
        raise ValidationFailed("A lead can only be given to an active user.", field="owner_id")
    at = at or timezone.now()
    Contact.objects.select_for_update().only("pk").get(pk=contact.pk)
    assignment = LeadAssignment.objects.create(
        contact_id=contact.pk, owner=owner, assigned_at=at, assigned_by=by,
        rule=(MANUAL if by is not None and rule == MANUAL else rule)[:100], reason=reason[:500],
    )
    Contact.objects.filter(pk=contact.pk).update(owner=owner, updated_at=at)
    contact.owner = owner
    return assignment


@transaction.atomic
def assign_leads_by_rule(*, decisions: Iterable[tuple[int, int, str, str]],
                         at: datetime | None = None) -> list[LeadAssignment]:
    """Record many rule assignments, given as (contact id, owner id, rule, reason); return them."""
    at = at or timezone.now()
    rows = [LeadAssignment(contact_id=contact_id, owner_id=owner_id, assigned_at=at, rule=rule[:100],
                           reason=reason[:500]) for contact_id, owner_id, rule, reason in decisions]
    LeadAssignment.objects.bulk_create(rows)
    by_owner: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_owner[row.owner_id].append(row.contact_id)
    for owner_id, contact_ids in by_owner.items():
        Contact.objects.filter(pk__in=contact_ids).update(owner_id=owner_id, updated_at=at)
    return rows


# -- feedback and activities ----------------------------------------------------------------


def record_feedback(*, contact: Contact, by: User, decision: str, reason: str, note: str = "",
                    at: datetime | None = None) -> LeadFeedback:
    """Record sales' verdict on a lead (the stage move is the caller's, in the same transaction)."""
    require(by, Action.GIVE_LEAD_FEEDBACK)
    if decision not in LeadFeedback.Decision.values:
        raise ValidationFailed(f"{decision!r} is not accept or reject.", field="decision")
    if reason not in LeadFeedback.Reason.values:
        raise ValidationFailed(
            f"{reason!r} is not a reason; use one of {', '.join(LeadFeedback.Reason.values)}.", field="reason"
        )
    return LeadFeedback.objects.create(
        contact_id=contact.pk, by_user=by, decision=decision, reason=reason, note=note.strip()[:5000],
        created_at=at or timezone.now(),
    )


def log_activity(*, by: User, kind: str, contact: Contact | None = None, deal=None, outcome: str = "",
                 subject: str = "", body: str = "", occurred_at: datetime | None = None,
                 duration_minutes: int | None = None, client_key: str = "") -> Activity:
    """Log a call, email, meeting or note; a repeated client key returns the first one logged."""
    activity, _ = log_activity_once(by=by, kind=kind, contact=contact, deal=deal, outcome=outcome,
                                    subject=subject, body=body, occurred_at=occurred_at,
                                    duration_minutes=duration_minutes, client_key=client_key)
    return activity


def log_activity_once(*, by: User, kind: str, contact: Contact | None = None, deal=None, outcome: str = "",
                      subject: str = "", body: str = "", occurred_at: datetime | None = None,
                      duration_minutes: int | None = None, client_key: str = "") -> tuple[Activity, bool]:
    """Log an activity as `log_activity` does; also tell whether this call logged it (False on a repeat).

    Callers that count activities (the SLA's touches) count only when it is True.
    """
    require(by, Action.EDIT_CONTACTS)
    if contact is None and deal is None:
        raise ValidationFailed("Name the contact or the deal the activity was with.", field="contact_id")
    if kind not in Activity.Kind.values:
        raise ValidationFailed(f"{kind!r} is not one of {', '.join(Activity.Kind.values)}.", field="kind")
    if outcome not in Activity.Outcome.values:
        raise ValidationFailed(f"{outcome!r} is not a known outcome.", field="outcome")
    now = timezone.now()
    if occurred_at is not None and occurred_at > now + timedelta(minutes=5):
        raise ValidationFailed("An activity cannot be logged in the future.", field="occurred_at")
    client_key = client_key.strip()[:100]
    if client_key:
        earlier = Activity.objects.filter(user=by, client_key=client_key).first()
        if earlier is not None:
            return earlier, False
    try:
        with transaction.atomic():
            return Activity.objects.create(
                contact=contact, deal=deal, user=by, kind=kind, outcome=outcome, subject=subject.strip()[:200],
                body=body.strip(), occurred_at=occurred_at or now, duration_minutes=duration_minutes,
                client_key=client_key,
            ), True
    except IntegrityError:
        # The same key, submitted twice at once: the other request logged it.
        return Activity.objects.get(user=by, client_key=client_key), False


# -- routing configuration --------------------------------------------------------------------


def _check_teams(source: str, document: RoutingDocument) -> None:
    names = [name for _, name in document.team_names()]
    known = set(Team.objects.filter(name__in=names).values_list("name", flat=True))
    missing = [(path, name) for path, name in document.team_names() if name not in known]
    if missing:
        _, lines = parse(source)
        raise InvalidDocument([
            DocumentError(lines.get(path), ".".join(map(str, path)), f"no team is named {name!r}")
            for path, name in missing
        ])


@transaction.atomic
def publish_routing(*, source: str, by: User | None = None) -> RoutingConfig:
    """Validate a routing document, store it as the next version and make it the active one.

    Raises core.yamldoc.InvalidDocument (with lines) and stores nothing when it is invalid.
    """
    if by is not None:
        require(by, Action.ASSIGN_LEADS)
    document = parse_routing(source)
    _check_teams(source, document)
    latest = RoutingConfig.objects.select_for_update().aggregate(top=Max("version"))["top"] or 0
    RoutingConfig.objects.filter(is_active=True).update(is_active=False)
    return RoutingConfig.objects.create(
        version=latest + 1, source=source, parsed=document.model_dump(mode="json"), created_by=by,
        created_at=timezone.now(), is_active=True,
    )


@transaction.atomic
def activate_routing(*, version: int, by: User | None = None) -> RoutingConfig:
    """Make an earlier routing version the active one again (a rollback), recorded as the same row."""
    if by is not None:
        require(by, Action.ASSIGN_LEADS)
    chosen = RoutingConfig.objects.select_for_update().filter(version=version).first()
    if chosen is None:
        raise ValidationFailed(f"No routing version {version}.", field="version")
    RoutingConfig.objects.filter(is_active=True).exclude(pk=chosen.pk).update(is_active=False)
    chosen.is_active = True
    chosen.save(update_fields=["is_active"])
    return chosen


def active_routing() -> tuple[RoutingDocument, int]:
    """Return the active routing document and its version, publishing the shipped defaults the first time."""
    active = selectors.active_routing_config()
    if active is None:
        active = publish_routing(source=DEFAULT_ROUTING.read_text(encoding="utf-8"))
    return RoutingDocument.model_validate(active.parsed), active.version


def save_rotations(*, credits: dict[int, dict[int, int]], at: datetime | None = None) -> None:
    """Store each team's round-robin credits after a batch of routing."""
    at = at or timezone.now()
    for team_id, team_credits in credits.items():
        if team_id is None:
            continue
        RoutingRotation.objects.update_or_create(
            team_id=team_id, defaults={"credits": {str(k): v for k, v in team_credits.items()}, "updated_at": at},
        )


def lock_rotations(*, team_ids: Sequence[int]) -> dict[int, dict[int, int]]:
    """Return the teams' round-robin credits, locked until the transaction ends.

    Missing rows are created first so that two batches routing into a new team still
    queue on the same row instead of both starting from empty credits.
    """
    at = timezone.now()
    RoutingRotation.objects.bulk_create(
        [RoutingRotation(team_id=team_id, credits={}, updated_at=at) for team_id in team_ids],
        ignore_conflicts=True,
    )
    return selectors.rotation_credits(team_ids=team_ids, lock=True)
