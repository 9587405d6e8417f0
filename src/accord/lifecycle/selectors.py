"""Reads on the lifecycle: stage history and entry dates, open loads, the lead queue, routing versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from accord.capture.models import Contact, Touchpoint
from accord.capture.selectors import contacts_visible_to, with_scores
from accord.core.errors import NotFound
from accord.core.permissions import Action, Role, can, sees_everything
from accord.core.vocabulary import LifecycleStage
from accord.lifecycle.models import (
    LeadAssignment,
    LeadFeedback,
    RejectionReason,
    RoutingConfig,
    RoutingRotation,
    StageTransition,
)

# Leads a rep is working: counted against their capacity and listed in their queue.
OPEN_STAGES = (LifecycleStage.MQL, LifecycleStage.SAL, LifecycleStage.SQL)
# The queue's views: new MQLs to accept or reject, and accepted leads being worked.
QUEUE_VIEWS = {
    "new": (LifecycleStage.MQL,),
    "working": (LifecycleStage.SAL, LifecycleStage.SQL),
    "all": OPEN_STAGES,
}
# Within equal deadlines: the best lead, then the newest arrival in its stage. `score` is the
# annotation of capture.selectors.with_scores, which every queue queryset carries.
QUEUE_ORDER = ("-score", F("stage_changed_at").desc(nulls_last=True), "-id")


def stage_history(*, contact: Contact) -> QuerySet[StageTransition]:
    """Return a contact's transitions, newest first, with who made each."""
    return contact.stage_transitions.select_related("by_user").order_by("-occurred_at", "-id")


def stage_entry_dates(*, contact_ids: Sequence[int]) -> dict[int, dict[str, datetime]]:
    """Return, per contact, when it first entered each stage it has been in."""
    rows = (StageTransition.objects.filter(contact_id__in=list(contact_ids))
            .values("contact_id", "to_stage").annotate(entered=Min("occurred_at")).order_by())
    result: dict[int, dict[str, datetime]] = {int(pk): {} for pk in contact_ids}
    for row in rows:
        result[row["contact_id"]][row["to_stage"]] = row["entered"]
    return result


def assignment_history(*, contact: Contact) -> QuerySet[LeadAssignment]:
    return contact.assignments.select_related("owner", "assigned_by").order_by("-assigned_at", "-id")


def open_loads(*, user_ids: Sequence[int]) -> dict[int, int]:
    """Return how many open leads (MQL, SAL, SQL) each user owns; walks the contact_owner_stage index."""
    rows = (Contact.objects.filter(owner_id__in=list(user_ids), lifecycle_stage__in=OPEN_STAGES)
            .values("owner_id").annotate(n=Count("id")).order_by())
    loads = {int(pk): 0 for pk in user_ids}
    loads.update({row["owner_id"]: row["n"] for row in rows})
    return loads


def lead_queue(*, user, view: str = "all") -> QuerySet[Contact]:
    """Return the open leads the user may see, highest score first, then the most recent arrival.

    A rep sees their own, a manager their team's and the unassigned ones (owner_scope).
    The handoff's queue (handoff.selectors.lead_queue) puts the soonest SLA deadline first;
    this layer cannot read the SLA clocks.
    """
    stages = QUEUE_VIEWS.get(view, OPEN_STAGES)
    return (with_scores(contacts_visible_to(user=user)).filter(lifecycle_stage__in=stages)
            .select_related("account", "owner", "original_campaign")
            .order_by(*QUEUE_ORDER))


def active_routing_config() -> RoutingConfig | None:
    return RoutingConfig.objects.filter(is_active=True).first()


def routing_versions() -> QuerySet[RoutingConfig]:
    return RoutingConfig.objects.select_related("created_by").order_by("-version")


def routing_version(*, version: int) -> RoutingConfig | None:
    return RoutingConfig.objects.select_related("created_by").filter(version=version).first()


def rotation_credits(*, team_ids: Sequence[int], lock: bool = False) -> dict[int, dict[int, int]]:
    """Return each team's round-robin credits (user id → credit); lock the rows inside a write."""
    rotations = RoutingRotation.objects.filter(team_id__in=list(team_ids))
    if lock:
        rotations = rotations.select_for_update()
    return {r.team_id: {int(k): int(v) for k, v in r.credits.items()} for r in rotations}


def lead_row(*, user, contact_id: int) -> Contact:
    """Return one lead as the queue shows it, or raise NotFound."""
    lead = (with_scores(contacts_visible_to(user=user)).filter(pk=contact_id)
            .select_related("account", "owner", "original_campaign").first())
    if lead is None:
        raise NotFound(f"No contact {contact_id}.")
    return lead


# -- the rejection taxonomy ---------------------------------------------------------------------


def active_rejection_reasons() -> QuerySet[RejectionReason]:
    """Return the reasons a rep may choose now, in the order revenue ops set."""
    return RejectionReason.objects.filter(is_active=True).order_by("order", "id")


def rejection_reasons(*, include_retired: bool = True) -> QuerySet[RejectionReason]:
    """Return the whole taxonomy, active reasons first in their order, then the retired ones."""
    reasons = RejectionReason.objects.all()
    if not include_retired:
        reasons = reasons.filter(is_active=True)
    return reasons.order_by("-is_active", "order", "id")


def rejection_reason(*, code: str) -> RejectionReason | None:
    return RejectionReason.objects.filter(code=code).first()


def reason_labels() -> dict[str, str]:
    """Return every code's label, retired ones included, for showing old feedback."""
    return dict(RejectionReason.objects.values_list("code", "label"))


def with_reason_label(feedback: QuerySet[LeadFeedback]) -> QuerySet[LeadFeedback]:
    """Annotate each feedback row with its reason's label (`reason_label`), in the same query."""
    return feedback.labelled()


# -- sales' feedback ------------------------------------------------------------------------------


def feedback_visible_to(*, user) -> QuerySet[LeadFeedback]:
    """Return the feedback the user may read: marketing, revenue ops and executives all of it,
    a sales manager their team's verdicts, a rep their own."""
    if not can(user, Action.VIEW_RECORDS):
        return LeadFeedback.objects.none()
    if sees_everything(user):
        return LeadFeedback.objects.all()
    if user.role == Role.SALES_MANAGER and user.team_id is not None:
        return LeadFeedback.objects.filter(Q(by_user__team_id=user.team_id) | Q(by_user=user))
    return LeadFeedback.objects.filter(by_user=user)


def feedback_for(*, user, feedback_id: int) -> LeadFeedback:
    """Return one piece of feedback the user may read, with its lead, rep, campaign and reason label."""
    found = (with_reason_label(feedback_visible_to(user=user)).filter(pk=feedback_id)
             .select_related("contact", "by_user", "campaign", "campaign__owner").first())
    if found is None:
        raise NotFound(f"No feedback {feedback_id}.")
    return found


def with_origin(transitions: QuerySet[StageTransition]) -> QuerySet[StageTransition]:
    """Annotate MQL transitions with the lead's origin at that moment (one query, indexed subqueries).

    Campaign: the contact's original campaign. Channel: that campaign's channel, else the
    contact's lead source. Source: the utm_source of the latest touch at or before the
    handover that has one, else the lead source. Content: the utm_content of the latest
    touch at or before the handover that has one (walks touch_contact_time backwards).
    """
    touches = (Touchpoint.objects.filter(contact_id=OuterRef("contact_id"), occurred_at__lte=OuterRef("occurred_at"))
               .order_by("-occurred_at", "-id"))
    return transitions.annotate(
        o_campaign=F("contact__original_campaign_id"), o_channel=F("contact__original_campaign__channel"),
        o_lead_source=F("contact__lead_source"),
        o_source=Subquery(touches.exclude(utm_source="").values("utm_source")[:1]),
        o_content=Subquery(touches.exclude(utm_content="").values("utm_content")[:1]),
    )


def origin_key(dimension: str):
    """Return, over with_origin's annotations, the value a handover is counted under for a dimension.

    The same fallbacks services._origin applies when it counts the handover into the rollup,
    so a list filtered by it holds exactly the handovers behind the number.
    """
    if dimension == "campaign":
        return Coalesce(F("o_campaign"), Value(0))
    if dimension == "channel":
        return Coalesce(NullIf(F("o_channel"), Value("")), F("o_lead_source"))
    if dimension == "source":
        return Coalesce(F("o_source"), F("o_lead_source"))
    if dimension == "content":
        return Coalesce(F("o_content"), Value(""))
    raise ValueError(f"{dimension!r} is not campaign, channel, source or content")
