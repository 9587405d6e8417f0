"""Pages for the handoff: the rep's queue ("My leads"), one lead with its packet, and routing.

Thin: every lead comes from a scoped selector, every change goes through handoff or
lifecycle services. The queue's buttons post with htmx and swap just their row; without
JavaScript the same forms post and redirect back.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST

from accord.accounts.selectors import assignable_owners
from accord.collaboration.selectors import comments_on_many
from accord.core.errors import AccordError, NotFound
from accord.core.permissions import Action, Role, can
from accord.core.yamldoc import InvalidDocument
from accord.handoff import selectors, services
from accord.handoff.forms import (
    ActivityForm,
    ConvertForm,
    ReassignForm,
    RejectForm,
    ReplyForm,
    RoutingForm,
    StageForm,
    WaitForm,
)
from accord.lifecycle import domain
from accord.lifecycle import selectors as lifecycle_selectors
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import LeadFeedback
from accord.lifecycle.selectors import QUEUE_VIEWS
from accord.sla import selectors as sla_selectors

PAGE_SIZE = 50
VIEW_LABELS = {"new": "New MQLs", "working": "Accepted", "all": "All open",
               selectors.WAITING_VIEW: "Waiting on customer"}


def _paused_note(lead) -> str:
    """Say why a waiting lead's clocks stand still, for its countdowns ("" when it is not waiting)."""
    since = getattr(lead, "waiting_since", None)
    return f"waiting on customer since {date_format(localtime(since), 'j M H:i')}" if since else ""


def _with_clocks(request, leads) -> list:
    """Attach each lead's open SLA clocks (`lead.clocks`) for its countdowns, in one query."""
    leads = list(leads)
    clocks = sla_selectors.clocks_for(contact_ids=[lead.pk for lead in leads], visible_to=request.user)
    for lead in leads:
        lead.clocks = clocks.get(lead.pk, [])
        lead.paused_note = _paused_note(lead)
    return leads


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def _lead(request, contact_id: int):
    try:
        return selectors.lead_for(user=request.user, contact_id=contact_id)
    except NotFound as error:
        raise Http404(error.message) from None


# -- the queue ------------------------------------------------------------------------------------


@login_required
def queue(request):
    if not can(request.user, Action.VIEW_RECORDS):
        raise PermissionDenied
    view = request.GET.get("view", "new")
    view = view if view in QUEUE_VIEWS or view == selectors.WAITING_VIEW else "new"
    leads = selectors.lead_queue(user=request.user, view=view)
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_clocks(request, page.object_list)
    context = {
        "page_obj": page, "view": view, "views": VIEW_LABELS, **_row_context(request),
        "hx_target": "#results", "results_template": "handoff/_queue_results.html",
    }
    template = "handoff/_queue_results.html" if _htmx(request) else "handoff/queue.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _row_context(request) -> dict:
    """Return what every queue row needs besides its lead: who sees what, which buttons show."""
    return {"shows_owner": request.user.role != Role.SALES_REP,
            "may_judge": can(request.user, Action.GIVE_LEAD_FEEDBACK),
            "may_convert": can(request.user, Action.EDIT_DEALS)}


# The queue's dialogs, loaded for one lead when its button is pressed: rendered into every row,
# their forms, reasons and help made a 50-row page weigh about 250 KB.
DIALOGS = {
    "reject": lambda user, lead: can(user, Action.GIVE_LEAD_FEEDBACK) and lead.lifecycle_stage == "mql",
    "wait": lambda user, lead: can(user, Action.GIVE_LEAD_FEEDBACK),
    "activity": lambda user, lead: lead.lifecycle_stage in {"sal", "sql"},
}


@login_required
def lead_dialog(request, contact_id: int, kind: str):
    """Answer one queue row's dialog (reject, wait or log an activity) for htmx to open."""
    lead = _lead(request, contact_id)
    offered = DIALOGS.get(kind)
    if offered is None:
        raise Http404(f"No {kind} dialog.")
    if not offered(request.user, lead):
        raise PermissionDenied
    context = {"lead": lead, "kind": kind, "next": request.GET.get("next", reverse("leads"))}
    if kind == "reject":
        context["reject_form"] = RejectForm()
    elif kind == "wait":
        context["wait_form"] = WaitForm()
    else:
        context["activity_form"] = ActivityForm()
    return render(request, "handoff/_queue_dialog.html", context)


def _answer(request, contact, *, done: str = "", error: str = ""):
    """Answer an action: the row again for htmx, else a redirect to where the action came from."""
    if _htmx(request):
        contact = _with_clocks(request, [selectors.lead_row(user=request.user, contact_id=contact.pk)])[0]
        context = {"lead": contact, "done": done, "error": error, **_row_context(request)}
        return render(request, "handoff/_queue_row.html", context)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("lead", args=[contact.pk]))


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ").capitalize() if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return "Check the form."


@login_required
@require_POST
def accept(request, contact_id: int):
    contact = _lead(request, contact_id)
    try:
        services.accept_lead(contact=contact, by=request.user)
    except AccordError as error:
        return _answer(request, contact, error=error.message)
    return _answer(request, contact, done=f"Accepted {contact}.")


@login_required
@require_POST
def reject(request, contact_id: int):
    contact = _lead(request, contact_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _answer(request, contact, error=_first_error(form))
    try:
        services.reject_lead(contact=contact, by=request.user, **form.cleaned_data)
    except AccordError as error:
        return _answer(request, contact, error=error.message)
    return _answer(request, contact, done=f"Rejected {contact}: {dict(form.fields['reason'].choices)[form.cleaned_data['reason']]}.")


@login_required
@require_POST
def log_activity(request, contact_id: int):
    contact = _lead(request, contact_id)
    form = ActivityForm(request.POST)
    if not form.is_valid():
        return _answer(request, contact, error=_first_error(form))
    try:
        services.log_activity(contact=contact, by=request.user, **form.cleaned_data)
    except AccordError as error:
        return _answer(request, contact, error=error.message)
    return _answer(request, contact, done=f"Logged a {form.cleaned_data['kind']} with {contact}.")


@login_required
@require_POST
def wait(request, contact_id: int):
    contact = _lead(request, contact_id)
    form = WaitForm(request.POST)
    if not form.is_valid():
        return _answer(request, contact, error=_first_error(form))
    try:
        services.mark_waiting(contact=contact, by=request.user, note=form.cleaned_data["note"])
    except AccordError as error:
        return _answer(request, contact, error=error.message)
    return _answer(request, contact, done=f"{contact} is waiting on the customer.")


@login_required
@require_POST
def stop_waiting(request, contact_id: int):
    contact = _lead(request, contact_id)
    try:
        ended = services.stop_waiting(contact=contact, by=request.user)
    except AccordError as error:
        return _answer(request, contact, error=error.message)
    return _answer(request, contact, done=f"{contact} is no longer waiting; its clocks run again."
                   if ended else f"{contact} was not waiting.")


@login_required
@require_POST
def convert(request, contact_id: int):
    contact = _lead(request, contact_id)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        return _answer(request, contact, error=_first_error(form))
    try:
        deal = services.convert_to_deal(contact=contact, by=request.user, **form.cleaned_data)
    except AccordError as error:
        return _answer(request, contact, error=error.message)
    url = reverse("deal", args=[deal.pk])
    if _htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    messages.success(request, f"Opened the deal {deal.name}.")
    return redirect(url)


@login_required
@require_POST
def reassign(request, contact_id: int):
    contact = _lead(request, contact_id)
    form = ReassignForm(request.POST, owners=assignable_owners(user=request.user))
    if not form.is_valid():
        return _answer(request, contact, error=_first_error(form))
    choice = form.cleaned_data["owner"]
    try:
        owner = None if choice == "rule" else assignable_owners(user=request.user).get(pk=int(choice))
        services.reassign_lead(contact=contact, by=request.user, owner=owner)
    except AccordError as error:
        return _answer(request, contact, error=error.message)
    contact.refresh_from_db(fields=["owner"])
    return _answer(request, contact, done=f"{contact} now belongs to {contact.owner}.")


@login_required
@require_POST
def change_stage(request, contact_id: int):
    contact = _lead(request, contact_id)
    form = StageForm(request.POST, stages=domain.next_stages(contact.lifecycle_stage))
    if not form.is_valid():
        return _answer(request, contact, error=_first_error(form))
    try:
        services.change_stage(contact=contact, by=request.user, to_stage=form.cleaned_data["to_stage"],
                              reason=form.cleaned_data["reason"])
    except AccordError as error:
        return _answer(request, contact, error=error.message)
    return _answer(request, contact, done=f"{contact} is now {contact.get_lifecycle_stage_display()}.")


# -- one lead -------------------------------------------------------------------------------------


@login_required
def lead_detail(request, contact_id: int):
    contact = _lead(request, contact_id)
    packet = selectors.handoff_packet(contact=contact)
    entries = lifecycle_selectors.stage_entry_dates(contact_ids=[contact.pk])[contact.pk]
    user = request.user
    row = selectors.lead_row(user=user, contact_id=contact.pk)
    context = {
        "lead": contact, "packet": packet, "explanation": packet.explanation,
        "entries": sorted(entries.items(), key=lambda item: item[1]),
        "history": lifecycle_selectors.stage_history(contact=contact)[:50],
        "assignments": lifecycle_selectors.assignment_history(contact=contact)[:20],
        "activities": contact.activities.select_related("user")[:20],
        "feedback": _feedback_threads(user, contact),
        "row": row, "paused_note": _paused_note(row),
        "waits": selectors.waits_of(contact=contact), "wait_form": WaitForm(),
        "open_stages": lifecycle_selectors.OPEN_STAGES,
        "clocks": sla_selectors.clocks_for(contact_ids=[contact.pk], visible_to=user).get(contact.pk, []),
        "handover": sla_selectors.latest_handover(contact_id=contact.pk),
        "reject_form": RejectForm(), "activity_form": ActivityForm(), "convert_form": ConvertForm(),
        "stage_form": StageForm(stages=domain.next_stages(contact.lifecycle_stage))
        if can(user, Action.EDIT_CONTACTS) else None,
        "reassign_form": ReassignForm(owners=assignable_owners(user=user)) if can(user, Action.ASSIGN_LEADS) else None,
        "may_judge": can(user, Action.GIVE_LEAD_FEEDBACK), "may_convert": can(user, Action.EDIT_DEALS),
        "may_log": can(user, Action.EDIT_CONTACTS),
        "reply_form": ReplyForm(), "may_reply": can(user, Action.COMMENT),
    }
    return render(request, "handoff/lead.html", context)


def _feedback_threads(user, contact) -> list:
    """Return the lead's latest feedback with reason labels; each the viewer may read carries its thread."""
    feedback = list(lifecycle_selectors.with_reason_label(contact.feedback.select_related("by_user"))[:10])
    readable = set(lifecycle_selectors.feedback_visible_to(user=user).filter(pk__in=[f.pk for f in feedback])
                   .values_list("pk", flat=True))
    threads = comments_on_many(model=LeadFeedback, ids=list(readable))
    for item in feedback:
        item.thread = threads.get(item.pk, []) if item.pk in readable else None
    return feedback


# -- routing ------------------------------------------------------------------------------------------


@login_required
def routing(request):
    if not can(request.user, Action.ASSIGN_LEADS):
        raise PermissionDenied
    errors = []
    if request.method == "POST" and "activate" in request.POST:
        try:
            config = lifecycle.activate_routing(version=int(request.POST["activate"]), by=request.user)
        except (AccordError, ValueError) as error:
            messages.error(request, getattr(error, "message", "Choose a version to activate."))
        else:
            messages.success(request, f"Routing v{config.version} is active again.")
        return redirect("routing")
    if request.method == "POST":
        form = RoutingForm(request.POST)
        if form.is_valid():
            try:
                config = lifecycle.publish_routing(source=form.cleaned_data["source"], by=request.user)
            except InvalidDocument as error:
                errors = error.errors
            else:
                messages.success(request, f"Routing v{config.version} is published and active.")
                return redirect("routing")
    else:
        lifecycle.active_routing()
        active = lifecycle_selectors.active_routing_config()
        form = RoutingForm(initial={"source": active.source})
    context = {"form": form, "errors": errors, "versions": lifecycle_selectors.routing_versions()[:50],
               "active": lifecycle_selectors.active_routing_config()}
    return render(request, "handoff/routing.html", context, status=422 if errors else 200)
