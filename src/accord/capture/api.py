"""Endpoints for accounts (companies), contacts and campaigns."""

from django.http import HttpResponse
from ninja import Path, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from accord.accounts.schemas import MAX_ID, Page
from accord.capture import selectors, services
from accord.capture.events_api import IdempotencyKey
from accord.capture.schemas import (
    AccountFilters,
    AccountIn,
    AccountOut,
    AccountPatch,
    CampaignFilters,
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    ContactFilters,
    ContactIn,
    ContactOut,
    ContactPatch,
    CostFilters,
    CostIn,
    CostOut,
    CostPatch,
)

router = Router(tags=["capture"])

_ID = {"ge": 1, "le": MAX_ID}


# Accounts -------------------------------------------------------------------------------


@router.get("/accounts", response=list[AccountOut], tags=["accounts"])
@paginate(Page)
def list_accounts(request, filters: Query[AccountFilters]):
    """List the companies you can see, by name."""
    return selectors.account_list(user=request.user, **filters.model_dump())


@router.post("/accounts", response={201: AccountOut}, tags=["accounts"])
def create_account(request, payload: AccountIn):
    """Create a company."""
    account = services.create_account(by=request.user, **payload.model_dump(exclude_unset=True))
    return Status(201, account)


@router.get("/accounts/{account_id}", response=AccountOut, tags=["accounts"])
def get_account(request, account_id: int = Path(..., **_ID)):
    """Show one company."""
    return selectors.account_for(user=request.user, account_id=account_id)


@router.patch("/accounts/{account_id}", response=AccountOut, tags=["accounts"])
def update_account(request, payload: AccountPatch, account_id: int = Path(..., **_ID)):
    """Change the fields sent; the others stay as they are."""
    account = selectors.account_for(user=request.user, account_id=account_id)
    return services.update_account(
        account=account, by=request.user, changes=payload.model_dump(exclude_unset=True)
    )


# Contacts -------------------------------------------------------------------------------


@router.get("/contacts", response=list[ContactOut], tags=["contacts"])
@paginate(Page)
def list_contacts(request, filters: Query[ContactFilters]):
    """List the contacts you can see, newest first."""
    return selectors.contact_list(user=request.user, **filters.model_dump())


@router.post("/contacts", response={201: ContactOut}, tags=["contacts"])
def create_contact(request, payload: ContactIn):
    """Create a contact as a lead; its email must not belong to another contact."""
    contact = services.create_contact(by=request.user, **payload.model_dump(exclude_unset=True))
    return Status(201, contact)


@router.get("/contacts/{contact_id}", response=ContactOut, tags=["contacts"])
def get_contact(request, contact_id: int = Path(..., **_ID)):
    """Show one contact."""
    return selectors.contact_for(user=request.user, contact_id=contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut, tags=["contacts"])
def update_contact(request, payload: ContactPatch, contact_id: int = Path(..., **_ID)):
    """Change the fields sent; the lifecycle stage is not among them."""
    contact = selectors.contact_for(user=request.user, contact_id=contact_id)
    return services.update_contact(
        contact=contact, by=request.user, changes=payload.model_dump(exclude_unset=True)
    )


# Campaigns ------------------------------------------------------------------------------


@router.get("/campaigns", response=list[CampaignOut], tags=["campaigns"])
@paginate(Page)
def list_campaigns(request, filters: Query[CampaignFilters]):
    """List campaigns, latest start first."""
    return selectors.campaign_list(user=request.user, **filters.model_dump())


@router.post("/campaigns", response={201: CampaignOut}, tags=["campaigns"])
def create_campaign(request, payload: CampaignIn):
    """Create a campaign."""
    campaign = services.create_campaign(by=request.user, **payload.model_dump(exclude_unset=True))
    return Status(201, campaign)


@router.get("/campaigns/{campaign_id}", response=CampaignOut, tags=["campaigns"])
def get_campaign(request, campaign_id: int = Path(..., **_ID)):
    """Show one campaign."""
    return selectors.campaign_for(user=request.user, campaign_id=campaign_id)


@router.patch("/campaigns/{campaign_id}", response=CampaignOut, tags=["campaigns"])
def update_campaign(request, payload: CampaignPatch, campaign_id: int = Path(..., **_ID)):
    """Change the fields sent; the others stay as they are."""
    campaign = selectors.campaign_for(user=request.user, campaign_id=campaign_id)
    return services.update_campaign(
        campaign=campaign, by=request.user, changes=payload.model_dump(exclude_unset=True)
    )


# Cost entries ---------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}/costs", response=list[CostOut], tags=["campaigns"])
@paginate(Page)
def list_costs(request, filters: Query[CostFilters], campaign_id: int = Path(..., **_ID)):
    """List a campaign's cost entries, latest day first."""
    return selectors.cost_list(user=request.user, campaign_id=campaign_id, **filters.model_dump())


@router.post("/campaigns/{campaign_id}/costs", response={201: CostOut}, tags=["campaigns"])
def create_cost(
    request,
    response: HttpResponse,
    payload: CostIn,
    campaign_id: int = Path(..., **_ID),
    idempotency_key: str | None = IdempotencyKey,
):
    """Record a day's (or a month's) spend; a retry with the same Idempotency-Key records nothing twice."""
    campaign = selectors.campaign_for(user=request.user, campaign_id=campaign_id)
    body, replayed = services.record_cost_once(
        idempotency_key=idempotency_key or None,
        request_hash=services.request_digest(path=request.path, body=request.body),
        render=lambda cost: CostOut.from_orm(cost).model_dump(mode="json"),
        campaign=campaign,
        by=request.user,
        **payload.model_dump(),
    )
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, body)


@router.get("/campaigns/{campaign_id}/costs/{cost_id}", response=CostOut, tags=["campaigns"])
def get_cost(request, campaign_id: int = Path(..., **_ID), cost_id: int = Path(..., **_ID)):
    """Show one cost entry."""
    return selectors.cost_for(user=request.user, campaign_id=campaign_id, cost_id=cost_id)


@router.patch("/campaigns/{campaign_id}/costs/{cost_id}", response=CostOut, tags=["campaigns"])
def update_cost(
    request, payload: CostPatch, campaign_id: int = Path(..., **_ID), cost_id: int = Path(..., **_ID)
):
    """Change the fields sent; the others stay as they are."""
    cost = selectors.cost_for(user=request.user, campaign_id=campaign_id, cost_id=cost_id)
    return services.update_cost(cost=cost, by=request.user, changes=payload.model_dump(exclude_unset=True))


@router.delete("/campaigns/{campaign_id}/costs/{cost_id}", response={204: None}, tags=["campaigns"])
def delete_cost(request, campaign_id: int = Path(..., **_ID), cost_id: int = Path(..., **_ID)):
    """Delete a cost entry."""
    cost = selectors.cost_for(user=request.user, campaign_id=campaign_id, cost_id=cost_id)
    services.delete_cost(cost=cost, by=request.user)
    return Status(204, None)
