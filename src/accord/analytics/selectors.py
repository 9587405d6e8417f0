"""The figures the home pages show: one read-only function per number, scoped to the viewer.

Each figure is its own function so that dashboards can move to rollup tables one number
at a time without their callers changing. Analytics only reads: nothing here writes.

Scoping: functions taking `visible_to` count only the records that user may see
(core.permissions.owner_scope), so a rep's figures are their own book. Functions without
it are company-wide aggregates (the shared revenue goal and progress against it) that
every role is meant to see.

Amounts are summed as stored, whatever their currency: Accord runs in one currency per
site (ACCORD_CURRENCY) until it learns exchange rates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accord.capture.models import Campaign, Contact, CostEntry
from accord.capture.selectors import campaigns_visible_to, with_scores
from accord.core.permissions import owner_scope
from accord.core.vocabulary import FUNNEL_STAGES, Channel, LifecycleStage
from accord.deals.models import Deal
from accord.lifecycle.models import StageTransition
from accord.planning.models import Goal

ZERO = Decimal("0")
CENTS = Decimal("0.01")
MONEY = DecimalField(max_digits=20, decimal_places=2)
# Stages in which a lead sits with sales but is not yet qualified: the rep's work queue.
OPEN_LEAD_STAGES = (LifecycleStage.MQL, LifecycleStage.SAL)


@dataclass(frozen=True)
class Period:
    """A span of whole days, both ends included, in the site's time zone."""

    start: dt.date
    end: dt.date
    label: str

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Return the aware datetimes [start of the first day, start of the day after the last)."""
        return _midnight(self.start), _midnight(self.end + dt.timedelta(days=1))


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def month_to_date(today: dt.date) -> Period:
    return Period(today.replace(day=1), today, today.strftime("%B %Y"))


def quarter_to_date(today: dt.date) -> Period:
    quarter = (today.month - 1) // 3
    start = dt.date(today.year, 3 * quarter + 1, 1)
    return Period(start, today, f"Q{quarter + 1} {today.year} to date")


def _money(value: Decimal | float | int | None) -> Decimal:
    # SQLite hands back floats for products of decimals; round once, here.
    return Decimal(str(value or 0)).quantize(CENTS)


def _in(period: Period, field: str) -> Q:
    start, end = period.bounds
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


# Lifecycle -----------------------------------------------------------------------------


def stage_entries(*, visible_to, period: Period) -> dict[str, int]:
    """Count the contacts that entered each funnel stage during the period.

    A contact that entered a stage twice (recycled, then requalified) counts once.
    """
    rows = (
        StageTransition.objects.filter(owner_scope(visible_to, field="contact__owner"))
        .filter(_in(period, "occurred_at"), to_stage__in=FUNNEL_STAGES)
        .values("to_stage")
        .annotate(contacts=Count("contact", distinct=True))
        .order_by()
    )
    counts = {row["to_stage"]: row["contacts"] for row in rows}
    return {stage.value: counts.get(stage.value, 0) for stage in FUNNEL_STAGES}


def contacts_by_stage(*, visible_to) -> dict[str, int]:
    """Count the contacts in each lifecycle stage now, funnel stages first."""
    rows = (
        Contact.objects.filter(owner_scope(visible_to))
        .values("lifecycle_stage")
        .annotate(contacts=Count("id"))
        .order_by()
    )
    counts = {row["lifecycle_stage"]: row["contacts"] for row in rows}
    ordered = [*FUNNEL_STAGES, LifecycleStage.NURTURE, LifecycleStage.DISQUALIFIED, LifecycleStage.SUBSCRIBER]
    return {stage.value: counts.get(stage.value, 0) for stage in ordered}


def new_leads_by_channel(*, visible_to, period: Period) -> dict[str, int]:
    """Count the contacts captured during the period, by the channel they came in through."""
    rows = (
        Contact.objects.filter(owner_scope(visible_to))
        .filter(_in(period, "created_at"))
        .values("lead_source")
        .annotate(contacts=Count("id"))
        .order_by()
    )
    return {row["lead_source"]: row["contacts"] for row in rows}


def mqls_by_channel(*, visible_to, period: Period) -> dict[str, int]:
    """Count the contacts that became MQLs during the period, by their lead source."""
    rows = (
        StageTransition.objects.filter(owner_scope(visible_to, field="contact__owner"))
        .filter(_in(period, "occurred_at"), to_stage=LifecycleStage.MQL)
        .values("contact__lead_source")
        .annotate(contacts=Count("contact", distinct=True))
        .order_by()
    )
    return {row["contact__lead_source"]: row["contacts"] for row in rows}


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    label: str
    leads: int
    mqls: int


def leads_and_mqls_by_channel(*, visible_to, period: Period) -> list[ChannelRow]:
    """Join new leads and MQLs per channel, busiest channel first; blank sources are 'Unknown'."""
    leads = new_leads_by_channel(visible_to=visible_to, period=period)
    mqls = mqls_by_channel(visible_to=visible_to, period=period)
    labels = dict(Channel.choices)
    rows = [
        ChannelRow(key, labels.get(key, "Unknown"), leads.get(key, 0), mqls.get(key, 0))
        for key in set(leads) | set(mqls)
    ]
    return sorted(rows, key=lambda row: (-row.leads, -row.mqls, row.label))


def open_leads_owned_by(*, user, limit: int = 10) -> tuple[int, list[Contact]]:
    """Return how many MQL/SAL contacts the user owns, and the best-scored `limit` of them."""
    leads = Contact.objects.filter(owner=user, lifecycle_stage__in=OPEN_LEAD_STAGES)
    rows = list(with_scores(leads).select_related("account").order_by("-score", "-created_at", "-id")[:limit])
    total = len(rows) if len(rows) < limit else leads.count()
    return total, rows


# Marketing spend -----------------------------------------------------------------------


@dataclass(frozen=True)
class CostPerLead:
    spend: Decimal
    leads: int

    @property
    def per_lead(self) -> Decimal | None:
        return (self.spend / self.leads).quantize(CENTS) if self.leads else None


def marketing_spend(*, period: Period) -> Decimal:
    """Sum the campaign costs dated inside the period (company-wide)."""
    total = CostEntry.objects.filter(date__gte=period.start, date__lte=period.end).aggregate(
        total=Sum("amount")
    )["total"]
    return _money(total)


def cost_per_lead(*, period: Period, leads: int) -> CostPerLead:
    """Divide the period's spend by the leads it brought in (pass the company-wide lead count)."""
    return CostPerLead(spend=marketing_spend(period=period), leads=leads)


@dataclass(frozen=True)
class CampaignRow:
    id: int
    name: str
    channel_label: str
    leads: int
    spend: Decimal

    @property
    def per_lead(self) -> Decimal | None:
        return (self.spend / self.leads).quantize(CENTS) if self.leads else None


def top_campaigns(*, visible_to, period: Period, limit: int = 5) -> list[CampaignRow]:
    """Return the campaigns that sourced the most new contacts in the period, with their spend."""
    # Counting from the period's contacts (indexed by creation time) rather than joining
    # every campaign to all its contacts keeps this cheap however old the database is.
    counts = list(
        Contact.objects.filter(owner_scope(visible_to), _in(period, "created_at"))
        .filter(original_campaign__in=campaigns_visible_to(user=visible_to))
        .values("original_campaign")
        .annotate(leads=Count("id"))
        .order_by("-leads", "original_campaign")[:limit]
    )
    if not counts:
        return []
    spend = (
        CostEntry.objects.filter(campaign=OuterRef("pk"), date__gte=period.start, date__lte=period.end)
        .values("campaign")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    campaigns = Campaign.objects.filter(pk__in=[row["original_campaign"] for row in counts]).annotate(
        spend=Coalesce(Subquery(spend, output_field=MONEY), Value(ZERO), output_field=MONEY)
    )
    by_id = {campaign.pk: campaign for campaign in campaigns}
    labels = dict(Channel.choices)
    rows = []
    for row in counts:
        c = by_id[row["original_campaign"]]
        rows.append(CampaignRow(c.id, c.name, labels.get(c.channel, c.channel), row["leads"], _money(c.spend)))
    return rows


# Pipeline and revenue ------------------------------------------------------------------


def _weighted_amount():
    # A rep's own probability wins over the stage's default.
    return ExpressionWrapper(
        F("amount") * Coalesce("probability", "stage__probability"), output_field=MONEY
    )


@dataclass(frozen=True)
class PipelineTotals:
    deals: int
    amount: Decimal
    weighted: Decimal


def open_pipeline(*, visible_to) -> PipelineTotals:
    """Sum the open deals the user may see, as booked and weighted by win probability."""
    totals = Deal.objects.filter(owner_scope(visible_to), status=Deal.Status.OPEN).aggregate(
        deals=Count("id"), booked=Sum("amount"), weighted=Sum(_weighted_amount())
    )
    return PipelineTotals(totals["deals"], _money(totals["booked"]), _money(totals["weighted"]))


def open_deals_owned_by(*, user, limit: int = 10) -> QuerySet[Deal]:
    """Return the user's own open deals, soonest close date first."""
    return (
        Deal.objects.filter(owner=user, status=Deal.Status.OPEN)
        .select_related("account", "stage")
        .order_by(F("close_date").asc(nulls_last=True), "-amount", "id")[:limit]
    )


def revenue_won(*, visible_to, period: Period) -> Decimal:
    """Sum the deals the user may see that were won during the period."""
    total = Deal.objects.filter(
        owner_scope(visible_to), _in(period, "closed_at"), status=Deal.Status.WON
    ).aggregate(total=Sum("amount"))["total"]
    return _money(total)


@dataclass(frozen=True)
class MonthAmount:
    month: dt.date
    amount: Decimal

    @property
    def label(self) -> str:
        return self.month.strftime("%b %Y")


def won_by_month(*, visible_to, today: dt.date, months: int = 6) -> list[MonthAmount]:
    """Sum won deals per calendar month for the last `months` months, this one included."""
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    period = Period(first, today, "")
    rows = (
        Deal.objects.filter(owner_scope(visible_to), _in(period, "closed_at"), status=Deal.Status.WON)
        .annotate(month=TruncMonth("closed_at"))
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by("month")
    )
    totals = {_as_date(row["month"]): _money(row["total"]) for row in rows}
    out, month = [], first
    while month <= today:
        out.append(MonthAmount(month, totals.get(month, _money(0))))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    won: Decimal

    @property
    def target(self) -> Decimal:
        return _money(self.goal.target)

    @property
    def percent(self) -> int:
        return int(100 * self.won / self.target) if self.target else 0

    @property
    def bar_percent(self) -> int:
        return min(100, self.percent)

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.target - self.won)


def revenue_goal(*, on: dt.date, team=None) -> Goal | None:
    """Return the revenue goal covering the day: the company's, or the team's if one is given.

    When goals overlap (a year and its quarters) the shortest period wins: it is the one
    people steer by this week.
    """
    goals = Goal.objects.filter(
        metric=Goal.Metric.REVENUE, period_start__lte=on, period_end__gte=on, team=team
    )
    return min(goals, key=lambda g: (g.period_end - g.period_start, -g.pk), default=None)


def revenue_vs_goal(*, on: dt.date, team=None) -> GoalProgress | None:
    """Compare revenue won during the goal's period with its target (company-wide, or one team)."""
    goal = revenue_goal(on=on, team=team)
    if goal is None:
        return None
    period = Period(goal.period_start, goal.period_end, goal.name)
    won = Deal.objects.filter(_in(period, "closed_at"), status=Deal.Status.WON)
    if team is not None:
        won = won.filter(owner__team=team)
    return GoalProgress(goal, _money(won.aggregate(total=Sum("amount"))["total"]))


@dataclass(frozen=True)
class Coverage:
    pipeline: Decimal
    remaining: Decimal

    @property
    def ratio(self) -> Decimal | None:
        """Return pipeline ÷ what is left to win, or None once the goal is reached."""
        return (self.pipeline / self.remaining).quantize(Decimal("0.1")) if self.remaining else None


def pipeline_coverage(*, progress: GoalProgress) -> Coverage:
    """Set the open pipeline due to close by the goal's end against the revenue still to win."""
    pipeline = Deal.objects.filter(
        status=Deal.Status.OPEN, close_date__lte=progress.goal.period_end
    ).aggregate(total=Sum("amount"))["total"]
    return Coverage(pipeline=_money(pipeline), remaining=progress.remaining)


@dataclass(frozen=True)
class RepRow:
    owner_id: int | None
    name: str
    open_deals: int
    open_amount: Decimal
    weighted: Decimal
    won: Decimal


def pipeline_by_rep(*, visible_to, period: Period) -> list[RepRow]:
    """Return each owner's open pipeline and revenue won in the period, biggest pipeline first."""
    is_open = Q(status=Deal.Status.OPEN)
    won_in_period = Q(status=Deal.Status.WON) & _in(period, "closed_at")
    rows = (
        Deal.objects.filter(owner_scope(visible_to))
        .filter(is_open | won_in_period)
        .values("owner_id", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(
            open_deals=Count("id", filter=is_open),
            open_amount=Sum("amount", filter=is_open),
            weighted=Sum(_weighted_amount(), filter=is_open),
            won=Sum("amount", filter=won_in_period),
        )
        .order_by()
    )
    out = []
    for row in rows:
        if row["owner_id"] is None:
            name = "Unassigned"
        else:
            full = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
            name = full or row["owner__username"]
        out.append(
            RepRow(
                owner_id=row["owner_id"],
                name=name,
                open_deals=row["open_deals"],
                open_amount=_money(row["open_amount"]),
                weighted=_money(row["weighted"]),
                won=_money(row["won"]),
            )
        )
    return sorted(out, key=lambda r: (-r.open_amount, -r.won, r.name))
