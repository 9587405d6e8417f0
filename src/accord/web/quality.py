"""The closed loop's pages: lead quality by origin, the feedback behind each number with its thread,
and the rejection-reason settings.

Thin: numbers come from analytics.quality, feedback through lifecycle's scoped selectors, every
change through lifecycle or collaboration services.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accord.analytics import quality
from accord.collaboration import selectors as collaboration_selectors
from accord.collaboration import services as collaboration
from accord.core.errors import AccordError, NotFound
from accord.core.permissions import Action, can
from accord.handoff.forms import ReplyForm
from accord.lifecycle import selectors as lifecycle_selectors
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import LeadFeedback, RejectionReason

FEEDBACK_PAGE = 25
HANDOVER_PAGE = 50
DEFAULT_DAYS = 90
CHART_ROWS = 12
CHART_REASONS = 6


class PeriodForm(forms.Form):
    dimension = forms.ChoiceField(choices=list(quality.DIMENSIONS.items()), required=False, label="By")
    start = forms.DateField(required=False, label="Handed over from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="to", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["dimension"] = data.get("dimension") or "campaign"
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"] - dt.timedelta(days=DEFAULT_DAYS - 1)
        if data["start"] > data["end"]:
            raise forms.ValidationError("The period starts after it ends.")
        return data


class DrillDownForm(PeriodForm):
    """The period and the one row of the report a list opens (its dimension and value, hidden)."""

    value = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimension"].widget = forms.HiddenInput()

    def clean_value(self):
        value = self.cleaned_data.get("value")
        if value and self.data.get("dimension") == "campaign" and not value.isdigit():
            raise forms.ValidationError("A campaign is named by its number.")
        return value


class FeedbackFilterForm(DrillDownForm):
    decision = forms.ChoiceField(choices=[("", "Any verdict"), *LeadFeedback.Decision.choices], required=False,
                                 label="Verdict")
    reason = forms.ChoiceField(required=False, label="Reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "Any reason"),
                                         *[(r.code, r.label) for r in lifecycle_selectors.rejection_reasons()]]


class HandoverFilterForm(DrillDownForm):
    pending = forms.BooleanField(required=False, label="Only those awaiting a verdict")


class ReasonForm(forms.Form):
    code = forms.CharField(max_length=32, required=False,
                           help_text="Lower-case letters, digits and underscores; permanent once saved.")
    label = forms.CharField(max_length=100)
    description = forms.CharField(max_length=500, required=False, label="Help for reps",
                                  widget=forms.Textarea(attrs={"rows": 2}))
    outcome = forms.ChoiceField(choices=RejectionReason.Outcome.choices, label="The rejected lead goes")
    note_required = forms.BooleanField(required=False, label="A note is required")


def _valid(form_class, request):
    """Return the bound filter form, or the defaults with the errors shown when the query is bad."""
    form = form_class(request.GET)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        form = form_class({})
        form.is_valid()
    return form


def _period_query(data: dict) -> str:
    return f"start={data['start']:%Y-%m-%d}&end={data['end']:%Y-%m-%d}"


def _chart(report: quality.QualityReport) -> dict:
    """Return a stacked bar chart: the rows with most rejections, split by their most frequent reasons."""
    rows = sorted((r for r in report.rows if r.rejected), key=lambda r: -r.rejected)[:CHART_ROWS]
    shown = report.reasons[:CHART_REASONS]
    datasets = [{"label": label, "data": [r.reasons.get(code, 0) for r in rows]} for code, label in shown]
    others = [r.rejected - sum(r.reasons.get(code, 0) for code, _ in shown) for r in rows]
    if any(others):
        datasets.append({"label": "Other reasons", "data": others})
    return {"type": "bar", "stacked": True, "labels": [r.label[:40] for r in rows], "datasets": datasets}


@login_required
def quality_page(request):
    if not can(request.user, Action.VIEW_ANALYTICS):
        raise PermissionDenied
    form = _valid(PeriodForm, request)
    data = form.cleaned_data
    report = quality.lead_quality(user=request.user, dimension=data["dimension"], start=data["start"],
                                  end=data["end"])
    names = dict(report.reasons)
    for row in report.rows:
        # The row's three most frequent reasons, each linking to its feedback.
        row.reason_counts = [(code, names.get(code, code), n)
                             for code, n in sorted(row.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
    context = {"form": form, "report": report, "period": _period_query(data), "chart": _chart(report),
               "dimension_label": quality.DIMENSIONS[report.dimension],
               "may_edit_reasons": can(request.user, Action.EDIT_REJECTION_REASONS)}
    return render(request, "web/quality/report.html", context)


def _threads(items: list[LeadFeedback]) -> list[LeadFeedback]:
    threads = collaboration_selectors.comments_on_many(model=LeadFeedback, ids=[f.pk for f in items])
    for item in items:
        item.thread = threads.get(item.pk, [])
    return items


def _drill_down(request, form_class) -> tuple[dict, str | None, dict]:
    """Check the viewer may read the report; return the list's filters, the row's value and the page's context."""
    if not can(request.user, Action.VIEW_ANALYTICS):
        raise PermissionDenied
    form = _valid(form_class, request)
    data = form.cleaned_data
    value = request.GET.get("value") if "value" in request.GET else None
    context = {"form": form, "dimension_label": quality.DIMENSIONS[data["dimension"]], "value": value,
               "value_label": _value_label(data["dimension"], value), "period": _period_query(data), "data": data}
    return data, value, context


@login_required
def feedback_list(request):
    data, value, context = _drill_down(request, FeedbackFilterForm)
    rows = quality.feedback_list(user=request.user, start=data["start"], end=data["end"],
                                 dimension=data["dimension"], value=value, decision=data["decision"],
                                 reason=data["reason"])
    page = Paginator(rows, FEEDBACK_PAGE).get_page(request.GET.get("page"))
    page.object_list = _threads(list(page.object_list))
    context.update(page_obj=page, reply_form=ReplyForm(), may_reply=can(request.user, Action.COMMENT))
    return render(request, "web/quality/feedback_list.html", context)


@login_required
def handover_list(request):
    data, value, context = _drill_down(request, HandoverFilterForm)
    rows = quality.handover_list(user=request.user, start=data["start"], end=data["end"],
                                 dimension=data["dimension"], value=value, pending=data["pending"])
    context["page_obj"] = Paginator(rows, HANDOVER_PAGE).get_page(request.GET.get("page"))
    return render(request, "web/quality/handover_list.html", context)


def _value_label(dimension: str, value: str | None) -> str:
    return "" if value is None else quality.labels(dimension, [value])[value]


def _feedback(request, feedback_id: int) -> LeadFeedback:
    try:
        return lifecycle_selectors.feedback_for(user=request.user, feedback_id=feedback_id)
    except NotFound as error:
        raise Http404(error.message) from None


@login_required
def feedback_detail(request, feedback_id: int):
    feedback = _feedback(request, feedback_id)
    feedback.thread = list(collaboration_selectors.comments_on(target=feedback))
    context = {"f": feedback, "reply_form": ReplyForm(), "may_reply": can(request.user, Action.COMMENT)}
    return render(request, "web/quality/feedback_detail.html", context)


@login_required
@require_POST
def feedback_reply(request, feedback_id: int):
    feedback = _feedback(request, feedback_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write something to post.")
    else:
        try:
            collaboration.reply_to_feedback(author=request.user, feedback=feedback, **form.cleaned_data)
        except AccordError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Reply posted.")
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("quality-feedback-detail", feedback_id=feedback.pk)


# -- rejection-reason settings ----------------------------------------------------------------------


def _require_editor(request) -> None:
    if not can(request.user, Action.EDIT_REJECTION_REASONS):
        raise PermissionDenied


@login_required
def reasons_page(request):
    _require_editor(request)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reason = lifecycle.create_rejection_reason(by=request.user, **data)
        except AccordError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Added the reason “{reason.label}”.")
            return redirect("rejection-reasons")
    context = {"reasons": lifecycle_selectors.rejection_reasons(), "form": form}
    return render(request, "web/quality/reasons.html", context, status=422 if form.errors else 200)


@login_required
def reason_edit(request, reason_id: int):
    _require_editor(request)
    reason = RejectionReason.objects.filter(pk=reason_id).first()
    if reason is None:
        raise Http404("No such reason.")
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    if action in ("retire", "restore", "up", "down"):
        try:
            if action == "retire":
                lifecycle.retire_rejection_reason(by=request.user, reason=reason)
                messages.success(request, f"Retired “{reason.label}”: old feedback still shows it.")
            elif action == "restore":
                lifecycle.restore_rejection_reason(by=request.user, reason=reason)
                messages.success(request, f"“{reason.label}” is offered to reps again.")
            else:
                lifecycle.move_rejection_reason(by=request.user, reason=reason, step=-1 if action == "up" else 1)
        except AccordError as error:
            messages.error(request, error.message)
        return redirect("rejection-reasons")
    initial = {"code": reason.code, "label": reason.label, "description": reason.description,
               "outcome": reason.outcome, "note_required": reason.note_required}
    form = ReasonForm(request.POST or None, initial=initial)
    form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "code"}
        try:
            lifecycle.update_rejection_reason(by=request.user, reason=reason, **data)
        except AccordError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Saved “{reason.label}”.")
            return redirect("rejection-reasons")
    return render(request, "web/quality/reason_edit.html", {"reason": reason, "form": form},
                  status=422 if form.errors else 200)
