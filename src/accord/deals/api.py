"""Endpoints for deals and the pipelines they move through."""

from ninja import Path, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from accord.accounts.schemas import MAX_ID, Page
from accord.deals import selectors, services
from accord.deals.schemas import DealFilters, DealIn, DealOut, DealPatch, PipelineOut

router = Router(tags=["deals"])

_ID = {"ge": 1, "le": MAX_ID}


@router.get("/pipelines", response=list[PipelineOut], tags=["pipelines"])
def list_pipelines(request):
    """List pipelines with their stages in order, to find the ids deals refer to."""
    return selectors.pipelines_with_stages(user=request.user)


@router.get("/deals", response=list[DealOut])
@paginate(Page)
def list_deals(request, filters: Query[DealFilters]):
    """List the deals you can see, newest first."""
    return selectors.deal_list(user=request.user, **filters.model_dump())


@router.post("/deals", response={201: DealOut})
def create_deal(request, payload: DealIn):
    """Create a deal; its status follows the stage's outcome."""
    deal = services.create_deal(by=request.user, **payload.model_dump(exclude_unset=True))
    return Status(201, deal)


@router.get("/deals/{deal_id}", response=DealOut)
def get_deal(request, deal_id: int = Path(..., **_ID)):
    """Show one deal."""
    return selectors.deal_for(user=request.user, deal_id=deal_id)


@router.patch("/deals/{deal_id}", response=DealOut)
def update_deal(request, payload: DealPatch, deal_id: int = Path(..., **_ID)):
    """Change the fields sent; a new stage_id moves the deal and is recorded in its history."""
    deal = selectors.deal_for(user=request.user, deal_id=deal_id)
    return services.update_deal(
        deal=deal, by=request.user, changes=payload.model_dump(exclude_unset=True)
    )
