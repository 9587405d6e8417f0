import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.analytics import selectors as figures
from accord.analytics.tests.factories import GoalFactory, StageTransitionFactory
from accord.capture.tests.factories import CampaignFactory, ContactFactory, CostEntryFactory
from accord.core.permissions import Role
from accord.core.vocabulary import Channel, LifecycleStage
from accord.deals.models import Deal
from accord.deals.tests.factories import DealFactory, PipelineStageFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 5, 20)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_periods_run_from_the_first_of_the_month_and_of_the_quarter_to_today():
    assert figures.month_to_date(TODAY) == figures.Period(dt.date(2026, 5, 1), TODAY, "May 2026")
    assert figures.quarter_to_date(TODAY) == figures.Period(dt.date(2026, 4, 1), TODAY, "Q2 2026 to date")


def test_stage_entries_count_each_contact_once_per_stage_inside_the_period_only():
    marketer = UserFactory(role=Role.MARKETING)
    recycled = ContactFactory()
    StageTransitionFactory(contact=recycled, to_stage=LifecycleStage.MQL, occurred_at=at(dt.date(2026, 5, 2)))
    StageTransitionFactory(contact=recycled, to_stage=LifecycleStage.MQL, occurred_at=at(dt.date(2026, 5, 9)))
    StageTransitionFactory(to_stage=LifecycleStage.MQL, occurred_at=at(dt.date(2026, 4, 15)))
    StageTransitionFactory(to_stage=LifecycleStage.SQL, occurred_at=at(dt.date(2026, 5, 3)))
    StageTransitionFactory(to_stage=LifecycleStage.MQL, occurred_at=at(dt.date(2026, 3, 31)))
    StageTransitionFactory(to_stage=LifecycleStage.MQL, occurred_at=at(dt.date(2026, 5, 21)))

    month = figures.stage_entries(visible_to=marketer, period=figures.month_to_date(TODAY))
    quarter = figures.stage_entries(visible_to=marketer, period=figures.quarter_to_date(TODAY))

    assert month == {"lead": 0, "mql": 1, "sal": 0, "sql": 1, "opportunity": 0, "customer": 0}
    assert quarter["mql"] == 2
    assert quarter["sql"] == 1


def test_a_reps_stage_entries_count_only_their_own_contacts():
    rep, other = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)
    StageTransitionFactory(contact=ContactFactory(owner=rep), occurred_at=at(TODAY))
    StageTransitionFactory(contact=ContactFactory(owner=other), occurred_at=at(TODAY))

    entries = figures.stage_entries(visible_to=rep, period=figures.month_to_date(TODAY))

    assert entries["mql"] == 1


def test_open_pipeline_weights_by_the_deals_own_probability_before_the_stages():
    marketer = UserFactory(role=Role.MARKETING)
    stage = PipelineStageFactory(probability="0.200")
    DealFactory(stage=stage, amount=10000)
    DealFactory(stage=stage, amount=20000, probability="0.500")
    DealFactory(stage=stage, amount=99000, status=Deal.Status.LOST)

    totals = figures.open_pipeline(visible_to=marketer)

    assert totals == figures.PipelineTotals(deals=2, amount=Decimal("30000.00"), weighted=Decimal("12000.00"))


def test_an_empty_database_gives_zero_figures_and_no_goal():
    viewer = UserFactory(role=Role.EXECUTIVE)

    assert figures.open_pipeline(visible_to=viewer) == figures.PipelineTotals(0, Decimal("0.00"), Decimal("0.00"))
    assert figures.revenue_won(visible_to=viewer, period=figures.quarter_to_date(TODAY)) == Decimal("0.00")
    assert figures.revenue_vs_goal(on=TODAY) is None
    assert figures.leads_and_mqls_by_channel(visible_to=viewer, period=figures.month_to_date(TODAY)) == []
    assert figures.top_campaigns(visible_to=viewer, period=figures.month_to_date(TODAY)) == []
    assert figures.pipeline_by_rep(visible_to=viewer, period=figures.quarter_to_date(TODAY)) == []
    assert all(m.amount == 0 for m in figures.won_by_month(visible_to=viewer, today=TODAY))


def test_revenue_vs_goal_counts_deals_won_inside_the_shortest_goal_covering_the_day():
    GoalFactory(name="FY", period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31), target=1_000_000)
    GoalFactory(name="Q2", period_start=dt.date(2026, 4, 1), period_end=dt.date(2026, 6, 30), target=200_000)
    DealFactory(status=Deal.Status.WON, amount=50000, closed_at=at(dt.date(2026, 4, 2)))
    DealFactory(status=Deal.Status.WON, amount=30000, closed_at=at(dt.date(2026, 3, 30)))
    DealFactory(status=Deal.Status.OPEN, amount=70000)

    progress = figures.revenue_vs_goal(on=TODAY)

    assert progress.goal.name == "Q2"
    assert progress.won == Decimal("50000.00")
    assert progress.percent == 25
    assert progress.remaining == Decimal("150000.00")


def test_a_team_goal_counts_only_the_teams_wins():
    team = TeamFactory(name="East")
    GoalFactory(team=team, period_start=dt.date(2026, 4, 1), period_end=dt.date(2026, 6, 30), target=40000)
    DealFactory(status=Deal.Status.WON, amount=10000, closed_at=at(TODAY), owner=UserFactory(team=team))
    DealFactory(status=Deal.Status.WON, amount=90000, closed_at=at(TODAY), owner=UserFactory())

    progress = figures.revenue_vs_goal(on=TODAY, team=team)

    assert (progress.won, progress.percent) == (Decimal("10000.00"), 25)
    assert figures.revenue_vs_goal(on=TODAY) is None


def test_pipeline_coverage_sets_pipeline_closing_by_the_goals_end_against_what_is_left():
    GoalFactory(period_start=dt.date(2026, 4, 1), period_end=dt.date(2026, 6, 30), target=100000)
    DealFactory(status=Deal.Status.WON, amount=20000, closed_at=at(TODAY))
    DealFactory(amount=160000, close_date=dt.date(2026, 6, 15))
    DealFactory(amount=500000, close_date=dt.date(2026, 9, 1))

    coverage = figures.pipeline_coverage(progress=figures.revenue_vs_goal(on=TODAY))

    assert coverage.pipeline == Decimal("160000.00")
    assert coverage.remaining == Decimal("80000.00")
    assert coverage.ratio == Decimal("2.0")


def test_won_by_month_fills_months_without_wins_with_zero():
    DealFactory(status=Deal.Status.WON, amount=1000, closed_at=at(dt.date(2026, 3, 10)))
    DealFactory(status=Deal.Status.WON, amount=2500, closed_at=at(dt.date(2026, 5, 1)))

    months = figures.won_by_month(visible_to=UserFactory(role=Role.EXECUTIVE), today=TODAY, months=3)

    assert [(m.label, m.amount) for m in months] == [
        ("Mar 2026", Decimal("1000.00")),
        ("Apr 2026", Decimal("0.00")),
        ("May 2026", Decimal("2500.00")),
    ]


def test_channel_figures_join_new_leads_and_mqls_busiest_first():
    marketer = UserFactory(role=Role.MARKETING)
    today = timezone.localdate()
    ContactFactory.create_batch(3, lead_source=Channel.WEBINAR)
    mql = ContactFactory(lead_source=Channel.EMAIL)
    StageTransitionFactory(contact=mql, to_stage=LifecycleStage.MQL, occurred_at=timezone.now())

    rows = figures.leads_and_mqls_by_channel(visible_to=marketer, period=figures.month_to_date(today))

    assert [(r.channel, r.leads, r.mqls) for r in rows] == [("webinar", 3, 0), ("email", 1, 1)]


def test_cost_per_lead_divides_the_months_spend_by_its_new_leads():
    today = timezone.localdate()
    CostEntryFactory(date=today, amount=900)
    CostEntryFactory(date=today - dt.timedelta(days=400), amount=5000)

    cpl = figures.cost_per_lead(period=figures.month_to_date(today), leads=4)

    assert (cpl.spend, cpl.per_lead) == (Decimal("900.00"), Decimal("225.00"))
    assert figures.cost_per_lead(period=figures.month_to_date(today), leads=0).per_lead is None


def test_top_campaigns_rank_by_leads_sourced_this_period_with_their_spend():
    marketer = UserFactory(role=Role.MARKETING)
    today = timezone.localdate()
    big, small, _silent = CampaignFactory(name="Big"), CampaignFactory(name="Small"), CampaignFactory()
    ContactFactory.create_batch(3, original_campaign=big)
    ContactFactory(original_campaign=small)
    CostEntryFactory(campaign=big, date=today, amount=600)

    rows = figures.top_campaigns(visible_to=marketer, period=figures.month_to_date(today))

    assert [(r.name, r.leads, r.spend, r.per_lead) for r in rows] == [
        ("Big", 3, Decimal("600.00"), Decimal("200.00")),
        ("Small", 1, Decimal("0.00"), Decimal("0.00")),
    ]


def test_pipeline_by_rep_shows_only_the_managers_team_and_unassigned_deals():
    team = TeamFactory(name="West")
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    ana = UserFactory(role=Role.SALES_REP, team=team, first_name="Ana", last_name="Lee")
    outsider = UserFactory(role=Role.SALES_REP)
    stage = PipelineStageFactory(probability="0.500")
    DealFactory(owner=ana, stage=stage, amount=10000)
    DealFactory(owner=ana, status=Deal.Status.WON, amount=4000, closed_at=at(TODAY))
    DealFactory(owner=None, stage=stage, amount=2000)
    DealFactory(owner=outsider, amount=77000)

    rows = figures.pipeline_by_rep(visible_to=manager, period=figures.quarter_to_date(TODAY))

    assert rows == [
        figures.RepRow(ana.pk, "Ana Lee", 1, Decimal("10000.00"), Decimal("5000.00"), Decimal("4000.00")),
        figures.RepRow(None, "Unassigned", 1, Decimal("2000.00"), Decimal("1000.00"), Decimal("0.00")),
    ]


def test_open_leads_owned_by_returns_the_users_mqls_and_sals_best_score_first():
    rep = UserFactory(role=Role.SALES_REP)
    low = ContactFactory(owner=rep, lifecycle_stage=LifecycleStage.MQL, score=10)
    high = ContactFactory(owner=rep, lifecycle_stage=LifecycleStage.SAL, score=90)
    ContactFactory(owner=rep, lifecycle_stage=LifecycleStage.SQL)
    ContactFactory(lifecycle_stage=LifecycleStage.MQL)

    total, rows = figures.open_leads_owned_by(user=rep, limit=1)

    assert (total, rows) == (2, [high])
    assert figures.open_leads_owned_by(user=rep)[1] == [high, low]
