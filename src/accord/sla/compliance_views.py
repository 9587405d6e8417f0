"""The compliance pages: sales' clocks per rep or team, their trend and SLA versions, the clocks behind a
number, and marketing's MQLs, acceptance and lead completeness against its commitment."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accord.core.permissions import Action, can
from accord.sla import periods, reports
from accord.sla.periods import Period, PeriodError

TREND_POINTS = {"week": 12, "month": 6}
PERIOD_CHOICES = (("this_week", "This week"), ("last_week", "Last week"), ("this_month", "This month"),
                  ("last_month", "Last month"), ("this_quarter", "This quarter"),
                  ("last_quarter", "Last quarter"), ("custom", "Custom range"))


def _allowed(request) -> None:
    if not can(request.user, Action.VIEW_ANALYTICS):
        raise PermissionDenied


def _period(request) -> tuple[Period, str | None]:
    """Return the period the query string asks for, or this month and the reason it could not be read."""
    today = timezone.localdate()
    try:
        return periods.parse(request.GET.get("period"), today, start=request.GET.get("start"),
                             end=request.GET.get("end")), None
    except PeriodError as error:
        return periods.named("this_month", today), f"{error.field}: {error.message}"


def _period_query(period: Period) -> dict[str, str]:
    if period.key == "custom":
        return {"period": "custom", "start": period.start.isoformat(), "end": period.end.isoformat()}
    return {"period": period.key}


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def trend_chart(trend: reports.Trend, kind: str) -> dict:
    """Describe the on-time share and p90 lines of one clock kind for static/sla/compliance.js."""
    return {
        "labels": [point.period.label for point in trend.points],
        "datasets": [
            {"label": "On time (%)", "axis": "share",
             "data": [_percent(point.figures[kind].on_time_share) for point in trend.points]},
            {"label": "p90 response (working hours)", "axis": "hours",
             "data": [_hours(point.figures[kind].p90_seconds) for point in trend.points]},
        ],
        "markers": [{"index": index, "label": f"v{ref.version}"} for index, ref in trend.markers],
    }


def pacing_chart(commitments: reports.Commitments) -> dict:
    """Describe the cumulative MQLs against the commitment for static/sla/compliance.js."""
    shown = [day for day in commitments.days if day.day <= commitments.today] or commitments.days[:1]
    return {
        "labels": [f"{day.day:%d %b}" for day in commitments.days],
        "datasets": [
            {"label": "MQLs handed over", "axis": "count", "data": [day.actual for day in shown]},
            {"label": "Commitment", "axis": "count", "dashed": True,
             "data": [round(day.committed, 1) for day in commitments.days]},
        ],
        "markers": [],
    }


@login_required
def compliance_page(request):
    _allowed(request)
    period, error = _period(request)
    group = request.GET.get("group", "rep")
    if group not in reports.GROUPS:
        group, error = "rep", "group: use rep or team."
    grain = request.GET.get("grain", "week")
    if grain not in periods.GRAINS:
        grain, error = "week", "grain: use week or month."
    kind = request.GET.get("kind", "first_touch")
    if kind not in reports.KINDS:
        kind, error = "first_touch", "kind: use first_touch, decision or attempts."
    report = reports.sales_compliance(visible_to=request.user, period=period, group=group)
    trend = reports.compliance_trend(visible_to=request.user,
                                     periods=periods.trend(grain, timezone.localdate(), TREND_POINTS[grain]))
    query = _period_query(period)
    drill = reverse("sla-compliance-clocks") + "?" + urlencode(query)
    report.total.link = drill
    for row in report.rows:
        if row.id is not None:
            row.link = f"{drill}&{'team' if group == 'team' else 'owner'}={row.id}"
    return render(request, "sla/compliance.html", {
        "report": report, "period": period, "group": group, "grain": grain, "kind": kind, "error": error,
        "period_choices": PERIOD_CHOICES, "kinds": [reports.Figures(k) for k in reports.KINDS],
        "trend_chart": trend_chart(trend, kind), "by_version": reports.compliance_by_version(visible_to=request.user),
        "query": urlencode(query),
    }, status=422 if error else 200)


@login_required
def compliance_clocks(request):
    _allowed(request)
    period, error = _period(request)
    filters = {}
    for name, cast in (("kind", str), ("outcome", str), ("owner", int), ("team", int), ("version", int)):
        raw = request.GET.get(name)
        if not raw:
            continue
        try:
            filters[name] = cast(raw)
        except ValueError:
            error = f"{name}: {raw!r} is not a number."
    if filters.get("kind") not in (None, *reports.KINDS):
        error = f"kind: {filters.pop('kind')!r} is not a clock kind."
    if filters.get("outcome") not in (None, *reports.OUTCOMES):
        error = f"outcome: {filters.pop('outcome')!r} is not one of {', '.join(reports.OUTCOMES)}."
    page = reports.compliance_clocks(
        visible_to=request.user, period=period, kind=filters.get("kind"), outcome=filters.get("outcome"),
        owner_id=filters.get("owner"), team_id=filters.get("team"), version=filters.get("version"),
        page=request.GET.get("page") or 1,
    )
    kept = {k: v for k, v in request.GET.items() if k != "page"}
    return render(request, "sla/compliance_clocks.html", {
        "page": page, "period": period, "filters": filters, "error": error, "query": urlencode(kept),
        "back": reverse("sla-compliance") + "?" + urlencode(_period_query(period)),
    }, status=422 if error else 200)


@login_required
def marketing_page(request):
    _allowed(request)
    period, error = _period(request)
    commitments = reports.marketing_commitments(period=period)
    return render(request, "sla/compliance_marketing.html", {
        "c": commitments, "period": period, "group": None, "error": error, "period_choices": PERIOD_CHOICES,
        "pacing_chart": pacing_chart(commitments),
        "pacing_percent": _percent(commitments.pacing),
        "acceptance_percent": _percent(commitments.acceptance_rate),
        "minimum_percent": _percent(commitments.min_acceptance_rate),
        "completeness_percent": _percent(commitments.completeness),
        "query": urlencode(_period_query(period)),
    }, status=422 if error else 200)
