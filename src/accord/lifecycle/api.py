"""Endpoints for the rejection taxonomy: every signed-in user reads it, its editors change it."""

from ninja import Path, Query, Router, Schema
from ninja.responses import Status

from accord.core.errors import NotFound
from accord.lifecycle import selectors, services
from accord.lifecycle.models import RejectionReason
from accord.lifecycle.schemas import (
    ReasonOrderIn,
    RejectionReasonIn,
    RejectionReasonOut,
    RejectionReasonUpdate,
)

router = Router(tags=["rejection reasons"])
_CODE = {"max_length": 32}


class ReasonFilters(Schema):
    include_retired: bool = False


def _reason(code: str) -> RejectionReason:
    reason = selectors.rejection_reason(code=code)
    if reason is None:
        raise NotFound(f"No rejection reason {code!r}.")
    return reason


@router.get("/rejection-reasons", response=list[RejectionReasonOut])
def list_reasons(request, filters: Query[ReasonFilters]):
    """List the reasons sales may reject a lead with, in order; retired ones too when asked."""
    return list(selectors.rejection_reasons(include_retired=filters.include_retired))


@router.post("/rejection-reasons", response={201: RejectionReasonOut})
def create_reason(request, payload: RejectionReasonIn):
    """Add a reason at the end of the list (revenue ops, marketing, sales managers)."""
    return Status(201, services.create_rejection_reason(by=request.user, **payload.model_dump()))


@router.put("/rejection-reasons/order", response=list[RejectionReasonOut])
def reorder_reasons(request, payload: ReasonOrderIn):
    """Set the order of the active reasons."""
    return services.reorder_rejection_reasons(by=request.user, codes=payload.codes)


@router.patch("/rejection-reasons/{code}", response=RejectionReasonOut)
def update_reason(request, payload: RejectionReasonUpdate, code: str = Path(..., **_CODE)):
    """Change a reason's label, help, outcome or note rule; its code never changes."""
    return services.update_rejection_reason(by=request.user, reason=_reason(code), **payload.model_dump())


@router.post("/rejection-reasons/{code}/retire", response=RejectionReasonOut)
def retire_reason(request, code: str = Path(..., **_CODE)):
    """Stop offering a reason for new rejections; feedback that used it keeps it."""
    return services.retire_rejection_reason(by=request.user, reason=_reason(code))


@router.post("/rejection-reasons/{code}/restore", response=RejectionReasonOut)
def restore_reason(request, code: str = Path(..., **_CODE)):
    """Offer a retired reason again, at the end of the list."""
    return services.restore_rejection_reason(by=request.user, reason=_reason(code))
