"""Record pages for what marketing brings in: contacts, accounts and campaigns.

Every queryset starts from a `*_visible_to` selector, so a page can only list what its
viewer may see. Also here: the public endpoint forms post to (no session, its own guards),
the capture-source pages with the embeddable snippet, and the duplicate/merge pages.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from functools import partial

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.db.models import CheckConstraint, Sum
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from accord.capture import ratelimit, services
from accord.capture.domain import UTM_FIELDS, origin_of
from accord.capture.listings import (
    account_listing,
    campaign_listing,
    capture_source_listing,
    contact_listing,
)
from accord.capture.models import Campaign, CaptureSource, Contact
from accord.capture.selectors import (
    MERGE_RULES,
    campaigns_visible_to,
    capture_source_by_key,
    capture_source_for,
    contacts_visible_to,
    duplicate_candidates,
    merge_preview,
)
from accord.core.errors import AccordError, NotFound, ValidationFailed
from accord.core.permissions import Action, can, owner_scope

PAGE_SIZE = 50
RESULTS = "#results"


def _renders_results_only(request) -> bool:
    # A history restore after a cache miss asks for the whole page, not the fragment.
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def list_page(request, *, queryset, template: str, results_template: str, context: dict):
    """Render one page of a list, or just its results table for an htmx filter request."""
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {**context, "page_obj": page, "hx_target": RESULTS, "results_template": results_template}
    response = render(request, results_template if _renders_results_only(request) else template, context)
    # The same URL answers with a fragment or a page; caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# Contacts ------------------------------------------------------------------------------


@login_required
def contact_list(request):
    form, contacts = contact_listing(user=request.user, params=request.GET)
    return list_page(
        request,
        queryset=contacts,
        template="capture/contacts/list.html",
        results_template="capture/contacts/_results.html",
        context={"form": form, "export_list": "contacts"},
    )


@login_required
def contact_detail(request, contact_id: int):
    contact = get_object_or_404(
        contacts_visible_to(user=request.user).select_related("owner", "account", "original_campaign"),
        pk=contact_id,
    )
    # Reverse relations keep capture from importing the apps layered above it.
    context = {
        "contact": contact,
        "transitions": contact.stage_transitions.select_related("by_user").order_by("-occurred_at", "-id")[:50],
        "touchpoints": contact.touchpoints.select_related("campaign")[:20],
        "activities": contact.activities.select_related("user")[:20],
        "feedback": contact.feedback.labelled().select_related("by_user")[:20],
        "deal_roles": contact.deal_roles.filter(owner_scope(request.user, field="deal__owner"))
        .select_related("deal__stage")
        .order_by("-deal__created_at"),
    }
    return render(request, "capture/contacts/detail.html", context)


# Accounts and campaigns ----------------------------------------------------------------


@login_required
def account_list(request):
    form, accounts = account_listing(user=request.user, params=request.GET)
    return list_page(
        request,
        queryset=accounts,
        template="capture/accounts/list.html",
        results_template="capture/accounts/_results.html",
        context={"form": form, "export_list": "accounts"},
    )


@login_required
def campaign_list(request):
    form, campaigns = campaign_listing(user=request.user, params=request.GET)
    return list_page(
        request,
        queryset=campaigns,
        template="capture/campaigns/list.html",
        results_template="capture/campaigns/_results.html",
        context={
            "form": form, "can_edit": can(request.user, Action.EDIT_CAMPAIGNS), "export_list": "campaigns",
        },
    )


# The public capture endpoint ----------------------------------------------------------

MAX_BODY_BYTES = 64 * 1024
# Posts per minute from one IP to keys that do not exist: guessing keys is throttled too.
UNKNOWN_KEY_LIMIT_PER_MINUTE = 30
HONEYPOT_FIELD = "website"


def _error(status: int, code: str, message: str, *, field: str | None = None) -> JsonResponse:
    return JsonResponse({"errors": [{"field": field, "code": code, "message": message}]}, status=status)


def _wants_json(request) -> bool:
    return request.content_type == "application/json" or (
        "application/json" in request.headers.get("Accept", "")
        and "text/html" not in request.headers.get("Accept", "")
    )


def _refuse(request, status: int, code: str, message: str, *, source=None, retry_after: int | None = None):
    if _wants_json(request) or source is None:
        response = _error(status, code, message)
    else:
        response = render(
            request, "capture/public/closed.html", {"message": message}, status=status
        )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _client_ip(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by whoever sends the request unless a
    # trusted proxy overwrites it, and Accord has no setting naming one yet.
    return request.META.get("REMOTE_ADDR", "")


def _cors(response, *, origin: str, source) -> None:
    if origin and origin in source.origins:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        patch_vary_headers(response, ["Origin"])


# Exempt from CSRF on purpose: the form is posted from other sites' pages, which cannot
# hold Accord's CSRF token. The public key, the rate limits and the honeypot guard it, and
# it acts as nobody: it reads no session and changes nothing a signed-in user owns.
@csrf_exempt
def capture_submit(request, public_key: str):
    """Take a form post or JSON from a capture source and store the person and their touch."""
    if request.method == "OPTIONS":
        source = capture_source_by_key(public_key=public_key)
        response = HttpResponse(status=204)
        if source is not None:
            _cors(response, origin=request.headers.get("Origin", "").lower(), source=source)
        return response
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "This path takes POST.")
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _error(413, "too_large", f"The body may be at most {MAX_BODY_BYTES // 1024} KB.")

    ip = _client_ip(request)
    source = capture_source_by_key(public_key=public_key)
    if source is None:
        retry = ratelimit.hit_and_commit({f"ip-unknown:{ip}": UNKNOWN_KEY_LIMIT_PER_MINUTE})
        if retry is not None:
            return _refuse(request, 429, "throttled", "Too many requests; try again later.", retry_after=retry)
        return _error(404, "not_found", "No form with this key.")
    origin = request.headers.get("Origin", "").lower()
    with contextlib.suppress(RequestDataTooBig):
        # Read off the socket before the transaction: a slow client must not hold SQLite's
        # write lock. _posted_fields answers a body too large.
        request.body  # noqa: B018
    answer, submission = _check(request, source=source, origin=origin)
    # Everything was decided above, so the write holds the database for the statements only.
    retry, contact_id = services.record_form_post(
        source=source, submission=submission, ip=ip, user_agent=request.headers.get("User-Agent", "")
    )
    if submission is not None:
        answer = partial(answer, contact_id=contact_id)
    if retry is not None:
        return _refuse(
            request, 429, "throttled", "Too many submissions; try again later.", source=source, retry_after=retry
        )
    return answer()


def _check(request, *, source, origin: str) -> tuple[Callable[..., HttpResponse], services.FormSubmission | None]:
    """Decide a post's answer without the database: (what renders it, what to store or None).

    The answer to a post to store takes its contact_id once stored.
    """
    if not source.is_active:
        return partial(_refuse, request, 403, "forbidden", "This form no longer takes submissions.", source=source), None
    if origin and source.origins and origin not in source.origins:
        return partial(_refuse, request, 403, "forbidden", "This form may not be posted from this site.", source=source), None
    try:
        fields = _posted_fields(request)
    except _BadBody as error:
        return partial(_error, error.status, error.code, str(error)), None
    as_json = request.content_type == "application/json" or _wants_json(request)
    success = partial(_success, request, source=source, fields=fields, as_json=as_json, origin=origin)
    if fields.get(HONEYPOT_FIELD, "").strip():
        # A bot filled the field people never see: answer as if stored, so it learns nothing.
        return partial(success, contact_id=None), None
    try:
        submission = services.check_form_submission(fields=fields, page_url=request.headers.get("Referer", ""))
    except ValidationFailed as error:
        return partial(_invalid, request, error, source=source, fields=fields, as_json=as_json, origin=origin), None
    return success, submission


def _invalid(request, error: ValidationFailed, *, source, fields, as_json: bool, origin: str):
    if as_json:
        response = _error(422, "invalid", error.message, field=error.field)
        _cors(response, origin=origin, source=source)
        return response
    return render(
        request,
        "capture/public/form.html",
        {"source": source, "error": error, "values": fields, "honeypot": HONEYPOT_FIELD},
        status=422,
    )


def _success(request, *, source, fields, contact_id, as_json: bool, origin: str):
    if as_json:
        response = JsonResponse({"ok": True, "contact_id": contact_id}, status=201)
        _cors(response, origin=origin, source=source)
        return response
    target = fields.get("redirect_to", "").strip()
    # Only to a site the source names: anything else would make Accord an open redirect.
    if target and origin_of(target) and origin_of(target) in source.origins:
        return HttpResponseRedirect(target)
    return render(request, "capture/public/thanks.html", {"source": source})


class _BadBody(Exception):
    def __init__(self, message: str, *, status: int = 400, code: str = "invalid") -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _posted_fields(request) -> dict[str, str]:
    """Return the posted values as one string each, from JSON or a form body."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise _BadBody("The body is too large.", status=413, code="too_large") from None
    if len(body) > MAX_BODY_BYTES:
        raise _BadBody(f"The body may be at most {MAX_BODY_BYTES // 1024} KB.", status=413, code="too_large")
    if request.content_type == "application/json":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise _BadBody("The body is not valid JSON.", code="malformed_json") from None
        if not isinstance(data, dict):
            raise _BadBody("The body must be a JSON object.")
        fields = {}
        for name, value in data.items():
            if isinstance(value, bool):
                value = "true" if value else ""
            elif value is None:
                value = ""
            elif isinstance(value, int | float):
                value = str(value)
            elif not isinstance(value, str):
                raise _BadBody(f"{name} must be text.", status=422)
            fields[name] = value
    else:
        try:
            fields = {name: request.POST.get(name, "") for name in request.POST}
        except (RequestDataTooBig, TooManyFieldsSent):
            raise _BadBody("The form is too large.", status=413, code="too_large") from None
        except (MultiPartParserError, UnicodeDecodeError, ValueError):
            raise _BadBody("The form body could not be read.") from None
    for name, value in fields.items():
        try:
            (name + value).encode("utf-8")
        except UnicodeEncodeError:
            raise _BadBody("Text must be valid Unicode.", status=422) from None
    return fields


# Capture sources (the marketer's side) -------------------------------------------------


def _require_page(user, action: Action) -> None:
    # Django's PermissionDenied renders the site's 403 page; the core one is for the API.
    if not can(user, action):
        raise PermissionDenied(f"Your role may not {action.value.replace('_', ' ')}.")


class SourceForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=CaptureSource.Kind.choices)
    default_campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False)
    allowed_origins = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line, e.g. https://www.example.com"
    )
    consent_text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    rate_limit_per_minute = forms.IntegerField(min_value=1, initial=600)
    ip_rate_limit_per_minute = forms.IntegerField(min_value=1, initial=20)
    is_active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_campaign"].queryset = campaigns_visible_to(user=user).order_by("name")

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        campaign = data.pop("default_campaign")
        return {**data, "default_campaign_id": campaign.pk if campaign else None}


def _source_initial(source: CaptureSource) -> dict:
    return {
        "name": source.name,
        "kind": source.kind,
        "default_campaign": source.default_campaign_id,
        "allowed_origins": source.allowed_origins,
        "consent_text": source.consent_text,
        "rate_limit_per_minute": source.rate_limit_per_minute,
        "ip_rate_limit_per_minute": source.ip_rate_limit_per_minute,
        "is_active": source.is_active,
    }


def _save_source(request, form: SourceForm, *, source: CaptureSource | None):
    """Run the service for a valid form; put its errors on the form otherwise. Return the source."""
    try:
        if source is None:
            return services.create_capture_source(by=request.user, **form.changes())
        return services.update_capture_source(source=source, by=request.user, changes=form.changes())
    except ValidationFailed as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
    return None


@login_required
def source_list(request):
    """List capture sources; marketers add one here."""
    may_edit = can(request.user, Action.EDIT_CAMPAIGNS)
    form = SourceForm(request.POST or None, user=request.user, initial={"is_active": True})
    if request.method == "POST":
        _require_page(request.user, Action.EDIT_CAMPAIGNS)
        if form.is_valid() and (source := _save_source(request, form, source=None)):
            messages.success(request, f"Created {source.name}; copy its snippet below.")
            return redirect("capture-source", source_id=source.pk)
    sources = capture_source_listing(user=request.user)
    return render(
        request,
        "capture/sources/list.html",
        {"sources": sources, "form": form if may_edit else None},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def source_detail(request, source_id: int):
    """Show a source's embeddable snippet; marketers edit it or rotate its key."""
    source = capture_source_for(user=request.user, source_id=source_id)
    may_edit = can(request.user, Action.EDIT_CAMPAIGNS)
    form = SourceForm(request.POST or None, user=request.user, initial=_source_initial(source))
    if request.method == "POST":
        _require_page(request.user, Action.EDIT_CAMPAIGNS)
        if request.POST.get("rotate"):
            services.rotate_capture_source_key(source=source, by=request.user)
            messages.success(request, "New key issued: replace the snippet on every page that embeds it.")
            return redirect("capture-source", source_id=source.pk)
        if form.is_valid() and _save_source(request, form, source=source):
            messages.success(request, "Saved.")
            return redirect("capture-source", source_id=source.pk)
    action = request.build_absolute_uri(reverse("capture-submit", args=[source.public_key]))
    return render(
        request,
        "capture/sources/detail.html",
        {
            "source": source,
            "form": form if may_edit else None,
            "action": action,
            "snippet": embed_snippet(source=source, action=action),
        },
        status=422 if request.method == "POST" else 200,
    )


def embed_snippet(*, source: CaptureSource, action: str) -> str:
    """Return the HTML a marketer pastes into a page: the form, hidden fields, a little JS."""
    return render_to_string(
        "capture/sources/snippet.html",
        {"source": source, "action": action, "honeypot": HONEYPOT_FIELD, "utm_fields": UTM_FIELDS},
    ).strip()


# Duplicates and merging -----------------------------------------------------------------


@login_required
def duplicate_list(request):
    """List groups of contacts a merge rule says are one person."""
    rule = request.GET.get("rule") or "name_and_domain"
    if rule not in MERGE_RULES:
        rule = "name_and_domain"
    groups = duplicate_candidates(user=request.user, rule=rule)
    return render(
        request,
        "capture/merge/duplicates.html",
        {"groups": groups, "rule": rule, "rule_label": MERGE_RULES[rule], "rules": MERGE_RULES},
    )


MERGE_LABELS = {
    "email": "Email",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone",
    "title": "Title",
    "seniority": "Seniority",
    "account_id": "Account",
    "owner_id": "Owner",
    "lead_source": "Lead source",
    "original_campaign_id": "Original campaign",
    "country": "Country",
    "region": "Region",
    "external_id": "External id",
}


def _display(contact: Contact, name: str) -> str:
    if name.endswith("_id") and name != "external_id":
        related = getattr(contact, name.removesuffix("_id"))
        return str(related) if related else ""
    value = getattr(contact, name)
    return "" if value is None else str(value)


@login_required
def merge_preview_page(request):
    """Compare two contacts side by side; on POST merge the duplicate into the survivor."""
    source = request.POST if request.method == "POST" else request.GET
    try:
        survivor_id, duplicate_id = int(source.get("survivor", "")), int(source.get("duplicate", ""))
    except ValueError:
        raise Http404("Choose two contacts to compare.") from None
    try:
        preview = merge_preview(user=request.user, survivor_id=survivor_id, duplicate_id=duplicate_id)
    except NotFound:
        raise Http404("No such contact.") from None
    survivor, duplicate = preview["survivor"], preview["duplicate"]
    if request.method == "POST":
        _require_page(request.user, Action.EDIT_CONTACTS)
        choices = {
            name: request.POST[f"choice_{name}"]
            for name in MERGE_LABELS
            if request.POST.get(f"choice_{name}") in {"survivor", "duplicate"}
        }
        services.merge_contacts(survivor=survivor, duplicate=duplicate, by=request.user, field_choices=choices)
        messages.success(request, f"Merged contact {duplicate_id} into {survivor}.")
        return redirect("contact", contact_id=survivor.pk)
    rows = []
    for name, label in MERGE_LABELS.items():
        mine, theirs = _display(survivor, name), _display(duplicate, name)
        default = "duplicate" if not mine and theirs else "survivor"
        rows.append({"name": name, "label": label, "survivor": mine, "duplicate": theirs, "default": default})
    return render(
        request,
        "capture/merge/preview.html",
        {
            **preview,
            "rows": rows,
            "count_rows": [
                (kind.capitalize(), count, preview["counts"][duplicate.pk][kind])
                for kind, count in preview["counts"][survivor.pk].items()
            ],
            "may_merge": can(request.user, Action.EDIT_CONTACTS),
        },
    )


# Campaign pages ------------------------------------------------------------------------


class CampaignForm(forms.ModelForm):
    """Input for a campaign; the service decides (permissions, uniqueness, owner)."""

    class Meta:
        model = Campaign
        fields = [
            "name", "channel", "kind", "status", "segment", "start_date", "end_date", "budget",
            "currency", "utm_source", "utm_medium", "utm_campaign", "description",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def validate_unique(self):
        # The service checks uniqueness case-insensitively and names the field.
        pass

    def validate_constraints(self):
        # Check constraints (the end after the start) are judged here; unique ones by the service.
        exclude = self._get_validation_exclusions()
        for constraint in self.instance._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                try:
                    constraint.validate(type(self.instance), self.instance, exclude=exclude)
                except DjangoValidationError as error:
                    self._update_errors(error)


class CostForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2)
    impressions = forms.IntegerField(min_value=0, required=False)
    clicks = forms.IntegerField(min_value=0, required=False)
    note = forms.CharField(max_length=200, required=False)


def _save_campaign(request, form: CampaignForm, campaign: Campaign | None):
    """Call the campaign service with the form's values; put a refusal on the field it names."""
    values = dict(form.cleaned_data)
    try:
        if campaign is None:
            return services.create_campaign(by=request.user, **values)
        return services.update_campaign(campaign=campaign, by=request.user, changes=values)
    except AccordError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
    return None


@login_required
def campaign_create(request):
    if not can(request.user, Action.EDIT_CAMPAIGNS):
        raise PermissionDenied
    form = CampaignForm(request.POST or None, initial={"status": Campaign.Status.PLANNED})
    if request.method == "POST" and form.is_valid():
        campaign = _save_campaign(request, form, None)
        if campaign is not None:
            messages.success(request, f"Created the campaign “{campaign.name}”.")
            return redirect("campaign", campaign_id=campaign.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "capture/campaigns/form.html", {"form": form, "campaign": None}, status=status)


@login_required
def campaign_edit(request, campaign_id: int):
    if not can(request.user, Action.EDIT_CAMPAIGNS):
        raise PermissionDenied
    campaign = get_object_or_404(campaigns_visible_to(user=request.user), pk=campaign_id)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        # The ModelForm wrote the values onto the instance; reload so the service sees the stored row.
        campaign.refresh_from_db()
        saved = _save_campaign(request, form, campaign)
        if saved is not None:
            messages.success(request, f"Saved the campaign “{saved.name}”.")
            return redirect("campaign", campaign_id=saved.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "capture/campaigns/form.html", {"form": form, "campaign": campaign}, status=status)


@login_required
def campaign_detail(request, campaign_id: int):
    campaign = get_object_or_404(
        campaigns_visible_to(user=request.user).select_related("owner"), pk=campaign_id
    )
    cost_form = CostForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not can(request.user, Action.EDIT_CAMPAIGNS):
            raise PermissionDenied
        if cost_form.is_valid():
            try:
                services.record_cost(campaign=campaign, by=request.user, **cost_form.cleaned_data)
            except ValidationFailed as error:
                cost_form.add_error(error.field if error.field in cost_form.fields else None, error.message)
            else:
                messages.success(request, "Recorded the cost.")
                return redirect("campaign", campaign_id=campaign.pk)
        status = 422
    costs = campaign.costs.order_by("-date", "-id")
    totals = costs.aggregate(spent=Sum("amount"), impressions=Sum("impressions"), clicks=Sum("clicks"))
    context = {
        "campaign": campaign,
        "costs": costs[:100],
        "cost_count": costs.count(),
        "totals": totals,
        "cost_form": cost_form,
        "can_edit": can(request.user, Action.EDIT_CAMPAIGNS),
    }
    return render(request, "capture/campaigns/detail.html", context, status=status)
