"""The shell's pages: each role's home, background jobs, and personal API tokens."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accord.accounts import selectors as account_selectors
from accord.accounts import services as account_services
from accord.core import selectors as core_selectors
from accord.core.errors import NotFound, ValidationFailed
from accord.core.permissions import Action, can
from accord.web import dashboards

PAGE_SIZE = 50


@login_required
def home(request):
    context = dashboards.home_for(user=request.user, today=timezone.localdate())
    return render(request, "web/home.html", context)


@login_required
def job_list(request):
    jobs = core_selectors.jobs_visible_to(user=request.user)
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/jobs/list.html", {"page_obj": page})


def _job(request, job_id: int):
    try:
        return core_selectors.job_for(user=request.user, job_id=job_id)
    except NotFound as error:
        raise Http404(error.message) from None


@login_required
def job_detail(request, job_id: int):
    job = _job(request, job_id)
    return render(
        request,
        "web/jobs/detail.html",
        {
            "job": job,
            "params_text": json.dumps(job.params, indent=2, sort_keys=True, default=str),
            "result_text": json.dumps(job.result, indent=2, sort_keys=True, default=str),
        },
    )


@login_required
@never_cache
def job_progress(request, job_id: int):
    return render(request, "web/jobs/_progress.html", {"job": _job(request, job_id)})


@login_required
@never_cache
def token_list(request):
    if not can(request.user, Action.MANAGE_OWN_TOKENS):
        raise PermissionDenied
    context = {"name_value": "", "name_error": ""}
    status = 200
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            token, secret = account_services.issue_own_api_token(user=request.user, name=name)
        except ValidationFailed as error:
            context.update(name_value=name, name_error=error.message)
            status = 422
        else:
            # Rendered straight from the POST, not redirected: the secret then never
            # rests anywhere on the server, not even in the session.
            context.update(new_token=token, new_secret=secret)
    context.update(tokens=list(account_selectors.tokens_manageable_by(user=request.user)), now=timezone.now())
    return render(request, "web/tokens/list.html", context, status=status)


@login_required
@require_POST
def token_revoke(request, token_id: int):
    if not can(request.user, Action.MANAGE_OWN_TOKENS):
        raise PermissionDenied
    try:
        token = account_selectors.token_for(user=request.user, token_id=token_id)
    except NotFound as error:
        raise Http404(error.message) from None
    account_services.revoke_own_api_token(user=request.user, token=token)
    messages.success(request, f"Revoked the token “{token.name}”. Calls using it now fail.")
    return redirect("tokens")
