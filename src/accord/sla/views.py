"""The SLA page: the agreement in force, its versions and their differences, and publishing a new one."""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from accord.core.permissions import Action, can
from accord.core.yamldoc import InvalidDocument
from accord.sla import selectors, services
from accord.sla.document import SlaDocument
from accord.sla.forms import PublishForm


def _diff(older, newer) -> list[tuple[str, str]]:
    """Return the unified diff of two versions' sources as (css class, line) pairs."""
    lines = difflib.unified_diff(
        older.source.splitlines() if older else [], newer.source.splitlines(),
        fromfile=f"v{older.version}" if older else "(none)", tofile=f"v{newer.version}", lineterm="",
    )
    kinds = {"+": "diff-add", "-": "diff-del", "@": "diff-hunk"}
    return [(kinds.get(line[:1], ""), line) for line in lines]


@login_required
def sla_page(request):
    in_force, document = services.sla_in_force()
    may_edit = can(request.user, Action.EDIT_SLA)
    form = PublishForm(request.POST or None, initial={"source": in_force.source})
    errors: list = []
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                version = services.publish_sla_version(
                    source=form.cleaned_data["source"], by=request.user, note=form.cleaned_data["note"]
                )
            except InvalidDocument as error:
                errors = error.errors
            else:
                messages.success(request, f"SLA v{version.version} is in force. New clocks run on it; "
                                          "running clocks keep the version they started under.")
                return redirect("sla")
        status = 422
    return render(request, "sla/page.html", {
        "version": in_force, "document": document, "versions": selectors.versions(),
        "form": form, "errors": errors, "may_edit": may_edit,
        "tiers": sorted(document.sales.first_touch_hours.items(), key=lambda item: item[1]),
        "warn_percent": round(document.warn_at * 100),
        "running": selectors.running_clocks(visible_to=request.user),
    }, status=status)


@login_required
def sla_version(request, number: int):
    chosen = selectors.version(number=number)
    if chosen is None:
        raise Http404
    previous = selectors.version(number=number - 1)
    return render(request, "sla/version.html", {
        "version": chosen, "previous": previous, "diff": _diff(previous, chosen),
        "document": SlaDocument.model_validate(chosen.document),
    })
