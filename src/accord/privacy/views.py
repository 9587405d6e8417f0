"""Pages for data-subject requests: download a contact's personal data, confirm and erase it."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accord.core.errors import AccordError, Conflict, NotFound
from accord.core.errors import PermissionDenied as Refused
from accord.core.permissions import Action, can
from accord.privacy import selectors, services
from accord.privacy.forms import ErasureForm


def export_response(pieces: Iterator[str], contact_id: int) -> StreamingHttpResponse:
    """Stream the export as a JSON file download."""
    response = StreamingHttpResponse((piece.encode() for piece in pieces),
                                     content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact_id}-personal-data.json"'
    # Personal data: no shared cache may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def personal_data_download(request, contact_id: int):
    try:
        pieces = services.export_personal_data(contact_id=contact_id, by=request.user)
    except Refused as error:
        raise PermissionDenied(error.message) from None
    except NotFound:
        raise Http404 from None
    return export_response(pieces, contact_id)


@login_required
@require_http_methods(["GET", "POST"])
def erase_page(request, contact_id: int):
    if not can(request.user, Action.ERASE_PERSONAL_DATA):
        raise PermissionDenied
    try:
        contact = selectors.contact_for_request(user=request.user, contact_id=contact_id)
    except NotFound:
        raise Http404 from None
    form = ErasureForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.erase_contact(contact_id=contact.pk, by=request.user, reason=form.cleaned_data["reason"],
                                       confirm=form.cleaned_data["confirm"])
            except Conflict as error:
                status = 409
                form.add_error(None, error.message)
            except AccordError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, f"Erased the personal data of contact {contact.pk}.")
                return redirect("contact", contact_id=contact.pk)
    erasure = selectors.erasure_of(contact_id=contact.pk)
    return render(request, "privacy/erase.html", {"contact": contact, "erasure": erasure, "form": form},
                  status=status)
