"""The import page: upload a CSV, then watch the job and download its error report."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from accord.core import selectors as core_selectors
from accord.core.permissions import Action, can
from accord.imports import services
from accord.imports.forms import ImportForm
from accord.imports.reading import ImportRefused


def _store_upload(upload) -> Path:
    """Write the upload under MEDIA_ROOT/uploads in chunks, under a name no one can guess or collide with."""
    # A folder per upload keeps the person's own file name for the job's title.
    folder = Path(settings.MEDIA_ROOT) / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(upload.name).name)[-80:] or "upload.csv"
    path = folder / safe
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path


@login_required
def upload(request):
    if not can(request.user, Action.IMPORT_DATA):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            path = _store_upload(form.cleaned_data["file"])
            try:
                job = services.start_import(
                    user=request.user,
                    kind=form.cleaned_data["kind"],
                    path=path,
                    preset=form.cleaned_data["preset"] or None,
                    encoding=form.cleaned_data["encoding"] or None,
                )
            except ImportRefused as error:
                form.add_error(None, error.message)
            else:
                return redirect("job", job_id=job.pk)
        status = 422
    recent = core_selectors.jobs_visible_to(user=request.user).filter(kind__startswith="import.")[:10]
    return render(request, "imports/upload.html", {"form": form, "recent": recent}, status=status)
