"""Scoring pages: edit, validate, publish and compare rule versions; model cards, comparison, rollback, retraining."""

from __future__ import annotations

import difflib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accord.core.errors import AccordError
from accord.core.permissions import Action, can
from accord.core.yamldoc import InvalidDocument
from accord.scoring import predictive, selectors, services
from accord.scoring.models import PredictiveModelVersion, ScoringRuleSet
from accord.scoring.rules import parse_rules

MAX_SOURCE = 100_000
LISTED_VERSIONS = 50


class RulesForm(forms.Form):
    source = forms.CharField(widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false"}),
                             max_length=MAX_SOURCE, strip=False, label="Rules document (YAML)")
    based_on = forms.IntegerField(required=False, widget=forms.HiddenInput)
    rescore = forms.BooleanField(required=False, initial=True, label="Rescore every contact after publishing")


class TrainForm(forms.Form):
    """What the next model learns to predict: an outcome within a number of days of the snapshot."""

    outcome = forms.ChoiceField(choices=[(code, f"{text[:1].upper()}{text[1:]}")
                                         for code, text in predictive.OUTCOMES.items()],
                                initial="sql", label="Converted means")
    horizon_days = forms.IntegerField(min_value=1, max_value=predictive.MAX_HORIZON_DAYS, initial=90,
                                      label="within (days)")


def _may_view(user) -> None:
    if not can(user, Action.VIEW_ANALYTICS):
        raise PermissionDenied


def _may_edit(user) -> None:
    if not can(user, Action.EDIT_SCORING):
        raise PermissionDenied


def _numbered(source: str, errors: list) -> list[dict]:
    """Pair every line of the document with the errors found on it, for showing them side by side."""
    by_line: dict[int, list[str]] = {}
    for error in errors:
        if error.line:
            by_line.setdefault(error.line, []).append(f"{error.path + ': ' if error.path else ''}{error.message}")
    return [{"number": n, "text": _shown(text), "errors": by_line.get(n, [])}
            for n, text in enumerate(source.splitlines() or [""], start=1)]


def _shown(line: str) -> str:
    # YAML's meaning is in its indentation, and HTML collapses spaces: keep them as no-break spaces.
    return line.replace(" ", "\u00a0")


def _publish(request, form: RulesForm, active: ScoringRuleSet | None) -> ScoringRuleSet | None:
    """Publish the edited document unless someone published another version meanwhile; None when refused."""
    source = form.cleaned_data["source"]
    if active is not None and source == active.source:
        # A double-click or a retried post of the same text must not add a version.
        messages.info(request, f"Nothing changed: rules v{active.version} are already active.")
        return active
    based_on = form.cleaned_data["based_on"]
    if active is not None and based_on is not None and based_on != active.version:
        form.add_error(None, f"Rules v{active.version} were published while you were editing v{based_on}. "
                             "Compare them below and publish again if yours should replace them.")
        return None
    rule_set = services.publish_rule_set(source=source, by=request.user)
    messages.success(request, f"Published rules v{rule_set.version}; they are now active.")
    return rule_set


@login_required
def rules_page(request):
    """Show the active rules; editors validate and publish a new version, activate an old one, rescore."""
    _may_view(request.user)
    may_edit = can(request.user, Action.EDIT_SCORING)
    active = selectors.active_rule_set()
    form = RulesForm(request.POST or None, initial={
        "source": active.source if active else services.DEFAULT_RULES.read_text(encoding="utf-8"),
        "based_on": active.version if active else None, "rescore": True})
    problems, status = [], 200
    if request.method == "POST":
        _may_edit(request.user)
        if form.is_valid():
            try:
                parse_rules(form.cleaned_data["source"])
            except InvalidDocument as error:
                problems = error.errors
            else:
                if request.POST.get("action") != "publish":
                    messages.success(request, "The document is valid. Publish it to make it the active version.")
                else:
                    published = _publish(request, form, active)
                    if published is not None:
                        if form.cleaned_data["rescore"] and published != active:
                            job = services.start_rescore(user=request.user)
                            return redirect("job", job_id=job.pk)
                        return redirect("scoring-rules")
        status = 422 if problems or form.errors else 200
    versions = selectors.rule_sets()[:LISTED_VERSIONS]
    source = form.data.get("source", "") if form.is_bound else form.initial["source"]
    return render(request, "scoring/rules.html", {
        "active": active, "form": form, "may_edit": may_edit, "problems": problems,
        "lines": _numbered(source, problems) if problems else [], "versions": versions,
        "model_status": selectors.model_status(),
    }, status=status)


@login_required
def rules_diff(request):
    """Show what changed from rules version `a` to version `b`, line by line."""
    _may_view(request.user)
    try:
        first = selectors.rule_set(version=int(request.GET.get("a", "")))
        second = selectors.rule_set(version=int(request.GET.get("b", "")))
    except (ValueError, ScoringRuleSet.DoesNotExist):
        raise Http404("Choose two published versions to compare.") from None
    diff = []
    for line in difflib.unified_diff(first.source.splitlines(), second.source.splitlines(),
                                     f"v{first.version}", f"v{second.version}", lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        kind = "hunk" if line.startswith("@@") else {"+": "add", "-": "remove"}.get(line[:1], "same")
        diff.append({"kind": kind, "text": line if kind == "hunk" else _shown(line[1:])})
    return render(request, "scoring/rules_diff.html", {"first": first, "second": second, "diff": diff,
                                                       "versions": selectors.rule_sets()[:LISTED_VERSIONS]})


@login_required
@require_POST
def rules_activate(request):
    _may_edit(request.user)
    try:
        chosen = services.activate_rule_set(version=int(request.POST.get("version", "")), by=request.user)
    except (ValueError, ScoringRuleSet.DoesNotExist):
        raise Http404("No such rules version.") from None
    messages.success(request, f"Rules v{chosen.version} are active again. Rescore to apply them to every contact.")
    return redirect("scoring-rules")


@login_required
@require_POST
def rescore_now(request):
    _may_edit(request.user)
    job = services.start_rescore(user=request.user)
    return redirect("job", job_id=job.pk)


# -- the predictive model -----------------------------------------------------------------


def _chart(labels: list[str], datasets: list[tuple[str, list[float]]]) -> dict:
    return {"type": "bar", "labels": labels,
            "datasets": [{"label": label, "data": data} for label, data in datasets if data]}


def _lift_chart(*versions: PredictiveModelVersion, with_rules: bool = True) -> dict:
    sets = [(f"Model v{v.version}", v.lift_by_decile) for v in versions]
    if with_rules:
        sets.append(("Rule score", versions[0].rules_lift_by_decile))
    return _chart([f"{d}" for d in range(1, 11)], sets)


def _calibration_chart(version: PredictiveModelVersion) -> dict:
    bins = version.calibration.get("bins", []) if version.calibration else []
    # Percentages, not fractions: the shared chart axis counts in whole units.
    return _chart([f"{round(100 * b['predicted'])}%" for b in bins],
                  [("Predicted %", [round(100 * b["predicted"], 1) for b in bins]),
                   ("Observed %", [round(100 * b["observed"], 1) for b in bins])])


def _version_or_404(version) -> PredictiveModelVersion:
    try:
        return selectors.model_version(version=int(version))
    except (ValueError, TypeError, PredictiveModelVersion.DoesNotExist):
        raise Http404("No such model version.") from None


@login_required
def model_page(request):
    """List model versions with their cards' headline numbers; say plainly when rules stand alone."""
    _may_view(request.user)
    versions = selectors.model_versions()[:LISTED_VERSIONS]
    active = next((v for v in versions if v.is_active), None)
    return render(request, "scoring/model.html", {
        "versions": versions, "active": active, "status": selectors.model_status(),
        "may_edit": can(request.user, Action.EDIT_SCORING),
        "lift_chart": _lift_chart(active) if active and active.lift_by_decile else None,
        "train_form": TrainForm(initial=_train_initial(active)),
    })


def _train_initial(active: PredictiveModelVersion | None) -> dict:
    """Offer the active model's outcome and horizon, so a plain retrain keeps predicting the same thing."""
    if active is None:
        return {}
    return {"outcome": active.params.get("outcome_code", "sql"), "horizon_days": active.horizon_days}


@login_required
def model_card(request, version: int):
    _may_view(request.user)
    chosen = _version_or_404(version)
    return render(request, "scoring/model_card.html", {
        "version": chosen, "may_edit": can(request.user, Action.EDIT_SCORING),
        "lift_chart": _lift_chart(chosen) if chosen.lift_by_decile else None,
        "calibration_chart": _calibration_chart(chosen) if chosen.calibration.get("bins") else None,
        "status": selectors.model_status(),
    })


@login_required
def model_compare(request):
    """Put two model cards side by side, metric by metric, with both lift curves."""
    _may_view(request.user)
    first, second = _version_or_404(request.GET.get("a")), _version_or_404(request.GET.get("b"))
    usable = [v for v in (first, second) if v.lift_by_decile]
    return render(request, "scoring/model_compare.html", {
        "first": first, "second": second,
        "rows": selectors.model_comparison(first=first.version, second=second.version),
        "lift_chart": _lift_chart(*usable) if usable else None,
        "versions": selectors.model_versions()[:LISTED_VERSIONS],
    })


@login_required
@require_POST
def model_activate(request):
    _may_edit(request.user)
    chosen = _version_or_404(request.POST.get("version"))
    try:
        services.activate_model(version=chosen.version, by=request.user)
    except (ValueError, AccordError) as error:
        messages.error(request, str(error))
        return redirect("scoring-model-card", version=chosen.version)
    messages.success(request, f"Model v{chosen.version} is active. Rescore to give every contact its probability.")
    return redirect("scoring-model")


@login_required
@require_POST
def model_train(request):
    _may_edit(request.user)
    form = TrainForm(request.POST or {"outcome": "sql", "horizon_days": 90})
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label}: {' '.join(errors)}")
        return redirect("scoring-model")
    job = services.start_training(user=request.user, outcome=form.cleaned_data["outcome"],
                                  horizon_days=form.cleaned_data["horizon_days"])
    return redirect("job", job_id=job.pk)
