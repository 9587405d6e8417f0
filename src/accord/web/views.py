"""The shell's pages: each role's home, background jobs, and personal API tokens."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accord.accounts import selectors as account_selectors
from accord.accounts import services as account_services
from accord.core import selectors as core_selectors
from accord.core.errors import AccordError, NotFound, ValidationFailed
from accord.core.permissions import Action, can
from accord.imports import services as import_services
from accord.web import dashboards, exports

PAGE_SIZE = 50
SHOWN_ROW_ERRORS = 50
COUNT_LABELS = (
    ("rows", "Rows read"), ("created", "Created"), ("updated", "Updated"),
    ("unchanged", "Unchanged"), ("rejected", "Rejected"),
)


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


# The files a finished job leaves for its owner, by name: where each lives and what it is called.
def _job_files(job, *, existing: bool = True) -> dict[str, tuple[Path, str]]:
    files: dict[str, tuple[Path, str]] = {}
    if job.status != job.Status.SUCCEEDED:
        return files
    if job.kind.startswith("import.") and job.result.get("rejected"):
        files["errors"] = (import_services.error_report_path(job), f"import-{job.pk}-errors.csv")
    if job.kind.startswith("export."):
        files["export"] = (exports.export_path(job), exports.export_file_name(job))
    return {name: spec for name, spec in files.items() if not existing or spec[0].is_file()}


@login_required
@require_POST
def export_list(request, list_name: str):
    """Queue a CSV export of a list page as the viewer sees it (its query string) and show the job."""
    try:
        job = exports.start_list_export(user=request.user, list_name=list_name, params=request.GET)
    except NotFound as error:
        raise Http404(error.message) from None
    except AccordError as error:
        raise PermissionDenied(error.message) from None
    messages.success(request, "The export is running; its file appears here when it is done.")
    return redirect("job", job_id=job.pk)


@login_required
def job_download(request, job_id: int, name: str):
    job = _job(request, job_id)
    spec = _job_files(job).get(name)
    if spec is None:
        raise Http404("This job has no such file.")
    path, filename = spec
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type="text/csv")


@login_required
def job_detail(request, job_id: int):
    job = _job(request, job_id)
    labels = {"errors": "Download the error report (CSV)", "export": "Download the export (CSV)"}
    return render(
        request,
        "web/jobs/detail.html",
        {
            "job": job,
            "downloads": [(labels[name], name) for name in _job_files(job)],
            # A file the job wrote that is gone: deleted after the retention period, or by an erasure.
            "files_gone": len(_job_files(job, existing=False)) > len(_job_files(job)),
            "retention_days": settings.ACCORD_FILE_RETENTION_DAYS,
            "counts": [
                (label, job.result[key])
                for key, label in COUNT_LABELS
                if isinstance(job.result.get(key), int)
            ],
            "row_errors": (job.result.get("errors") or [])[:SHOWN_ROW_ERRORS],
            "row_errors_more": len(job.result.get("errors") or []) > SHOWN_ROW_ERRORS,
            "params_text": json.dumps(job.params, indent=2, sort_keys=True, default=str),
            "result_text": json.dumps(job.result, indent=2, sort_keys=True, default=str),
        },
    )


@login_required
@never_cache
def job_progress(request, job_id: int):
    job = _job(request, job_id)
    response = render(request, "web/jobs/_progress.html", {"job": job})
    if job.is_finished and request.headers.get("HX-Request"):
        # Only a page that still showed the job running polls; reload it once so the
        # result, the error and the download links appear.
        response["HX-Refresh"] = "true"
    return response


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
