"""Writes for the lifecycle: stage moves, lead assignments, sales feedback, activities, routing.

The one write path for Contact.lifecycle_stage, stage_changed_at and owner: every change
records its StageTransition or LeadAssignment in the same transaction. A move the stage
machine refuses raises StageRefused (HTTP 409) with the reason, and changes nothing.
(The demo and the CSV import still write history in bulk: they load the past, they do
not make decisions.)
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from accord.accounts.models import Team, User
from accord.accounts.selectors import owner_for_assignment
from accord.capture.models import Contact
from accord.core.errors import Conflict, ValidationFailed
from accord.core.permissions import Action, require
from accord.core.vocabulary import LifecycleStage
from accord.core.yamldoc import DocumentError, InvalidDocument, parse
from accord.lifecycle import domain, selectors
from accord.lifecycle.models import (
    Activity,
    FeedbackDaily,
    LeadAssignment,
    LeadFeedback,
    RejectionReason,
    RoutingConfig,
    RoutingRotation,
    StageTransition,
)
from accord.lifecycle.rules import RoutingDocument, parse_routing

DEFAULT_ROUTING = Path(__file__).with_name("default_routing.yaml")
MANUAL = "manual"
SLUG = re.compile(r"[a-z][a-z0-9_]{0,31}")
Progress = Callable[[int, int, str], None]


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
    if to_stage == LifecycleStage.MQL:
        count_handovers(transition_ids=[transition.pk])
    return transition


# No savepoint when nested: these batch writes run inside the handoff's transaction, and a
# failure rolls all of it back anyway; the savepoint and its release were two statements a lead.
@transaction.atomic(savepoint=False)
def change_stages_by_rule(*, contact_ids: Sequence[int], to_stage: str, rule: str, reason: str = "",
                          at: datetime | None = None, reasons: dict[int, str] | None = None) -> list[int]:
    """Move many contacts to a stage by a rule, skipping any the table does not allow; return those moved.

    One locking read, one bulk insert and one UPDATE, for batches of thousands of new MQLs.
    """
    at = at or timezone.now()
    # Unordered: the contact list's default order (newest first) is a sort, and its compiling a
    # measurable part of one new lead's time.
    rows = list(Contact.objects.select_for_update().filter(pk__in=list(contact_ids)).order_by()
                .values_list("pk", "lifecycle_stage"))
    allowed = [(pk, stage) for pk, stage in rows
               if domain.refusal(from_stage=stage, to_stage=to_stage, rule=rule) is None]
    reasons = reasons or {}
    created = StageTransition.objects.bulk_create([
        StageTransition(contact_id=pk, from_stage=stage, to_stage=to_stage, occurred_at=at, by_rule=rule,
                        reason=reasons.get(pk, reason)[:500])
        for pk, stage in allowed
    ])
    moved = [pk for pk, _ in allowed]
    Contact.objects.filter(pk__in=moved).update(lifecycle_stage=to_stage, stage_changed_at=at, updated_at=at)
    if to_stage == LifecycleStage.MQL and created:
        count_handovers(transition_ids=[t.pk for t in created])
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


@transaction.atomic(savepoint=False)  # as change_stages_by_rule
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


# A lead's origin at its handover, as the lead-quality page groups it (docs/closed-loop.md).
Origin = tuple[int, str, str, str]  # campaign id (0: none), channel, source, content


def _origin(row) -> Origin:
    return (row.o_campaign or 0, (row.o_channel or row.o_lead_source or "")[:32],
            (row.o_source or row.o_lead_source or "")[:100], (row.o_content or "")[:100])


def _bump(counts: dict[tuple, int]) -> None:
    """Add counts to the lead-quality rollup: {(day, campaign id, channel, source, content, kind, reason): n}."""
    counts = {key: n for key, n in counts.items() if n}
    if not counts:
        return
    table = FeedbackDaily._meta.db_table
    key = "day, campaign_id, channel, source, content, kind, reason"
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(counts))
    params: list = []
    for (day, *rest), n in counts.items():
        params.extend([connection.ops.adapt_datefield_value(day), *rest, n])
    # An increment, not an overwrite: two verdicts committed at once must both count.
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({key}, count) VALUES {values} "  # noqa: S608 - fixed names
                       f"ON CONFLICT ({key}) DO UPDATE SET count = {table}.count + excluded.count", params)


def _day(at: datetime):
    return timezone.localdate(at)


@cache
def _handovers_with_origin() -> QuerySet[StageTransition]:
    # Built once per process and only ever filtered (a clone), never evaluated itself: building
    # the origin's two subqueries was half the time of counting one new lead's handover.
    return selectors.with_origin(StageTransition.objects.filter(to_stage=LifecycleStage.MQL))


def count_handovers(*, transition_ids: Sequence[int]) -> None:
    """Count new MQL transitions into the lead-quality rollup, each under its lead's origin."""
    counts: dict[tuple, int] = defaultdict(int)
    for row in _handovers_with_origin().filter(pk__in=list(transition_ids)):
        counts[(_day(row.occurred_at), *_origin(row), FeedbackDaily.Kind.HANDED_OVER, "")] += 1
    _bump(counts)


def _verdict_key(feedback: LeadFeedback) -> tuple:
    return (_day(feedback.handed_over_at), feedback.campaign_id or 0, feedback.channel, feedback.source,
            feedback.content, feedback.decision, feedback.reason)


@transaction.atomic
def record_feedback(*, contact: Contact, by: User, decision: str, reason: str = "", note: str = "",
                    at: datetime | None = None) -> LeadFeedback:
    """Record sales' verdict on a lead (the stage move is the caller's, in the same transaction).

    The verdict answers the lead's latest handover (move to MQL): it carries the lead's origin
    then, replaces an earlier verdict on the same handover in the counts, and updates the
    lead-quality rollup. A rejection's reason must be an active RejectionReason code; an
    acceptance has none.
    """
    require(by, Action.GIVE_LEAD_FEEDBACK)
    if decision not in LeadFeedback.Decision.values:
        raise ValidationFailed(f"{decision!r} is not accept or reject.", field="decision")
    if decision == LeadFeedback.Decision.REJECT:
        rejection_reason_for(code=reason, note=note)
    else:
        reason = ""
    at = at or timezone.now()
    handover = (selectors.with_origin(StageTransition.objects.filter(contact_id=contact.pk, to_stage=LifecycleStage.MQL,
                                                            occurred_at__lte=at))
                .order_by("-occurred_at", "-id").first())
    origin: Origin = _origin(handover) if handover is not None else (0, "", "", "")
    counts: dict[tuple, int] = defaultdict(int)
    if handover is not None:
        earlier = list(LeadFeedback.objects.select_for_update()
                       .filter(contact_id=contact.pk, handed_over_at=handover.occurred_at, is_current=True))
        for previous in earlier:
            counts[_verdict_key(previous)] -= 1
        LeadFeedback.objects.filter(pk__in=[f.pk for f in earlier]).update(is_current=False)
    feedback = LeadFeedback.objects.create(
        contact_id=contact.pk, by_user=by, decision=decision, reason=reason, note=note.strip()[:5000],
        created_at=at, handed_over_at=handover.occurred_at if handover is not None else None,
        campaign_id=origin[0] or None, channel=origin[1], source=origin[2], content=origin[3],
    )
    if handover is not None:
        counts[_verdict_key(feedback)] += 1
        _bump(counts)
    return feedback


def rebuild_feedback_rollup(*, progress: Progress | None = None, batch: int = 2_000) -> dict[str, int]:
    """Recompute every feedback row's handover and origin, and the lead-quality rollup, from the history.

    For data loaded in bulk (the demo, imports, rows from before the rollup existed) and for
    checking the live counts: the result equals what the live path keeps. Reads in batches
    of contacts, then swaps the rollup in one transaction.
    """
    progress = progress or (lambda done, total, message: None)
    mql = StageTransition.objects.filter(to_stage=LifecycleStage.MQL)
    total = LeadFeedback.objects.count() + mql.count()
    done = 0
    counts: dict[tuple, int] = defaultdict(int)
    progress(0, total, "Handovers")
    last = 0
    while True:
        rows = list(selectors.with_origin(mql.filter(pk__gt=last)).order_by("pk")[:batch])
        if not rows:
            break
        last = rows[-1].pk
        for row in rows:
            counts[(_day(row.occurred_at), *_origin(row), FeedbackDaily.Kind.HANDED_OVER, "")] += 1
        done += len(rows)
        progress(done, total, "Handovers")
    contact_ids = LeadFeedback.objects.values_list("contact_id", flat=True).distinct().order_by("contact_id")
    last = 0
    while True:
        ids = list(contact_ids.filter(contact_id__gt=last)[:batch])
        if not ids:
            break
        last = ids[-1]
        done += _rebuild_feedback_of(ids, counts)
        progress(done, total, "Verdicts")
    with transaction.atomic():
        FeedbackDaily.objects.all().delete()
        FeedbackDaily.objects.bulk_create(
            [FeedbackDaily(day=day, campaign_id=campaign, channel=channel, source=source, content=content,
                           kind=kind, reason=reason, count=n)
             for (day, campaign, channel, source, content, kind, reason), n in counts.items() if n],
            batch_size=1_000,
        )
    return {"rows": sum(1 for n in counts.values() if n), "events": done}


@transaction.atomic
def _rebuild_feedback_of(contact_ids: list[int], counts: dict[tuple, int]) -> int:
    """Set handover, origin and currency on these contacts' feedback; add their verdicts to `counts`."""
    handovers: dict[int, list] = defaultdict(list)
    for row in selectors.with_origin(StageTransition.objects.filter(contact_id__in=contact_ids, to_stage=LifecycleStage.MQL)
                            ).order_by("occurred_at", "id"):
        handovers[row.contact_id].append(row)
    feedback = list(LeadFeedback.objects.filter(contact_id__in=contact_ids).order_by("created_at", "id"))
    latest: dict[tuple, LeadFeedback] = {}
    for item in feedback:
        before = [h for h in handovers[item.contact_id] if h.occurred_at <= item.created_at]
        handover = before[-1] if before else None
        origin = _origin(handover) if handover is not None else (0, "", "", "")
        item.handed_over_at = handover.occurred_at if handover is not None else None
        item.campaign_id, item.channel, item.source, item.content = origin[0] or None, *origin[1:]
        item.is_current = True
        if handover is not None:
            previous = latest.get((item.contact_id, handover.pk))
            if previous is not None:
                previous.is_current = False
            latest[(item.contact_id, handover.pk)] = item
    for item in latest.values():
        counts[_verdict_key(item)] += 1
    # One prepared UPDATE run over the rows: bulk_update's CASE per row and column costs
    # quadratic time, about 15 ms a row at a batch of 1,000.
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {LeadFeedback._meta.db_table} SET handed_over_at = %s, campaign_id = %s, channel = %s, "  # noqa: S608
            "source = %s, content = %s, is_current = %s WHERE id = %s",
            [(adapt(f.handed_over_at), f.campaign_id, f.channel, f.source, f.content, f.is_current, f.pk)
             for f in feedback],
        )
    return len(feedback)


# -- the rejection taxonomy -------------------------------------------------------------------


def offered_rejection_reasons() -> list[RejectionReason]:
    """Return the active reasons for a new rejection, in order.

    An empty table (a database flushed by hand or by a test) gets the shipped taxonomy first,
    as routing and the SLA publish their defaults, so sales can always reject a lead.
    """
    reasons = list(selectors.active_rejection_reasons())
    if not reasons and not RejectionReason.objects.exists():
        at = timezone.now()
        RejectionReason.objects.bulk_create([
            RejectionReason(code=code, label=label, outcome=outcome, note_required=note_required,
                            description=description, order=order, created_at=at, updated_at=at)
            for order, (code, label, outcome, note_required, description)
            in enumerate(domain.DEFAULT_REJECTION_REASONS, start=1)
        ], ignore_conflicts=True)
        reasons = list(selectors.active_rejection_reasons())
    return reasons


def rejection_reason_for(*, code: str, note: str = "") -> RejectionReason:
    """Return the active reason with this code for a new rejection, or say which reasons there are.

    Raises ValidationFailed on `reason` for an unknown or retired code, and on `note` when the
    reason requires one and none is given.
    """
    offered = offered_rejection_reasons()
    reason = selectors.rejection_reason(code=code) if code else None
    if reason is None or not reason.is_active:
        choices = ", ".join(f"{r.code} ({r.label})" for r in offered)
        what = "Give a reason for rejecting the lead" if not code else (
            f"{code!r} is {'retired' if reason is not None else 'not a rejection reason'}")
        raise ValidationFailed(f"{what}: one of {choices}.", field="reason")
    if reason.note_required and not note.strip():
        raise ValidationFailed(f"Say why in the note when the reason is {reason.label!r}.", field="note")
    return reason


def _check_reason_fields(*, label: str, outcome: str, description: str) -> None:
    if not label.strip():
        raise ValidationFailed("Give the reason a label reps will recognise.", field="label")
    if len(label.strip()) > 100:
        raise ValidationFailed("Keep the label to 100 characters.", field="label")
    if outcome not in RejectionReason.Outcome.values:
        raise ValidationFailed(f"{outcome!r} is not an outcome; use nurture or disqualify.", field="outcome")
    if len(description) > 500:
        raise ValidationFailed("Keep the description to 500 characters.", field="description")


@transaction.atomic
def create_rejection_reason(*, by: User, code: str, label: str, outcome: str, description: str = "",
                            note_required: bool = False) -> RejectionReason:
    """Add a reason at the end of the list; its code is permanent, since feedback stores it."""
    require(by, Action.EDIT_REJECTION_REASONS)
    code = code.strip().lower()
    if not SLUG.fullmatch(code):
        raise ValidationFailed("A code is 1-32 lower-case letters, digits and underscores, "
                               "starting with a letter.", field="code")
    _check_reason_fields(label=label, outcome=outcome, description=description)
    if RejectionReason.objects.filter(code=code).exists():
        raise Conflict(f"A reason with the code {code!r} exists already (retired reasons keep theirs).",
                       field="code")
    at = timezone.now()
    top = RejectionReason.objects.select_for_update().aggregate(top=Max("order"))["top"] or 0
    try:
        with transaction.atomic():
            return RejectionReason.objects.create(
                code=code, label=label.strip(), outcome=outcome, description=description.strip(),
                note_required=note_required, order=top + 1, created_at=at, updated_at=at,
            )
    except IntegrityError:
        raise Conflict(f"A reason with the code {code!r} exists already.", field="code") from None


@transaction.atomic
def update_rejection_reason(*, by: User, reason: RejectionReason, label: str, outcome: str, description: str = "",
                            note_required: bool = False) -> RejectionReason:
    """Change a reason's label, help, outcome or note rule; past feedback keeps its code and stage moves."""
    require(by, Action.EDIT_REJECTION_REASONS)
    _check_reason_fields(label=label, outcome=outcome, description=description)
    reason.label, reason.outcome = label.strip(), outcome
    reason.description, reason.note_required = description.strip(), note_required
    reason.updated_at = timezone.now()
    reason.save(update_fields=["label", "outcome", "description", "note_required", "updated_at"])
    return reason


@transaction.atomic
def retire_rejection_reason(*, by: User, reason: RejectionReason) -> RejectionReason:
    """Hide a reason from new rejections; feedback that used it still shows it. Retiring twice is a no-op."""
    require(by, Action.EDIT_REJECTION_REASONS)
    if not reason.is_active:
        return reason
    if RejectionReason.objects.filter(is_active=True).exclude(pk=reason.pk).count() == 0:
        raise Conflict("Keep at least one active reason: sales must be able to reject a lead.", field="code")
    reason.is_active, reason.retired_at = False, timezone.now()
    reason.updated_at = reason.retired_at
    reason.save(update_fields=["is_active", "retired_at", "updated_at"])
    return reason


@transaction.atomic
def restore_rejection_reason(*, by: User, reason: RejectionReason) -> RejectionReason:
    """Offer a retired reason to reps again, at the end of the list."""
    require(by, Action.EDIT_REJECTION_REASONS)
    if reason.is_active:
        return reason
    top = RejectionReason.objects.select_for_update().aggregate(top=Max("order"))["top"] or 0
    reason.is_active, reason.retired_at, reason.order = True, None, top + 1
    reason.updated_at = timezone.now()
    reason.save(update_fields=["is_active", "retired_at", "order", "updated_at"])
    return reason


@transaction.atomic
def reorder_rejection_reasons(*, by: User, codes: Sequence[str]) -> list[RejectionReason]:
    """Put the active reasons in the order given; every active code must be named exactly once."""
    require(by, Action.EDIT_REJECTION_REASONS)
    active = {r.code: r for r in RejectionReason.objects.select_for_update().filter(is_active=True)}
    if sorted(codes) != sorted(active) or len(set(codes)) != len(codes):
        raise ValidationFailed(f"Name every active reason once: {', '.join(sorted(active))}.", field="codes")
    at = timezone.now()
    for position, code in enumerate(codes, start=1):
        active[code].order, active[code].updated_at = position, at
    RejectionReason.objects.bulk_update(active.values(), ["order", "updated_at"])
    return [active[code] for code in codes]


@transaction.atomic
def move_rejection_reason(*, by: User, reason: RejectionReason, step: int) -> list[RejectionReason]:
    """Move an active reason one place up (step -1) or down (+1) in the list reps see."""
    codes = list(selectors.active_rejection_reasons().values_list("code", flat=True))
    if reason.code not in codes:
        raise Conflict("Only an active reason has a place in the list.", field="code")
    at = codes.index(reason.code)
    to = min(max(at + step, 0), len(codes) - 1)
    codes.insert(to, codes.pop(at))
    return reorder_rejection_reasons(by=by, codes=codes)


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


def save_rotations(*, credits: dict[int, dict[int, int]], at: datetime | None = None,
                   unchanged: dict[int, dict[int, int]] | None = None) -> None:
    """Store each team's round-robin credits after a batch of routing.

    `unchanged` (the credits as `lock_rotations` returned them) skips the teams whose credits
    did not move: one new lead moves one team's, and each team costs a statement.
    """
    at = at or timezone.now()
    unchanged = unchanged or {}
    for team_id, team_credits in credits.items():
        if team_id is None or (team_id in unchanged and unchanged[team_id] == team_credits):
            continue
        stored = {str(k): v for k, v in team_credits.items()}
        # The row exists once `lock_rotations` has run: one UPDATE, no read first.
        if not RoutingRotation.objects.filter(team_id=team_id).update(credits=stored, updated_at=at):
            RoutingRotation.objects.create(team_id=team_id, credits=stored, updated_at=at)


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
