"""The weekly and monthly compliance rollups: reports read from them answer what the days say."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.core.permissions import Role
from accord.sla import compliance, reports, rollup
from accord.sla.compliance import COUNTERS
from accord.sla.models import (
    HISTOGRAM_COLUMNS,
    ComplianceDaily,
    ComplianceMonthly,
    ComplianceWeekly,
    SlaClock,
)
from accord.sla.periods import Period, named, trend
from accord.sla.tests.factories import SlaVersionFactory

pytestmark = pytest.mark.django_db

FIRST_DAY = date(2026, 6, 1)
DAYS = 150
COLUMNS = (*COUNTERS, *HISTOGRAM_COLUMNS)


def random_vector(rng: random.Random) -> list[int]:
    vector = [0] * (len(COUNTERS) + compliance.BUCKETS)
    for _ in range(rng.randint(1, 4)):
        outcome = rng.choice(["met_on_time", "met_late", "breached", "cancelled"])
        vector[COUNTERS.index(outcome)] += 1
        vector[COUNTERS.index("attempts")] += rng.randint(0, 2)
        if outcome.startswith("met"):
            vector[len(COUNTERS) + rng.randrange(compliance.BUCKETS)] += 1
    return vector


@pytest.fixture
def history():
    """Five months of daily rows for three reps; Ben moves from East to West on 17 August."""
    old, new = SlaVersionFactory(effective_from=datetime(2020, 1, 1, tzinfo=UTC)), None
    east, west = TeamFactory(name="East"), TeamFactory(name="West")
    ana = UserFactory(role=Role.SALES_REP, team=east, first_name="Ana")
    ben = UserFactory(role=Role.SALES_REP, team=east, first_name="Ben")
    cy = UserFactory(role=Role.SALES_REP, team=None, first_name="Cy")
    new = SlaVersionFactory(effective_from=datetime(2026, 9, 1, tzinfo=UTC))
    rng = random.Random(11)
    moved = date(2026, 8, 17)
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        version = (old if day < date(2026, 9, 1) else new).pk
        deltas, teams = {}, {}
        for rep in (ana, ben, cy):
            team = west.pk if rep is ben and day >= moved else (rep.team_id)
            for kind in SlaClock.Kind:
                if rng.random() < 0.7:
                    key = (day, rep.pk, kind.value, version)
                    deltas[key], teams[key] = random_vector(rng), team
        rollup.add(deltas, teams)
    # A later delta to an existing day, with the rep's *new* team: the day keeps its first team.
    late_key = (date(2026, 8, 3), ben.pk, SlaClock.Kind.FIRST_TOUCH.value, old.pk)
    rollup.add({late_key: [0, 1, -1] + [0] * (len(COLUMNS) - 3)}, {late_key: west.pk})
    return {"east": east, "west": west, "ana": ana, "ben": ben, "cy": cy}


def from_days(*, start: date, end: date, key, **filters) -> dict:
    """Sum the daily rows by `key(row)` and kind: what every report read must equal."""
    result: dict = {}
    for row in ComplianceDaily.objects.filter(day__gte=start, day__lte=end, **filters):
        total = result.setdefault((key(row), row.kind), [0] * len(COLUMNS))
        for index, name in enumerate(COLUMNS):
            total[index] += getattr(row, name)
    return {k: v for k, v in result.items() if any(v)}


def figures_of(figures: reports.Figures) -> list[int]:
    return [getattr(figures, name) for name in COUNTERS] + figures.histogram


def report_sums(report: reports.ComplianceReport) -> dict:
    return {(row.id, kind): figures_of(figures) for row in report.rows for kind, figures in row.figures.items()
            if any(figures_of(figures))}


def test_every_day_of_any_period_is_read_from_exactly_one_rollup_row():
    rng = random.Random(3)
    for _ in range(500):
        start = date(2025, 1, 1) + timedelta(days=rng.randrange(700))
        end = start + timedelta(days=rng.randrange(400))
        covered = []
        for model, ranges in reports._spans(start, end).items():
            for low, high in ranges:
                if model is ComplianceMonthly:
                    assert low.day == 1 and (high + timedelta(days=1)).day == 1  # whole months
                if model is ComplianceWeekly:
                    assert low.weekday() == 0 and high.weekday() == 6  # Monday to Sunday
                covered += [low + timedelta(days=n) for n in range((high - low).days + 1)]
        assert sorted(covered) == [start + timedelta(days=n) for n in range((end - start).days + 1)]


def test_compliance_per_rep_and_per_team_reads_the_same_from_months_weeks_and_days(history):
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    rng = random.Random(5)
    periods = [Period(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1), "all", "custom"),
               named("last_month", date(2026, 9, 15)), named("this_quarter", date(2026, 8, 2))]
    for _ in range(25):
        start = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        periods.append(Period(start, start + timedelta(days=rng.randrange(120)), "random", "custom"))

    for period in periods:
        by_rep = reports.sales_compliance(visible_to=admin, period=period, group="rep")
        by_team = reports.sales_compliance(visible_to=admin, period=period, group="team")

        assert report_sums(by_rep) == from_days(start=period.start, end=period.end, key=lambda row: row.owner_id)
        assert report_sums(by_team) == from_days(start=period.start, end=period.end, key=lambda row: row.team_id)


def test_a_rep_who_changed_team_mid_month_counts_for_each_team_on_its_own_days(history):
    ben = history["ben"]
    august = named("this_month", date(2026, 8, 20))

    report = reports.sales_compliance(visible_to=UserFactory(role=Role.REVOPS_ADMIN), period=august, group="team")

    west = next(row for row in report.rows if row.id == history["west"].pk)
    expected = from_days(start=august.start, end=august.end, key=lambda row: row.team_id, owner=ben)
    ben_in_west = {kind: v for (team, kind), v in expected.items() if team == history["west"].pk}
    assert ComplianceMonthly.objects.filter(owner=ben, start=date(2026, 8, 1)).values("team").distinct().count() == 2
    # West's August is Ben's days from the 17th on (he is West's only rep).
    assert {kind: figures_of(f) for kind, f in west.figures.items() if any(figures_of(f))} == ben_in_west


def test_a_reps_team_total_reads_the_same_from_every_grain(history):
    ana = history["ana"]
    period = Period(date(2026, 6, 10), date(2026, 10, 20), "x", "custom")

    report = reports.sales_compliance(visible_to=ana, period=period, group="rep")

    expected = from_days(start=period.start, end=period.end, key=lambda row: row.team_id, team=history["east"])
    assert {(ana.team_id, kind): figures_of(f) for kind, f in report.team_total.figures.items()
            if any(figures_of(f))} == expected
    assert [row.id for row in report.rows] == [ana.pk]


@pytest.mark.parametrize("grain", ["week", "month"])
def test_a_trend_reads_the_same_from_every_grain(history, grain):
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    points = trend(grain, date(2026, 10, 28), 12 if grain == "week" else 5)

    result = reports.compliance_trend(visible_to=admin, periods=points)

    for point in result.points:
        expected = from_days(start=point.period.start, end=point.period.end, key=lambda row: None)
        assert {(None, kind): figures_of(f) for kind, f in point.figures.items() if any(figures_of(f))} == expected


def test_compliance_by_version_over_all_time_reads_the_months(history):
    admin = UserFactory(role=Role.REVOPS_ADMIN)

    rows = reports.compliance_by_version(visible_to=admin)

    everything = from_days(start=date.min, end=date.max, key=lambda row: row.sla_version.version)
    assert {(row.version, kind): figures_of(f) for row in rows for kind, f in row.figures.items()
            if any(figures_of(f))} == everything
    assert [row.version for row in rows] == [2, 1]


def test_the_rollup_check_finds_a_month_that_disagrees_with_its_days(history):
    assert [key for key in rollup.differences() if key[0] in ("weeks", "months")] == []
    row = ComplianceMonthly.objects.filter(owner=history["ana"]).first()
    ComplianceMonthly.objects.filter(pk=row.pk).update(met_on_time=row.met_on_time + 1)

    wrong = [key for key in rollup.differences() if key[0] in ("weeks", "months")]

    assert wrong == [("months", row.start, row.owner_id, row.kind, row.sla_version_id, row.team_id)]
