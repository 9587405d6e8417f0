"""Endpoints for leads: the queue, stage moves (409 when the stage machine refuses), sales' actions."""

from dataclasses import asdict

from ninja import Header, Path, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from accord.accounts.schemas import MAX_ID, Page
from accord.accounts.selectors import owner_for_assignment
from accord.handoff import selectors, services
from accord.handoff.schemas import (
    ActivityIn,
    ActivityOut,
    AssignIn,
    ConvertIn,
    ConvertOut,
    LeadDetailOut,
    LeadOut,
    QueueFilters,
    RejectIn,
    StageIn,
    TransitionOut,
    WaitIn,
)
from accord.lifecycle import selectors as lifecycle_selectors

router = Router(tags=["leads"])

_ID = {"ge": 1, "le": MAX_ID}
IdempotencyKey = Header(
    None, alias="Idempotency-Key", max_length=100,
    description="Send the same key when retrying: the activity is logged once.",
)


def _lead_out(request, contact_id: int):
    return selectors.lead_row(user=request.user, contact_id=contact_id)


@router.get("/leads", response=list[LeadOut])
@paginate(Page)
def list_leads(request, filters: Query[QueueFilters]):
    """List your open leads (a manager: the team's and the unassigned), most urgent first."""
    return selectors.lead_queue(user=request.user, view=filters.view)


@router.get("/leads/{contact_id}", response=LeadDetailOut)
def get_lead(request, contact_id: int = Path(..., **_ID)):
    """Show one lead with its score explained and the date it entered each stage."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    lead = _lead_out(request, contact.pk)
    lead.explanation = asdict(selectors.score_explanation(contact=contact))
    lead.stage_entered_at = lifecycle_selectors.stage_entry_dates(contact_ids=[contact.pk])[contact.pk]
    return lead


@router.get("/leads/{contact_id}/transitions", response=list[TransitionOut])
def list_transitions(request, contact_id: int = Path(..., **_ID)):
    """List every stage move of the lead, newest first, with who or which rule made it and why."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    return list(lifecycle_selectors.stage_history(contact=contact)[:500])


@router.post("/leads/{contact_id}/stage", response=LeadOut)
def change_stage(request, payload: StageIn, contact_id: int = Path(..., **_ID)):
    """Move the lead to another stage; 409 with the reason when the move is not allowed to you."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    services.change_stage(contact=contact, to_stage=payload.to_stage, by=request.user, reason=payload.reason)
    return _lead_out(request, contact.pk)


@router.post("/leads/{contact_id}/accept", response=LeadOut)
def accept_lead(request, contact_id: int = Path(..., **_ID)):
    """Accept an MQL for sales (it becomes SAL). Accepting it again changes nothing."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    services.accept_lead(contact=contact, by=request.user)
    return _lead_out(request, contact.pk)


@router.post("/leads/{contact_id}/reject", response=LeadOut)
def reject_lead(request, payload: RejectIn, contact_id: int = Path(..., **_ID)):
    """Reject a lead with a reason: not-now reasons go to nurture, the rest are disqualified."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    services.reject_lead(contact=contact, by=request.user, reason=payload.reason, note=payload.note)
    return _lead_out(request, contact.pk)


@router.post("/leads/{contact_id}/waiting", response=LeadOut)
def mark_waiting(request, payload: WaitIn, contact_id: int = Path(..., **_ID)):
    """Mark the lead as waiting on the customer; its SLA clocks pause if the SLA says so. Again: updates the note."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    services.mark_waiting(contact=contact, by=request.user, note=payload.note)
    return _lead_out(request, contact.pk)


@router.delete("/leads/{contact_id}/waiting", response=LeadOut)
def stop_waiting(request, contact_id: int = Path(..., **_ID)):
    """Stop waiting on the customer and resume the SLA clocks; a lead that was not waiting is answered unchanged."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    services.stop_waiting(contact=contact, by=request.user)
    return _lead_out(request, contact.pk)


@router.post("/leads/{contact_id}/assign", response=LeadOut)
def assign_lead(request, payload: AssignIn, contact_id: int = Path(..., **_ID)):
    """Give the lead to someone (owner_id), or to whoever the routing rules pick next (null)."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    owner = None
    if payload.owner_id is not None:
        owner = owner_for_assignment(user=request.user, owner_id=payload.owner_id)
    services.reassign_lead(contact=contact, by=request.user, owner=owner)
    return _lead_out(request, contact.pk)


@router.post("/leads/{contact_id}/activities", response={201: ActivityOut})
def log_activity(request, payload: ActivityIn, contact_id: int = Path(..., **_ID),
                 idempotency_key: str | None = IdempotencyKey):
    """Log a call, email, meeting or note with the lead."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    activity = services.log_activity(contact=contact, by=request.user, client_key=idempotency_key or "",
                                     **payload.model_dump())
    return Status(201, activity)


@router.get("/leads/{contact_id}/activities", response=list[ActivityOut])
def list_activities(request, contact_id: int = Path(..., **_ID)):
    """List the lead's activities, newest first."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    return list(contact.activities.select_related("user")[:200])


@router.post("/leads/{contact_id}/convert", response={201: ConvertOut})
def convert_lead(request, payload: ConvertIn, contact_id: int = Path(..., **_ID)):
    """Open a deal for an accepted lead; the lead becomes an opportunity."""
    contact = selectors.lead_for(user=request.user, contact_id=contact_id)
    deal = services.convert_to_deal(contact=contact, by=request.user, name=payload.name, amount=payload.amount)
    return Status(201, {"deal_id": deal.pk, "lead": _lead_out(request, contact.pk)})
