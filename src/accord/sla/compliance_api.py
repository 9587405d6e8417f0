"""Endpoints for SLA compliance: sales' clocks per rep or team, and marketing's commitment.

They call the selectors the compliance pages call (sla.reports), so the numbers agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from accord.core.errors import PermissionDenied, ValidationFailed
from accord.core.permissions import Action, can
from accord.sla import periods, reports

router = Router(tags=["sla"])

PeriodName = Literal["this_week", "last_week", "this_month", "last_month", "this_quarter", "last_quarter", "custom"]


class PeriodQuery(Schema):
    period: PeriodName = Field("this_month", description="A named period, or `custom` with `start` and `end`.")
    start: dt.date | None = Field(None, description="First day of a custom period (YYYY-MM-DD).")
    end: dt.date | None = Field(None, description="Last day of a custom period, included (at most two years on).")


class ComplianceQuery(PeriodQuery):
    group: Literal["rep", "team"] = Field("rep", description="One row per rep, or per team.")


class PeriodOut(Schema):
    key: str
    start: dt.date
    end: dt.date
    label: str


class FiguresOut(Schema):
    kind: Literal["first_touch", "decision", "attempts"]
    due: int = Field(description="Clocks that fell due in the period: met on time, met late, or missed.")
    met_on_time: int
    met_late: int
    breached: int = Field(description="Past due and not met (still open, or closed after the due time).")
    breaches: int = Field(description="met_late + breached: every clock not met by its due time.")
    cancelled: int = Field(description="Closed before the due time (reassigned, rejected, converted): not due.")
    attempts: int = Field(description="Attempts logged on the settled clocks (the attempts clock only).")
    on_time_share: float | None = Field(description="met_on_time / due; null when nothing fell due.")
    median_seconds: float | None = Field(description="Median response time of the met clocks, in the clock's "
                                         "own time (working seconds for first touch and decision).")
    p90_seconds: float | None


class GroupOut(Schema):
    id: int | None = Field(description="The rep's or team's id; null for a total or the no-team row.")
    name: str
    kinds: list[FiguresOut]


class VersionOut(Schema):
    version: int
    effective_from: dt.datetime


class ComplianceOut(Schema):
    period: PeriodOut
    group: str
    versions: list[VersionOut] = Field(description="The SLA versions in force at some moment of the period.")
    rows: list[GroupOut]
    total: GroupOut
    team_total: GroupOut | None = Field(description="For a sales rep: their team's totals, without colleagues.")


class PacingDayOut(Schema):
    day: dt.date
    actual: int = Field(description="MQLs handed over by the end of the day, cumulative.")
    committed: float = Field(description="The commitment by the end of the day, cumulative.")


class CommitmentsOut(Schema):
    period: PeriodOut
    sla_version: int | None
    commitment_source: str = Field(description="`sla`, `goal plan`, `sla and goal plan`, or `none`.")
    committed: float | None = Field(description="MQLs committed for the period, prorated by day.")
    handed_over: int
    expected_to_date: float | None = Field(description="What the commitment expected by today (all of it once "
                                           "the period is over).")
    pacing: float | None = Field(description="handed_over / expected_to_date.")
    accepted: int
    rejected: int
    acceptance_rate: float | None
    min_acceptance_rate: float
    complete: int = Field(description="Leads handed over with every required field.")
    completeness: float | None
    required_fields: list[str]
    missing_by_field: dict[str, int]
    days: list[PacingDayOut]


def _period(query: PeriodQuery) -> periods.Period:
    try:
        return periods.parse(query.period, timezone.localdate(),
                             start=query.start.isoformat() if query.start else None,
                             end=query.end.isoformat() if query.end else None)
    except periods.PeriodError as error:
        raise ValidationFailed(error.message, field=error.field) from None


def _allowed(request) -> None:
    if not can(request.user, Action.VIEW_ANALYTICS):
        raise PermissionDenied("Your role may not view analytics.")


def _group(row: reports.GroupRow) -> dict:
    return {"id": row.id, "name": row.name, "kinds": [f.as_dict() for f in row.ordered()]}


def _period_out(period: periods.Period) -> dict:
    return {"key": period.key, "start": period.start, "end": period.end, "label": period.label}


@router.get("/sla/compliance", response=ComplianceOut)
def sla_compliance(request, query: Query[ComplianceQuery]):
    """Show sales' SLA compliance per rep or team and clock kind, for the clocks that fell due in the period.

    A rep sees themself and their team's totals; a sales manager their team; everyone else all.
    """
    _allowed(request)
    report = reports.sales_compliance(visible_to=request.user, period=_period(query), group=query.group)
    return {
        "period": _period_out(report.period), "group": report.group,
        "versions": [{"version": v.version, "effective_from": v.effective_from} for v in report.versions],
        "rows": [_group(row) for row in report.rows], "total": _group(report.total),
        "team_total": _group(report.team_total) if report.team_total else None,
    }


@router.get("/sla/commitments", response=CommitmentsOut)
def sla_commitments(request, query: Query[PeriodQuery]):
    """Show marketing's side of the SLA over the period: MQLs against the commitment with pacing,
    acceptance by sales, and the share of leads that carried every required field."""
    _allowed(request)
    return reports.marketing_commitments(period=_period(query)).as_dict()
