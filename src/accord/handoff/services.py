"""The handoff from marketing to sales: score, promote to MQL, route, notify; then sales' answer.

`evaluate_leads` is the one path a lead takes to sales: score the contacts (vectorised),
promote those at or over the routing document's threshold to MQL, pick an owner for each,
and send each owner the packet. Every step records its row through lifecycle.services.
`sweep_new_leads` feeds it: lower layers never import this app, so new contacts and new
touchpoints are found by reading past a cursor instead of being pushed here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from accord.accounts.models import User
from accord.capture.models import Contact, Touchpoint
from accord.capture.selectors import with_scores
from accord.core.errors import Conflict, ValidationFailed
from accord.core.permissions import Action, Role, require
from accord.core.vocabulary import LifecycleStage as S
from accord.deals import services as deals
from accord.deals.models import DealContact
from accord.handoff.domain import priority_tier
from accord.handoff.models import LeadWait, SweepCursor
from accord.handoff.selectors import handoff_packet
from accord.lifecycle import domain
from accord.lifecycle import selectors as lifecycle_selectors
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import LeadAssignment, LeadFeedback
from accord.lifecycle.routing import Decision, Lead, Rep, Router
from accord.lifecycle.rules import RoutingDocument
from accord.notifications import events
from accord.notifications.services import notify, publish_events
from accord.scoring import services as scoring
from accord.sla import selectors as sla_selectors
from accord.sla import services as sla
from accord.sla.document import SlaDocument
from accord.sla.domain import WorkCalendar, add_working_time
from accord.sla.models import SlaVersion

# Rows younger than this are read again by the next sweep: an id handed out before a
# slower transaction committed its lower id must not be skipped for ever.
SWEEP_LAG = timedelta(minutes=2)
SWEEP_BATCH = 5_000
PROMOTABLE = (S.SUBSCRIBER, S.LEAD)
# Activities that count as touching the lead for the SLA; a note is not contact with the buyer.
TOUCHES = ("call", "email", "meeting")
Progress = Callable[[int, int, str], None]


def _quiet(done: int, total: int, message: str) -> None:
    return None


# -- evaluate ---------------------------------------------------------------------------------


def _promotable(contact_ids: Sequence[int], threshold: int) -> dict[int, int]:
    """Return the score of each contact at or over the threshold that may become an MQL now.

    A nurtured lead comes back only if it did something since it was recycled: a score
    that was already high when sales sent it back is not news.
    """
    rows = _promotable_leads().filter(pk__in=list(contact_ids), score__gte=threshold)
    return dict(sorted(rows))


@cache
def _promotable_leads():
    # Built once per process and only ever filtered (a clone), never evaluated itself: building
    # the Exists subquery cost as much as running the statement.
    since = Touchpoint.objects.filter(contact=OuterRef("pk"), occurred_at__gt=OuterRef("stage_changed_at"))
    return (with_scores(Contact.objects.filter(Q(lifecycle_stage__in=PROMOTABLE)
                                               | Q(Exists(since), lifecycle_stage=S.NURTURE)))
            .order_by().values_list("pk", "score"))


@cache
def _calendar(zone: str, days: tuple, start: str, end: str) -> WorkCalendar:
    from accord.lifecycle.rules import WorkingHours

    hours = WorkingHours(days=list(days), start=start, end=end).weekday_hours()
    try:
        return WorkCalendar(timezone=zone or "UTC", hours=hours)
    except Exception:  # an unknown zone name on a team must not stop routing
        return WorkCalendar(timezone="UTC", hours=hours)


def _reps(document: RoutingDocument, now: datetime) -> tuple[dict[int, Rep], dict[int, User]]:
    """Load every active sales person (with their team) as a Rep with their load and whether they are
    in working hours now; return the reps and the people."""
    people = list(User.objects.filter(is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER])
                  .select_related("team").order_by("pk"))
    loads = lifecycle_selectors.open_loads(user_ids=[p.pk for p in people])
    hours = document.working_hours
    reps = {}
    opening: dict[str, datetime] = {}
    for person in people:
        zone = person.team.timezone if person.team else person.timezone
        if zone not in opening:
            calendar = _calendar(zone, tuple(hours.days), hours.start, hours.end)
            opening[zone] = add_working_time(now, timedelta(0), calendar)
        opens = opening[zone]
        reps[person.pk] = Rep(
            user_id=person.pk, team_id=person.team_id, capacity=person.capacity,
            open_load=loads.get(person.pk, 0), is_away=person.is_away, in_hours=opens <= now,
            opens_at=opens, name=str(person), takes_round_robin=person.role == Role.SALES_REP,
        )
    return reps, {person.pk: person for person in people}


def _contacts(contact_ids: Sequence[int]) -> dict[int, Contact]:
    """Read the leads with their account and campaign, once for routing, the events and the packet."""
    return {c.pk: c for c in with_scores(Contact.objects.filter(pk__in=list(contact_ids)))
            .select_related("account", "original_campaign").order_by("pk")}


def _lead(contact: Contact) -> Lead:
    account = contact.account
    return Lead(contact_id=contact.pk, region=contact.region or (account.region if account else "") or "",
                segment=(account.segment if account else "") or "", industry=(account.industry if account else "") or "",
                size_band=(account.size_band if account else "") or "", owner_id=contact.owner_id,
                account_owner_id=account.owner_id if account else None)


def _router(document: RoutingDocument, now: datetime) -> tuple[Router, dict[int, User]]:
    from accord.accounts.models import Team

    teams = dict(Team.objects.order_by().values_list("name", "pk"))
    named = {teams[name] for _, name in document.team_names() if name in teams}
    reps, people = _reps(document, now)
    return Router(document=document, reps=reps, team_ids=teams,
                  credits=lifecycle.lock_rotations(team_ids=sorted(named))), people


def _lead_url(contact_id: int) -> str:
    return reverse("lead", args=[contact_id])


def _absolute(url: str) -> str:
    base = getattr(settings, "ACCORD_BASE_URL", "") or ""
    return f"{base.rstrip('/')}{url}" if base else url


def _notify_owner(contact_id: int, decision: Decision, assignment_key: str, *, contact: Contact | None = None,
                  recipient: User | None = None) -> None:
    """Send the new owner the packet; `contact` (with account and campaign) and `recipient` save their reads."""
    if contact is None:
        contact = Contact.objects.select_related("account", "original_campaign").get(pk=contact_id)
    packet = handoff_packet(contact=contact)
    url = _lead_url(contact_id)
    notify(
        recipient=recipient or User.objects.get(pk=decision.owner_id), kind="lead_assigned",
        title=f"New MQL for you: {contact} (score {packet.explanation.total})",
        body=f"{decision.reason}\n\n{packet.as_text(url=_absolute(url))}", url=url,
        dedupe_key=f"lead-assigned:{assignment_key}",
    )


def _notify_waiting(contact_id: int, decision: Decision, key: str, *, kept_by: int | None = None) -> None:
    from accord.accounts.models import Team

    team = Team.objects.filter(pk=decision.team_id).select_related("manager").first() if decision.team_id else None
    if team is None or team.manager is None:
        return
    contact = Contact.objects.select_related("owner").get(pk=contact_id)
    if kept_by is not None and contact.owner_id == kept_by:
        # Rerouting found nobody else: the lead has not lost its owner, and saying it waits
        # unassigned would send the manager looking for a lead that is not there.
        title = f"Nobody else is free to take {contact}: it stays with {contact.owner}"
        body = f"Rerouting after an SLA breach found no other owner. {decision.reason}"
    else:
        title, body = f"Unassigned MQL waits in {team}: {contact}", decision.reason
    notify(recipient=team.manager, kind="lead_assigned", title=title, body=body,
           url=_lead_url(contact_id), dedupe_key=f"lead-waiting:{key}")


# -- domain events ------------------------------------------------------------------------------

LEAD_FIELDS = ("id", "email", "first_name", "last_name", "account_id", "score", "lifecycle_stage", "owner_id")


def _lead_records(contact_ids) -> dict[int, dict]:
    """Read the leads' key fields for their events, in one query, as they stand in this transaction."""
    return {row["id"]: row for row in with_scores(Contact.objects.filter(pk__in=list(contact_ids))).values(*LEAD_FIELDS)}


def _lead_record(contact: Contact) -> dict:
    """Return the lead's key fields for its events from a contact read in this transaction."""
    return {name: getattr(contact, name) for name in LEAD_FIELDS}


def _publish_lead_event(event_type: str, *, contact_id: int, at: datetime, by: User | None = None,
                        system: str = "", **details) -> None:
    lead = _lead_records([contact_id])[contact_id]
    publish_events(events=[events.lead_event(event_type, lead=lead, by=events.actor(by, system=system),
                                             occurred_at=at, **details)])


# `sla.sla_in_force(at)`: the SLA version governing a moment and its document.
type InForce = tuple[SlaVersion, SlaDocument]


def open_clocks(*, assignments: Sequence[LeadAssignment], at: datetime, document: RoutingDocument | None = None,
                in_force: InForce | None = None, scores: dict[int, int] | None = None,
                owners: dict[int, User] | None = None) -> None:
    """Start the SLA clocks of each new assignment, in the tier its lead's score earns (call inside a transaction).

    `document` (the routing in force), `in_force` (`sla.sla_in_force(at)`), `scores` (contact
    id → score) and `owners` (user id → user, with the team) save their reads when the caller
    has them already: a new lead's handoff is a chain of small steps, and each read is a query.
    """
    if not assignments:
        return
    in_force = in_force or sla.sla_in_force(at)
    _, agreement = in_force
    if document is None:
        document, _ = lifecycle.active_routing()
    contact_ids = [a.contact_id for a in assignments]
    if scores is None:
        scores = dict(with_scores(Contact.objects.filter(pk__in=contact_ids)).values_list("pk", "score"))
    sla.open_clocks_for(assignments=[
        (assignment, priority_tier(score=scores.get(assignment.contact_id, 0), threshold=document.mql_threshold,
                                   first_touch_hours=agreement.sales.first_touch_hours))
        for assignment in assignments], at=at, in_force=in_force, owners=owners)
    # A lead waiting on the customer keeps waiting under its new owner: its new clocks pause too.
    for contact_id in LeadWait.objects.filter(contact_id__in=contact_ids, ended_at__isnull=True).order_by().values_list(
            "contact_id", flat=True):
        sla.lead_status_changed(contact_id=contact_id, at=at, stage=None, waiting_on_customer=True)


def _stage_changed(contact: Contact, at: datetime) -> None:
    """Tell the SLA clocks the lead's new stage: in the queue or nurture they run or pause as the SLA
    says; anywhere else (disqualified, a deal, back to marketing) the handoff's promises are settled."""
    stage = contact.lifecycle_stage
    if stage in lifecycle_selectors.OPEN_STAGES or stage == S.NURTURE:
        sla.lead_status_changed(contact_id=contact.pk, at=at, stage=stage,
                                waiting_on_customer=_is_waiting(contact.pk))
    else:
        sla.close_clocks(contact_id=contact.pk, at=at, reason=f"moved to {S(stage).label}")


@transaction.atomic
def change_stage(*, contact: Contact, to_stage: str, by: User, reason: str = ""):
    """Move a lead to a stage by hand, and pause, resume or close its SLA clocks to match."""
    transition = lifecycle.change_stage(contact=contact, to_stage=to_stage, by=by, reason=reason)
    _stage_changed(contact, transition.occurred_at)
    return transition


def evaluate_leads(*, contact_ids: Sequence[int], at: datetime | None = None) -> dict:
    """Score the contacts, promote those at or over the threshold to MQL, route and notify each.

    Idempotent: a contact already past lead is left alone, so evaluating the same contacts
    twice changes nothing the second time.
    """
    ids = sorted({int(pk) for pk in contact_ids})
    if not ids:
        return {"scored": 0, "mql": 0, "assigned": 0, "unassigned": 0}
    at = at or timezone.now()
    # One transaction for scoring and handoff: one commit (one fsync on SQLite) per new lead,
    # and a lead is never left scored over the threshold but not yet an MQL.
    with transaction.atomic():
        scored = scoring.rescore(contact_ids=ids, as_of=at)
        document, version = lifecycle.active_routing()
        scores = _promotable(ids, document.mql_threshold)
        reasons = {pk: f"Score {score} reached the MQL threshold of {document.mql_threshold} "
                       f"(routing v{version})." for pk, score in scores.items()}
        moved = lifecycle.change_stages_by_rule(contact_ids=list(scores), to_stage=S.MQL,
                                                rule=domain.SCORE_THRESHOLD, reasons=reasons, at=at)
        contacts = _contacts(moved)
        became_mql = [
            events.lead_event("lead.mql", lead=_lead_record(contacts[pk]), by=events.actor(system="scoring"),
                              occurred_at=at, reason=reasons[pk], threshold=document.mql_threshold,
                              routing_version=version)
            for pk in moved]
        # Read once for the clocks and the handovers (and not at all when no lead moved: the
        # first read publishes the shipped agreement).
        in_force = sla.sla_in_force(at) if moved else None
        decisions = route(contact_ids=moved, document=document, at=at, in_force=in_force, contacts=contacts,
                          events_before=became_mql)
        sla.record_handovers(contact_ids=moved, at=at, in_force=in_force)
    return {"scored": scored["contacts"], "mql": len(moved),
            "assigned": sum(1 for d in decisions.values() if d.owner_id), "unassigned":
            sum(1 for d in decisions.values() if not d.owner_id), "routing_version": version}


def route(*, contact_ids: Sequence[int], document: RoutingDocument, at: datetime,
          exclude: dict[int, int] | None = None, by: User | None = None,
          in_force: InForce | None = None, contacts: dict[int, Contact] | None = None,
          events_before: Sequence[events.DomainEvent] = ()) -> dict[int, Decision]:
    """Pick and record an owner for each contact, and notify them on commit (call inside a transaction).

    `exclude` maps a lead to the owner it must leave (rerouting); those leads publish
    lead.reassigned, the others lead.assigned. `contacts` (`_contacts(contact_ids)`, read in
    this transaction) saves the read; `events_before` are published ahead of the routing's
    own events, in the same statements.
    """
    if not contact_ids:
        publish_events(events=events_before)
        return {}
    router, people = _router(document, at)
    credits = {team: dict(team_credits) for team, team_credits in router.credits.items()}
    contacts = contacts if contacts is not None else _contacts(contact_ids)
    exclude = exclude or {}
    decisions = {pk: router.route(_lead(contact), exclude=[exclude[pk]] if pk in exclude else [])
                 for pk, contact in contacts.items()}
    lifecycle.save_rotations(credits=router.credits, at=at, unchanged=credits)
    assigned = [(pk, d.owner_id, d.rule, d.reason) for pk, d in decisions.items() if d.owner_id]
    open_clocks(assignments=lifecycle.assign_leads_by_rule(decisions=assigned, at=at), at=at, document=document,
                in_force=in_force, scores={pk: contact.score for pk, contact in contacts.items()}, owners=people)
    for pk, owner_id, *_ in assigned:
        contacts[pk].owner_id = owner_id  # as assign_leads_by_rule stored it
    publish_events(events=[*events_before, *(
        events.lead_event("lead.reassigned" if pk in exclude else "lead.assigned", lead=_lead_record(contacts[pk]),
                          by=events.actor(by, system="routing"), occurred_at=at, rule=rule, reason=reason,
                          previous_owner_id=exclude.get(pk))
        for pk, _, rule, reason in assigned)])
    stamp = int(at.timestamp() * 1000)
    for pk, decision in decisions.items():
        if decision.owner_id:
            _notify_owner(pk, decision, f"{pk}:{decision.owner_id}:{stamp}", contact=contacts[pk],
                          recipient=people.get(decision.owner_id))
        else:
            _notify_waiting(pk, decision, f"{pk}:{stamp}", kept_by=exclude.get(pk))
    return decisions


# -- sales' answer ------------------------------------------------------------------------------


def _latest_feedback(contact: Contact) -> LeadFeedback | None:
    return contact.feedback.order_by("-created_at", "-id").first()


@transaction.atomic
def accept_lead(*, contact: Contact, by: User) -> Contact:
    """Accept an MQL for sales (it becomes SAL); accepting it again is a no-op, not an error."""
    require(by, Action.GIVE_LEAD_FEEDBACK)
    contact.refresh_from_db(fields=["lifecycle_stage", "owner"])
    if contact.lifecycle_stage == S.SAL:
        last = _latest_feedback(contact)
        if last is not None and last.decision == LeadFeedback.Decision.ACCEPT and last.by_user_id == by.pk:
            return contact
    at = timezone.now()
    lifecycle.change_stage(contact=contact, to_stage=S.SAL, by=by, reason="Accepted by sales.", at=at)
    feedback = lifecycle.record_feedback(contact=contact, by=by, decision=LeadFeedback.Decision.ACCEPT, at=at)
    if contact.owner_id is None:
        assignment = lifecycle.assign_lead(contact=contact, owner=by, rule="accepted",
                                           reason="Took the lead by accepting it.", at=at)
        open_clocks(assignments=[assignment], at=at)
    _stage_changed(contact, at)
    sla.record_decision(contact_id=contact.pk, at=feedback.created_at)
    sla.count_verdict(feedback=feedback)
    _publish_lead_event("lead.accepted", contact_id=contact.pk, at=at, by=by)
    return contact


@transaction.atomic
def reject_lead(*, contact: Contact, by: User, reason: str, note: str = "") -> Contact:
    """Send a lead back: to nurture when it is not ready, disqualified when it never will be.

    The campaign's owner hears of it, so marketing learns what sales will not take.
    """
    require(by, Action.GIVE_LEAD_FEEDBACK)
    taxonomy = lifecycle.rejection_reason_for(code=reason, note=note)
    contact.refresh_from_db(fields=["lifecycle_stage", "owner", "original_campaign"])
    target = domain.stage_after_rejection(taxonomy.outcome)
    last = _latest_feedback(contact)
    if (contact.lifecycle_stage == target and last is not None and last.decision == LeadFeedback.Decision.REJECT
            and last.reason == reason and last.by_user_id == by.pk):
        return contact
    if contact.lifecycle_stage not in (S.MQL, S.SAL):
        raise Conflict(f"Only a lead awaiting or in sales can be rejected; this one is "
                       f"{S(contact.lifecycle_stage).label}.", field="reason")
    label = taxonomy.label
    at = timezone.now()
    lifecycle.change_stage(contact=contact, to_stage=target, by=by, at=at,
                           reason=f"Rejected by sales: {label}." + (f" {note.strip()}" if note.strip() else ""))
    feedback = lifecycle.record_feedback(contact=contact, by=by, decision=LeadFeedback.Decision.REJECT,
                                         reason=reason, note=note, at=at)
    sla.record_decision(contact_id=contact.pk, at=at)
    sla.count_verdict(feedback=feedback)
    # Disqualified closes the rest; nurture pauses them when the SLA says so, and if the lead
    # comes back its next assignment opens fresh clocks and closes these.
    _stage_changed(contact, at)
    _publish_lead_event("lead.rejected", contact_id=contact.pk, at=at, by=by, reason=reason,
                        reason_label=str(label), note=note.strip())
    campaign = contact.original_campaign
    if campaign is not None and campaign.owner_id and campaign.owner_id != by.pk:
        notify(recipient=campaign.owner, kind="lead_rejected",
               title=f"Sales rejected {contact} from {campaign}: {label}",
               body=note.strip(), url=reverse("quality-feedback-detail", args=[feedback.pk]),
               dedupe_key=f"lead-rejected:{feedback.pk}")
    return contact


@transaction.atomic
def log_activity(*, contact: Contact, by: User, kind: str, outcome: str = "", subject: str = "",
                 body: str = "", occurred_at: datetime | None = None, duration_minutes: int | None = None,
                 client_key: str = ""):
    """Log what the rep did with the lead; a resubmitted form or retried request logs it once.

    A call, email or meeting is a touch for the SLA clocks, counted once per activity logged.
    """
    activity, created = lifecycle.log_activity_once(
        by=by, contact=contact, kind=kind, outcome=outcome, subject=subject, body=body,
        occurred_at=occurred_at, duration_minutes=duration_minutes, client_key=client_key)
    if created and kind in TOUCHES:
        # Talking to the buyer ends the wait (a note to oneself does not); first, so the clocks
        # the touch meets are running, not frozen mid-pause.
        stop_waiting(contact=contact, by=by, reason=LeadWait.EndedBy.ACTIVITY, at=activity.occurred_at)
        sla.record_touch(contact_id=contact.pk, at=activity.occurred_at)
    return activity


@transaction.atomic
def convert_to_deal(*, contact: Contact, by: User, name: str = "", amount=None):
    """Open a deal for an accepted lead: SAL → SQL → opportunity, the contact in the deal as primary."""
    require(by, Action.EDIT_DEALS)
    contact.refresh_from_db(fields=["lifecycle_stage", "account", "original_campaign"])
    if contact.lifecycle_stage not in (S.SAL, S.SQL):
        raise Conflict(f"Accept the lead before opening a deal; it is {S(contact.lifecycle_stage).label}.",
                       field="stage")
    values = {"name": (name.strip() or f"{contact.account or contact} — new business")[:200]}
    if contact.account_id:
        values["account_id"] = contact.account_id
    if contact.original_campaign_id:
        values["source_campaign_id"] = contact.original_campaign_id
    if amount is not None:
        values["amount"] = amount
    deal = deals.create_deal(by=by, **values)
    # deals.services has no call to add a person to a deal yet; the row is what it would write.
    DealContact.objects.create(deal=deal, contact_id=contact.pk, role=DealContact.Role.OTHER, is_primary=True)
    at = timezone.now()
    if contact.lifecycle_stage == S.SAL:
        lifecycle.change_stage(contact=contact, to_stage=S.SQL, by=by, reason="Qualified by opening a deal.", at=at)
    lifecycle.change_stage(contact=contact, to_stage=S.OPPORTUNITY, by=by, reason=f"Deal opened: {deal.name}.", at=at)
    sla.close_clocks(contact_id=contact.pk, at=at, reason="converted")
    return deal


@transaction.atomic
def reassign_lead(*, contact: Contact, by: User, owner: User | None = None) -> Contact:
    """Give the lead to someone else: a named person, or (owner None) whoever the rules pick next."""
    require(by, Action.ASSIGN_LEADS)
    if owner is not None:
        contact.refresh_from_db(fields=["owner"])
        if contact.owner_id == owner.pk:
            return contact  # a retried request: the lead is already theirs
        previous = contact.owner_id
        assignment = lifecycle.assign_lead(contact=contact, owner=owner, by=by, reason=f"Reassigned by {by}.")
        open_clocks(assignments=[assignment], at=assignment.assigned_at)
        _publish_lead_event("lead.reassigned" if previous else "lead.assigned", contact_id=contact.pk,
                            at=assignment.assigned_at, by=by, rule=lifecycle.MANUAL, reason=assignment.reason,
                            previous_owner_id=previous)
        _notify_owner(contact.pk, Decision(owner.pk, lifecycle.MANUAL, f"{by} gave you this lead."),
                      f"{contact.pk}:{owner.pk}:{int(timezone.now().timestamp() * 1000)}")
        return contact
    document, _ = lifecycle.active_routing()
    previous = contact.owner_id
    # Keeping the current owner would make "reassign by rule" a no-op.
    decisions = route(contact_ids=[contact.pk], document=document.model_copy(update={"keep_existing_owner": False}),
                      at=timezone.now(), exclude={contact.pk: previous} if previous else None, by=by)
    if not decisions[contact.pk].owner_id:
        raise Conflict(decisions[contact.pk].reason, field="owner_id")
    contact.refresh_from_db(fields=["owner"])
    return contact


# -- waiting on the customer ----------------------------------------------------------------------

WAIT_NOTE_MAX = 500


def _is_waiting(contact_id: int) -> bool:
    return LeadWait.objects.filter(contact_id=contact_id, ended_at__isnull=True).exists()


@transaction.atomic
def mark_waiting(*, contact: Contact, by: User, note: str, at: datetime | None = None) -> LeadWait:
    """Mark a lead as waiting on the customer, pausing its SLA clocks if the SLA in force says so.

    Marking it again while it waits changes only the note: a retried request never opens a
    second wait.
    """
    require(by, Action.GIVE_LEAD_FEEDBACK)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("Say what the customer has to do, e.g. “reviewing the contract, back Monday”.",
                               field="note")
    if len(note) > WAIT_NOTE_MAX:
        raise ValidationFailed(f"Keep the note to {WAIT_NOTE_MAX} characters.", field="note")
    # Locked: two tabs marking the same lead at once must not both open a wait.
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.lifecycle_stage not in lifecycle_selectors.OPEN_STAGES:
        raise Conflict(f"Only a lead in sales' queue can wait on the customer; this one is "
                       f"{S(contact.lifecycle_stage).label}.", field="note")
    at = at or timezone.now()
    wait = LeadWait.objects.filter(contact=contact, ended_at__isnull=True).first()
    if wait is not None:
        if wait.note != note:
            wait.note = note
            wait.save(update_fields=["note"])
        return wait
    wait = LeadWait.objects.create(contact=contact, note=note, started_at=at, started_by=by)
    sla.lead_status_changed(contact_id=contact.pk, at=at, stage=contact.lifecycle_stage, waiting_on_customer=True)
    _publish_lead_event("lead.waiting", contact_id=contact.pk, at=at, by=by, note=note)
    return wait


@transaction.atomic
def stop_waiting(*, contact: Contact, by: User | None = None, reason: str = LeadWait.EndedBy.REP,
                 at: datetime | None = None) -> LeadWait | None:
    """End the lead's wait on the customer and resume its clocks; None when it was not waiting.

    The rep clears it, or it ends by itself when the customer gets in touch (the sweep sees a
    new touchpoint) or the rep logs a call, email or meeting.
    """
    if by is not None and reason == LeadWait.EndedBy.REP:
        require(by, Action.GIVE_LEAD_FEEDBACK)
    wait = LeadWait.objects.select_for_update().filter(contact_id=contact.pk, ended_at__isnull=True).first()
    if wait is None:
        return None
    at = max(at or timezone.now(), wait.started_at)
    wait.ended_at, wait.ended_by, wait.end_reason = at, by, reason
    wait.save(update_fields=["ended_at", "ended_by", "end_reason"])
    stage = Contact.objects.filter(pk=contact.pk).values_list("lifecycle_stage", flat=True).first()
    sla.lead_status_changed(contact_id=contact.pk, at=at, stage=stage, waiting_on_customer=False)
    _publish_lead_event("lead.resumed", contact_id=contact.pk, at=at, by=by,
                        system="touchpoint" if reason == LeadWait.EndedBy.TOUCHPOINT else "",
                        waited_since=wait.started_at.isoformat(), ended_by=reason)
    return wait


def _stop_waits_touched(touches: list[tuple[int, datetime, int | None]]) -> int:
    """End the waits of leads whose customer made a touchpoint after the wait began; return how many.

    One query finds them (the open waits are few, read through their partial unique index);
    each found wait then ends in its own transaction, at the touchpoint's time.
    """
    contact_ids = {contact for _, _, contact in touches if contact}
    if not contact_ids:
        return 0
    first_touch = (Touchpoint.objects.filter(contact=OuterRef("contact_id"), occurred_at__gt=OuterRef("started_at"))
                   .order_by("occurred_at").values("occurred_at")[:1])
    touched = list(LeadWait.objects.filter(contact_id__in=contact_ids, ended_at__isnull=True)
                   .annotate(touched_at=Subquery(first_touch)).filter(touched_at__isnull=False)
                   .values_list("contact_id", "touched_at"))
    for contact_id, touched_at in touched:
        stop_waiting(contact=Contact(pk=contact_id), reason=LeadWait.EndedBy.TOUCHPOINT, at=touched_at)
    return len(touched)


# -- the sweep ------------------------------------------------------------------------------------


def _cursor() -> SweepCursor:
    cursor, created = SweepCursor.objects.select_for_update().get_or_create(name="new-leads")
    if created:
        # A first sweep starts from now: the backlog is scored by `accord score rescore`,
        # and routing years of history to today's reps would flood them.
        cursor.last_contact_id = Contact.objects.aggregate(top=Max("pk"))["top"] or 0
        cursor.last_touchpoint_id = Touchpoint.objects.aggregate(top=Max("pk"))["top"] or 0
        cursor.save(update_fields=["last_contact_id", "last_touchpoint_id"])
    return cursor


def _safe_point(rows: list[tuple[int, datetime]], after: int, settled_before: datetime) -> int:
    """Return the id the cursor may move to: past every row read, up to the first still inside the lag."""
    point = after
    for pk, created in rows:
        if created > settled_before:
            break
        point = pk
    return point


def sweep_new_leads(*, now: datetime | None = None, progress: Progress = _quiet,
                    batch: int = SWEEP_BATCH) -> dict:
    """Evaluate contacts that are new or have new touchpoints since the last sweep; return counts."""
    now = now or timezone.now()
    settled_before = now - SWEEP_LAG
    totals = {"contacts_read": 0, "touchpoints_read": 0, "evaluated": 0, "mql": 0, "assigned": 0,
              "unassigned": 0, "resumed": 0}
    with transaction.atomic():
        cursor = _cursor()
        start_contact, start_touch = cursor.last_contact_id, cursor.last_touchpoint_id
    contact_after, touch_after = start_contact, start_touch
    while True:
        contacts = list(Contact.objects.filter(pk__gt=contact_after).order_by("pk")
                        .values_list("pk", "created_at")[:batch])
        touches = list(Touchpoint.objects.filter(pk__gt=touch_after).order_by("pk")
                       .values_list("pk", "created_at", "contact_id")[:batch])
        if not contacts and not touches:
            break
        ids = {pk for pk, _ in contacts} | {contact for _, _, contact in touches if contact}
        totals["resumed"] += _stop_waits_touched(touches)
        result = evaluate_leads(contact_ids=sorted(ids), at=now)
        totals["contacts_read"] += len(contacts)
        totals["touchpoints_read"] += len(touches)
        totals["evaluated"] += len(ids)
        for key in ("mql", "assigned", "unassigned"):
            totals[key] += result[key]
        progress(totals["contacts_read"] + totals["touchpoints_read"], 0,
                 f"Evaluated {totals['evaluated']:,} contacts")
        full = len(contacts) == batch or len(touches) == batch
        new_contact = _safe_point(contacts, contact_after, settled_before)
        new_touch = _safe_point([(pk, created) for pk, created, _ in touches], touch_after, settled_before)
        with transaction.atomic():
            cursor = _cursor()
            cursor.last_contact_id = max(cursor.last_contact_id, new_contact)
            cursor.last_touchpoint_id = max(cursor.last_touchpoint_id, new_touch)
            cursor.swept_at = now
            cursor.evaluated_total = F("evaluated_total") + len(ids)
            cursor.save(update_fields=["last_contact_id", "last_touchpoint_id", "swept_at", "evaluated_total"])
        # A row still inside the lag ends this sweep: the cursor must not pass it, and the
        # next sweep reads it (and what follows it) again once it has settled.
        settled = (not contacts or new_contact == contacts[-1][0]) and (not touches or new_touch == touches[-1][0])
        if not full or not settled:
            break
        contact_after, touch_after = new_contact, new_touch
    return totals


# -- breach reassignment --------------------------------------------------------------------------


def reassign_breached_leads(*, now: datetime | None = None, limit: int = 100) -> dict:
    """Route again every lead whose breached SLA clock asks for it (on_breach: alert_and_reassign).

    Each lead goes to whoever the rules pick next, never its current owner; the new owner gets
    the packet, the previous owner is told, and the new assignment's clocks replace the breached
    ones. With nobody free, the team's manager hears of it and the lead stays where it is.
    Idempotent: each request is cleared in the transaction that answers it.
    """
    now = now or timezone.now()
    by_lead: dict[int, list] = {}
    for clock in sla_selectors.clocks_awaiting_reassignment(limit=limit):
        by_lead.setdefault(clock.contact_id, []).append(clock)
    totals = {"leads": len(by_lead), "reassigned": 0, "unassigned": 0}
    if not by_lead:
        return totals
    document, _ = lifecycle.active_routing()
    document = document.model_copy(update={"keep_existing_owner": False})
    for contact_id, clocks in by_lead.items():
        with transaction.atomic():
            # Locked: a manager reassigning the lead by hand at the same moment waits, then is seen.
            contact = Contact.objects.select_for_update().get(pk=contact_id)
            previous = contact.owner_id
            decision = route(contact_ids=[contact_id], document=document, at=now,
                             exclude={contact_id: previous} if previous else None)[contact_id]
            for clock in clocks:
                sla.mark_reassigned(clock_id=clock.pk)
            if not decision.owner_id:
                totals["unassigned"] += 1
                continue
            totals["reassigned"] += 1
            if previous and previous != decision.owner_id:
                what = ", ".join(sorted(c.get_kind_display().lower() for c in clocks))
                notify(recipient=User.objects.get(pk=previous), kind="sla_breach",
                       title=f"{contact} went to someone else after an SLA breach",
                       body=f"The SLA was breached ({what}), and it says to route the lead again.",
                       url=_lead_url(contact_id), dedupe_key=f"lead-breach-moved:{clocks[0].pk}")
    return totals
