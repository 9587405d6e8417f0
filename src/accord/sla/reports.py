"""Reads for the compliance reports: both sides of the SLA, per period, from rollups and not from scans.

Sales' side reads `ComplianceDaily` and its weekly and monthly sums (sla.rollup); marketing's
side reads `HandoverDaily` (sla.handover_rollup), one row per day of the period. The pages and
the API call the same functions, so they show the same numbers. Every read is scoped to the
viewer through core.permissions.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import F, Q, Sum
from django.utils import timezone

from accord.core.permissions import Role, owner_scope
from accord.planning.models import Goal
from accord.sla import compliance, handover_rollup
from accord.sla.compliance import COUNTERS
from accord.sla.document import SlaDocument
from accord.sla.models import (
    HISTOGRAM_COLUMNS,
    MISSING_COLUMNS,
    ComplianceDaily,
    ComplianceMonthly,
    ComplianceWeekly,
    Handover,
    HandoverDaily,
    SlaClock,
    SlaVersion,
)
from accord.sla.periods import Period, month_end

KINDS = tuple(SlaClock.Kind)
GROUPS = ("rep", "team")
OUTCOMES = ("due", "met_on_time", "met_late", "breached", "cancelled", "missed")
_SUMS = {name: Sum(name) for name in (*COUNTERS, *HISTOGRAM_COLUMNS)}


def bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """Return [the start of the first day, the start of the day after the last) in the site's time zone."""
    start = timezone.make_aware(dt.datetime.combine(period.start, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min))
    return start, end


# -- sales' side --------------------------------------------------------------------------


@dataclass
class Figures:
    """One clock kind's compliance over a set of rollup rows."""

    kind: str
    met_on_time: int = 0
    met_late: int = 0
    breached: int = 0
    cancelled: int = 0
    attempts: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * compliance.BUCKETS)

    @classmethod
    def from_sums(cls, kind: str, sums: dict) -> Figures:
        return cls(kind, *(sums[name] or 0 for name in COUNTERS),
                   histogram=[sums[name] or 0 for name in HISTOGRAM_COLUMNS])

    def add(self, other: Figures) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]

    @property
    def label(self) -> str:
        return SlaClock.Kind(self.kind).label

    @property
    def due(self) -> int:
        """Return the clocks that fell due: met (on time or late) or missed; lifted ones are not due."""
        return self.met_on_time + self.met_late + self.breached

    @property
    def breaches(self) -> int:
        """Return the clocks not met by their due time, met late since or not."""
        return self.met_late + self.breached

    @property
    def on_time_share(self) -> float | None:
        return compliance.share(self.met_on_time, self.due)

    @property
    def median_seconds(self) -> float | None:
        return compliance.quantile(self.histogram, 0.5)

    @property
    def p90_seconds(self) -> float | None:
        return compliance.quantile(self.histogram, 0.9)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "due": self.due, "met_on_time": self.met_on_time, "met_late": self.met_late,
                "breached": self.breached, "breaches": self.breaches, "cancelled": self.cancelled,
                "attempts": self.attempts, "on_time_share": self.on_time_share,
                "median_seconds": self.median_seconds, "p90_seconds": self.p90_seconds}


def _by_kind() -> dict[str, Figures]:
    return {kind: Figures(kind) for kind in KINDS}


@dataclass
class GroupRow:
    """One rep's or team's figures per clock kind; `id` None is the "no team" row or a total."""

    id: int | None
    name: str
    figures: dict[str, Figures] = field(default_factory=_by_kind)
    link: str = ""  # the drill-down's address for this row, set by the page

    def ordered(self) -> list[Figures]:
        return [self.figures[kind] for kind in KINDS]


@dataclass(frozen=True)
class VersionRef:
    version: int
    effective_from: dt.datetime


@dataclass
class ComplianceReport:
    period: Period
    group: str
    rows: list[GroupRow]
    total: GroupRow
    # For a rep: their team's totals, without a line per colleague.
    team_total: GroupRow | None
    versions: list[VersionRef]


def _spans(start: dt.date, end: dt.date) -> dict[type, list[tuple[dt.date, dt.date]]]:
    """Split the days [start, end] into whole months, whole weeks at the edges, and single days.

    Returns, per rollup table, the ranges of its `start`/`day` values to read: a year is about
    eleven months, a few weeks and a few days, ~10× fewer rows than 365 days.
    """
    spans: dict[type, list[tuple[dt.date, dt.date]]] = {ComplianceMonthly: [], ComplianceWeekly: [], ComplianceDaily: []}
    first = start if start.day == 1 else month_end(start) + dt.timedelta(days=1)
    last = first
    while month_end(last) <= end:
        last = month_end(last) + dt.timedelta(days=1)
    if last > first:  # whole months [first, last)
        spans[ComplianceMonthly].append((first, last - dt.timedelta(days=1)))
        edges = [(start, first - dt.timedelta(days=1)), (last, end)]
    else:
        edges = [(start, end)]
    for low, high in edges:
        if low > high:
            continue
        monday = low + dt.timedelta(days=-low.weekday() % 7)
        sunday = high - dt.timedelta(days=(high.weekday() + 1) % 7)
        if sunday - monday >= dt.timedelta(days=6):
            spans[ComplianceWeekly].append((monday, sunday))
            days = [(low, monday - dt.timedelta(days=1)), (sunday + dt.timedelta(days=1), high)]
        else:
            days = [(low, high)]
        spans[ComplianceDaily] += [(a, b) for a, b in days if a <= b]
    return spans


def _rollup_sums(visible_to, periods: list[Period], keys: tuple[str, ...], *, at: bool = False, **filters):
    """Return the summed counters per `keys` (and per row date, as `at`, if asked) over the periods' days.

    One query: whole months from the monthly rollup, whole weeks from the weekly one, the rest
    from the daily one, as one UNION ALL of grouped reads. A group may come back once per table;
    callers add the parts up.
    """
    scope = owner_scope(visible_to, field="owner") if visible_to is not None else Q()
    parts = []
    merged: dict[type, list[tuple[dt.date, dt.date]]] = {}
    for period in periods:
        for model, ranges in _spans(period.start, period.end).items():
            merged.setdefault(model, []).extend(ranges)
    for model, ranges in merged.items():
        if not ranges:
            continue
        column = "day" if model is ComplianceDaily else "start"
        within = Q()
        for low, high in ranges:
            within |= Q(**{f"{column}__gte": low, f"{column}__lte": high})
        rows = model.objects.filter(scope, within, **filters)
        if at:
            rows = rows.annotate(at=F(column))
        parts.append(rows.values(*(("at",) if at else ()), *keys).annotate(**_SUMS).order_by())
    if not parts:
        return []
    # No ORDER BY: the first table's default ordering names columns the union does not select.
    return parts[0].union(*parts[1:], all=True).order_by() if len(parts) > 1 else parts[0]


def _person(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def versions_in_force(period: Period) -> list[VersionRef]:
    """Return the SLA versions that governed some moment of the period, oldest first."""
    start, end = bounds(period)
    chosen: list[VersionRef] = []
    for version, effective in (SlaVersion.objects.filter(effective_from__lt=end)
                               .order_by("effective_from", "version").values_list("version", "effective_from")):
        if effective <= start:
            chosen = []  # superseded before the period began
        chosen.append(VersionRef(version, effective))
    return chosen


def sales_compliance(*, visible_to, period: Period, group: str = "rep") -> ComplianceReport:
    """Return each visible rep's (or team's) compliance per clock kind for clocks due in the period.

    Three queries whatever the data: the rows, the versions, and (for a rep) their team's totals.
    """
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}")
    if group == "rep":
        keys = ("owner_id", "owner__first_name", "owner__last_name", "owner__username")
    else:
        keys = ("team_id", "team__name")
    grouped: dict[int | None, GroupRow] = {}
    total = GroupRow(None, "All you can see")
    for sums in _rollup_sums(visible_to, [period], (*keys, "kind")):
        if group == "rep":
            name = _person(sums["owner__first_name"], sums["owner__last_name"], sums["owner__username"])
            row_id = sums["owner_id"]
        else:
            name, row_id = sums["team__name"] or "No team", sums["team_id"]
        row = grouped.setdefault(row_id, GroupRow(row_id, name))
        figures = Figures.from_sums(sums["kind"], sums)
        row.figures[sums["kind"]].add(figures)
        total.figures[sums["kind"]].add(figures)
    team_total = None
    if visible_to.role == Role.SALES_REP and visible_to.team_id is not None:
        team_total = GroupRow(visible_to.team_id, f"{visible_to.team.name} (team total)")
        # Every rep of the team, whoever may see them: a rep sees the team's total, not its lines.
        for sums in _rollup_sums(None, [period], ("kind",), team_id=visible_to.team_id):
            team_total.figures[sums["kind"]].add(Figures.from_sums(sums["kind"], sums))
    return ComplianceReport(
        period=period, group=group, rows=sorted(grouped.values(), key=lambda r: r.name.lower()),
        total=total, team_total=team_total, versions=versions_in_force(period),
    )


@dataclass
class TrendPoint:
    period: Period
    figures: dict[str, Figures]


@dataclass
class Trend:
    points: list[TrendPoint]
    # Versions that took effect inside the window, with the index of the point they fall in.
    markers: list[tuple[int, VersionRef]]


def compliance_trend(*, visible_to, periods: list[Period]) -> Trend:
    """Return on-time share and response times per week or month over `periods` (consecutive, oldest first)."""
    first, last = periods[0].start, periods[-1].end
    points = [TrendPoint(p, _by_kind()) for p in periods]
    starts = [p.start for p in periods]
    for sums in _rollup_sums(visible_to, periods, ("kind",), at=True):
        # Every rollup row read lies inside one point: the one starting last on or before it.
        point = points[bisect.bisect_right(starts, sums["at"]) - 1]
        point.figures[sums["kind"]].add(Figures.from_sums(sums["kind"], sums))
    start, end = bounds(Period(first, last, "", "custom"))
    markers = []
    for version, effective in SlaVersion.objects.filter(effective_from__gte=start, effective_from__lt=end) \
            .order_by("effective_from").values_list("version", "effective_from"):
        day = timezone.localdate(effective)
        at = next(i for i, p in enumerate(periods) if p.start <= day <= p.end)
        markers.append((at, VersionRef(version, effective)))
    return Trend(points, markers)


@dataclass
class VersionRow:
    version: int
    effective_from: dt.datetime
    figures: dict[str, Figures]

    def ordered(self) -> list[Figures]:
        return [self.figures[kind] for kind in KINDS]


def compliance_by_version(*, visible_to) -> list[VersionRow]:
    """Return compliance under each SLA version (clocks keep the version they opened under), newest first."""
    result: dict[int, VersionRow] = {}
    # Every daily row is in some month: all time is the whole monthly rollup.
    rows = (ComplianceMonthly.objects.filter(owner_scope(visible_to, field="owner"))
            .values("sla_version__version", "sla_version__effective_from", "kind").annotate(**_SUMS).order_by())
    for sums in rows:
        number = sums["sla_version__version"]
        row = result.setdefault(number, VersionRow(number, sums["sla_version__effective_from"], _by_kind()))
        row.figures[sums["kind"]].add(Figures.from_sums(sums["kind"], sums))
    return sorted(result.values(), key=lambda r: -r.version)


def _outcome_filter(outcome: str) -> Q:
    # The same rules as sla.compliance.outcome, as SQL: a paused clock counts by whether it
    # stopped inside its time.
    inside = Q(paused_since__isnull=False, paused_since__lte=F("due_at"))
    met_in_time = Q(met_at__isnull=False) & (Q(met_at__lte=F("due_at")) | inside)
    closed_in_time = (Q(cancelled_at__isnull=False, breached_at__isnull=True)
                      & (Q(cancelled_at__lte=F("due_at")) | inside))
    met = Q(met_at__isnull=False)
    unmet_missed = Q(met_at__isnull=True) & (Q(breached_at__isnull=False)
                                             | (Q(cancelled_at__isnull=False) & ~closed_in_time))
    return {
        "due": met | unmet_missed,
        "met_on_time": met_in_time,
        "met_late": met & ~met_in_time,
        "breached": unmet_missed,
        "missed": (met & ~met_in_time) | unmet_missed,
        "cancelled": Q(met_at__isnull=True) & closed_in_time,
    }[outcome]


def compliance_clocks(*, visible_to, period: Period, kind: str | None = None, outcome: str | None = None,
                      owner_id: int | None = None, team_id: int | None = None, version: int | None = None,
                      page: int = 1, per_page: int = 50) -> Page:
    """Return a page of the visible clocks behind a compliance figure, soonest due first."""
    start, end = bounds(period)
    clocks = (SlaClock.objects.filter(owner_scope(visible_to, field="owner"), due_at__gte=start, due_at__lt=end)
              .select_related("contact", "owner", "sla_version"))
    if kind:
        clocks = clocks.filter(kind=kind)
    if outcome:
        clocks = clocks.filter(_outcome_filter(outcome))
    if owner_id is not None:
        clocks = clocks.filter(owner_id=owner_id)
    if team_id is not None:
        clocks = clocks.filter(owner__team_id=team_id)
    if version is not None:
        clocks = clocks.filter(sla_version__version=version)
    return Paginator(clocks.order_by("due_at", "id"), per_page).get_page(page)


# -- marketing's side ---------------------------------------------------------------------


@dataclass
class PacingDay:
    day: dt.date
    actual: int  # cumulative MQLs handed over by the end of the day
    committed: float  # cumulative commitment by the end of the day


@dataclass
class Commitments:
    """Marketing's side of the SLA over a period: MQLs against the commitment, acceptance, completeness."""

    period: Period
    today: dt.date
    version: int | None
    source: str  # "sla", "goal plan", or "none" when neither names a number
    committed: float | None
    handed_over: int
    expected_to_date: float | None
    days: list[PacingDay]
    accepted: int
    rejected: int
    min_acceptance_rate: float
    complete: int
    required_fields: list[str]
    missing_by_field: dict[str, int]

    @property
    def pacing(self) -> float | None:
        """Return MQLs so far as a share of what the commitment expected by today."""
        if not self.expected_to_date:
            return None
        return self.handed_over / self.expected_to_date

    @property
    def acceptance_rate(self) -> float | None:
        return compliance.share(self.accepted, self.accepted + self.rejected)

    @property
    def completeness(self) -> float | None:
        return compliance.share(self.complete, self.handed_over)

    @property
    def acceptance_below_minimum(self) -> bool:
        rate = self.acceptance_rate
        return rate is not None and rate < self.min_acceptance_rate

    def as_dict(self) -> dict:
        return {
            "period": {"key": self.period.key, "start": self.period.start, "end": self.period.end,
                       "label": self.period.label},
            "sla_version": self.version, "commitment_source": self.source, "committed": self.committed,
            "handed_over": self.handed_over, "expected_to_date": self.expected_to_date, "pacing": self.pacing,
            "accepted": self.accepted, "rejected": self.rejected, "acceptance_rate": self.acceptance_rate,
            "min_acceptance_rate": self.min_acceptance_rate, "complete": self.complete,
            "completeness": self.completeness, "required_fields": self.required_fields,
            "missing_by_field": self.missing_by_field,
            "days": [{"day": d.day, "actual": d.actual, "committed": round(d.committed, 2)} for d in self.days],
        }


def _document_per_day(period: Period) -> dict[dt.date, tuple[int, SlaDocument]]:
    """Return the version and document in force at the end of each day of the period."""
    _, end = bounds(period)
    versions = list(SlaVersion.objects.filter(effective_from__lt=end).order_by("effective_from", "version")
                    .values_list("version", "effective_from", "document"))
    if not versions:
        first = SlaVersion.objects.order_by("version").values_list("version", "effective_from", "document").first()
        versions = [first] if first else []
    parsed = [(number, effective, SlaDocument.model_validate(doc)) for number, effective, doc in versions]
    result = {}
    for day in period.each_day():
        day_end = bounds(Period(day, day, "", "custom"))[1]
        chosen = None
        for number, effective, document in parsed:
            if effective < day_end or chosen is None:
                chosen = (number, document)
        if chosen:
            result[day] = chosen
    return result


def _goal_per_day(period: Period) -> dict[dt.date, float]:
    """Return each day's share of the company-wide MQL goals that cover it."""
    per_day: dict[dt.date, float] = {}
    goals = Goal.objects.filter(metric=Goal.Metric.MQLS, team__isnull=True, period_start__lte=period.end,
                                period_end__gte=period.start).values_list("period_start", "period_end", "target")
    for start, end, target in goals:
        daily = float(Decimal(target)) / ((end - start).days + 1)
        for day in period.each_day():
            if start <= day <= end:
                per_day[day] = per_day.get(day, 0.0) + daily
    return per_day


def _month_days(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def marketing_commitments(*, period: Period, today: dt.date | None = None) -> Commitments:
    """Return MQLs handed over against the commitment, with pacing, acceptance and completeness.

    The commitment is the SLA's `mqls_per_month`, prorated by day, or, where the version in
    force leaves it out, the company-wide MQL goals of the goal plan prorated by day. Company
    wide figures: every role that reads analytics sees the same numbers.
    """
    today = today or timezone.localdate()
    documents = _document_per_day(period)
    goal_days = None
    daily_commitment: dict[dt.date, float] = {}
    sources = set()
    for day in period.each_day():
        entry = documents.get(day)
        monthly = entry[1].marketing.mqls_per_month if entry else None
        if monthly is not None:
            daily_commitment[day] = monthly / _month_days(day)
            sources.add("sla")
        else:
            if goal_days is None:
                goal_days = _goal_per_day(period)
            if day in goal_days:
                daily_commitment[day] = goal_days[day]
                sources.add("goal plan")
    source = " and ".join(sorted(sources, reverse=True)) if sources else "none"
    # One row per day of the period (at most 731), kept as handovers and verdicts are written.
    per_day = {row[0]: row[1:] for row in HandoverDaily.objects.filter(day__gte=period.start, day__lte=period.end)
               .values_list("day", *handover_rollup.COLUMNS)}
    totals = [sum(column) for column in zip(*per_day.values(), strict=True)] or [0] * len(handover_rollup.COLUMNS)
    sums = dict(zip(handover_rollup.COLUMNS, totals, strict=True))
    days, actual, committed = [], 0, 0.0
    elapsed = period.elapsed_days(today)
    expected = None
    for offset, day in enumerate(period.each_day()):
        row = per_day.get(day)
        actual += row[0] if row else 0
        committed += daily_commitment.get(day, 0.0)
        days.append(PacingDay(day, actual, committed))
        if offset < elapsed:
            expected = committed
    # Most often missing first; ties in the order the SLA document lists the fields.
    missing = {column.removeprefix("missing_"): sums[column] for column in MISSING_COLUMNS if sums[column]}
    latest = documents.get(min(period.end, max(period.start, today)))
    document = latest[1] if latest else SlaDocument()
    return Commitments(
        period=period, today=today, version=latest[0] if latest else None, source=source,
        committed=round(committed, 2) if daily_commitment else None,
        handed_over=sums["handed_over"],
        expected_to_date=round(expected, 2) if daily_commitment and expected is not None else None,
        days=days, accepted=sums["accepted"], rejected=sums["rejected"],
        min_acceptance_rate=document.marketing.min_acceptance_rate, complete=sums["complete"],
        required_fields=list(document.marketing.required_fields),
        missing_by_field=dict(sorted(missing.items(), key=lambda item: -item[1])),
    )


def handovers_recorded_since() -> dt.datetime | None:
    """Return when the first handover was recorded: months before it were not measured, only missed."""
    return Handover.objects.order_by("at").values_list("at", flat=True).first()
