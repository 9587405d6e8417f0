"""Endpoints for data-subject requests: a contact's personal data as JSON, and its erasure."""

from django.http import StreamingHttpResponse
from ninja import Path, Router

from accord.accounts.schemas import MAX_ID
from accord.privacy import services
from accord.privacy.schemas import ErasureIn, ErasureOut
from accord.privacy.views import export_response

router = Router(tags=["privacy"])
_ID = {"ge": 1, "le": MAX_ID}


@router.get("/contacts/{contact_id}/personal-data", response={200: None}, openapi_extra={
    "responses": {200: {"description": "Everything held on the contact (docs/privacy.md).",
                        "content": {"application/json": {}}}}
})
def personal_data(request, contact_id: int = Path(..., **_ID)) -> StreamingHttpResponse:
    """Download everything Accord holds on one contact as one JSON document (right of access)."""
    return export_response(services.export_personal_data(contact_id=contact_id, by=request.user), contact_id)


@router.post("/contacts/{contact_id}/erase", response=ErasureOut)
def erase(request, payload: ErasureIn, contact_id: int = Path(..., **_ID)):
    """Erase a contact's personal data by anonymising it in place; 409 when already erased."""
    return services.erase_contact(contact_id=contact_id, by=request.user, reason=payload.reason,
                                  confirm=payload.confirm)
