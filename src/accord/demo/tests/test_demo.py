"""The demo company: the same seed gives the same data, and the causal rules show in it."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.db.models import Count, DateTimeField, Exists, Max, OuterRef, Q, Subquery, Sum

from accord.accounts.models import Team, User
from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Contact, CostEntry, Touchpoint
from accord.core.permissions import Role
from accord.deals.models import Deal
from accord.demo import world as W
from accord.demo.selectors import demo_fingerprint
from accord.demo.services import DEMO_PASSWORD, Login, clear_demo, load_demo
from accord.demo.tables import WRITTEN_MODELS
from accord.handoff.models import SweepCursor
from accord.lifecycle.models import Activity, LeadAssignment, LeadFeedback, StageTransition
from accord.notifications.models import Delivery, Notification
from accord.notifications.services import notify
from accord.planning.models import Goal
from accord.scoring.models import LeadScore
from accord.sla import rollup
from accord.sla.models import (
    ComplianceDaily,
    ComplianceMonthly,
    ComplianceWeekly,
    Handover,
    SlaClock,
)
from accord.sla.tests.factories import SlaClockFactory

AS_OF = date(2026, 5, 20)
# The moment of loading, part-way through the as-of day: the company is loaded "as of today".
NOW = datetime(2026, 5, 20, 13, 30, tzinfo=UTC)
SMALL = 0.02
# Big enough for the rates below to be well away from their thresholds, small enough to load
# in a few seconds.
MODERATE = 0.1


# -- determinism and loading --------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_seed_and_as_of_date_give_identical_rows():
    load_demo(seed=1, scale=SMALL, as_of=AS_OF, reset=True)
    first = demo_fingerprint()

    load_demo(seed=1, scale=SMALL, as_of=AS_OF, reset=True)

    assert demo_fingerprint() == first


@pytest.mark.django_db
def test_another_seed_gives_different_rows():
    load_demo(seed=1, scale=SMALL, as_of=AS_OF, reset=True)
    first = demo_fingerprint()

    load_demo(seed=2, scale=SMALL, as_of=AS_OF, reset=True)

    assert demo_fingerprint() != first


@pytest.mark.django_db
def test_loading_again_without_reset_keeps_the_data_and_resets_the_login_passwords():
    load_demo(seed=1, scale=SMALL, as_of=AS_OF, reset=True)
    before = demo_fingerprint()
    User.objects.filter(username="rep").update(password=make_password("changed by the rep"))

    logins = load_demo(seed=2, scale=SMALL, as_of=AS_OF)

    assert demo_fingerprint() == before
    assert [login.username for login in logins] == ["marketing", "rep", "manager", "revops", "exec"]
    assert User.objects.get(username="rep").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_a_reset_keeps_logins_that_are_not_the_demos():
    someone = UserFactory(username="someone", email="someone@example.com")
    load_demo(seed=1, scale=SMALL, as_of=AS_OF, reset=True)

    clear_demo()

    assert list(User.objects.values_list("username", flat=True)) == [someone.username]
    assert Contact.objects.count() == 0
    assert Team.objects.count() == 0


@pytest.mark.django_db
def test_the_demo_creates_one_login_per_role_with_the_demo_password():
    logins = load_demo(seed=1, scale=SMALL, as_of=AS_OF, reset=True)

    assert logins == [
        Login("marketing", "Marketing"),
        Login("rep", "Sales rep"),
        Login("manager", "Sales manager"),
        Login("revops", "Revenue-ops admin"),
        Login("exec", "Executive viewer"),
    ]
    users = {u.username: u for u in User.objects.filter(username__in=[x.username for x in logins])}
    assert {name: u.role for name, u in users.items()} == {
        "marketing": Role.MARKETING, "rep": Role.SALES_REP, "manager": Role.SALES_MANAGER,
        "revops": Role.REVOPS_ADMIN, "exec": Role.EXECUTIVE,
    }
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    assert (users["revops"].is_staff, users["revops"].is_superuser) == (True, True)
    assert users["rep"].team.manager == users["manager"]
    assert users["rep"].team.name == "Sales – Americas"
    assert User.objects.filter(role=Role.SALES_REP).count() == 10
    assert not User.objects.get(username="tom.walsh").has_usable_password()


# -- the simulated world at a moderate scale ----------------------------------------------


@pytest.fixture(scope="module")
def company(django_db_setup, django_db_blocker):
    """Load the company once for the module; the tests below only read it."""
    with django_db_blocker.unblock():
        load_demo(seed=1, scale=MODERATE, as_of=AS_OF, now=NOW, reset=True)
        yield
        clear_demo()


def _first_touch_hours() -> list[tuple[str, float | None, bool]]:
    """Return (rep, hours from assignment to first call or email, reached SQL) per assignment."""
    first_touch = (
        Activity.objects.filter(contact=OuterRef("contact"), occurred_at__gte=OuterRef("assigned_at"))
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )
    reached_sql = StageTransition.objects.filter(contact=OuterRef("contact"), to_stage="sql")
    rows = LeadAssignment.objects.annotate(touch=Subquery(first_touch), sql=Exists(reached_sql))
    return [
        (owner, None if touch is None else (touch - assigned).total_seconds() / 3600, sql)
        for owner, assigned, touch, sql in rows.values_list("owner__username", "assigned_at", "touch", "sql")
    ]


def _reach_rate(contacts, stage: str) -> float:
    reached = contacts.filter(Exists(StageTransition.objects.filter(contact=OuterRef("pk"), to_stage=stage)))
    return reached.count() / contacts.count()


@pytest.mark.django_db
def test_the_company_has_the_size_asked_for(company):
    assert Contact.objects.count() == 2_000
    assert 16_000 <= Touchpoint.objects.count() <= 24_000
    assert len({c for c in Contact.objects.values_list("lead_source", flat=True)}) >= 9
    assert Deal.objects.filter(status="won").count() >= 30


@pytest.mark.django_db
def test_leads_contacted_within_an_hour_reach_sql_at_least_twice_as_often_as_after_a_day(company):
    rows = _first_touch_hours()
    fast = [sql for _, hours, sql in rows if hours is not None and hours <= 1]
    slow = [sql for _, hours, sql in rows if hours is not None and hours > 24]

    assert len(fast) >= 40 and len(slow) >= 40
    assert sum(fast) / len(fast) >= 2 * sum(slow) / len(slow)


@pytest.mark.django_db
def test_the_fastest_rep_answers_several_times_faster_than_the_slowest(company):
    hours_by_rep: dict[str, list[float]] = {}
    for rep, hours, _ in _first_touch_hours():
        if hours is not None:
            hours_by_rep.setdefault(rep, []).append(hours)
    medians = sorted(statistics.median(h) for h in hours_by_rep.values())

    assert len(medians) == 10
    assert medians[-1] >= 4 * medians[0]


@pytest.mark.django_db
def test_paid_social_costs_far_more_per_lead_than_referral(company):
    def cost_per_lead(channel: str) -> Decimal:
        spend = CostEntry.objects.filter(campaign__channel=channel).aggregate(total=Sum("amount"))["total"]
        return spend / Contact.objects.filter(original_campaign__channel=channel).count()

    assert cost_per_lead("paid_social") > 3 * cost_per_lead("referral")


@pytest.mark.django_db
def test_referral_leads_reach_sql_several_times_as_often_as_paid_social_leads(company):
    referral = _reach_rate(Contact.objects.filter(lead_source="referral"), "sql")
    paid_social = _reach_rate(Contact.objects.filter(lead_source="paid_social"), "sql")

    assert referral >= 3 * paid_social


@pytest.mark.django_db
def test_executives_become_mqls_far_more_often_than_students_and_students_never_reach_sql(company):
    executives = Contact.objects.filter(seniority="executive")
    students = Contact.objects.filter(seniority="student")

    assert _reach_rate(executives, "mql") >= 4 * _reach_rate(students, "mql")
    assert _reach_rate(executives, "sql") > 0.05
    assert _reach_rate(students, "sql") == 0


@pytest.mark.django_db
def test_sales_rejects_students_as_students_and_junk_data_as_bad_data(company):
    rejected = LeadFeedback.objects.filter(decision="reject")
    students = Counter(rejected.filter(contact__seniority="student").values_list("reason", flat=True))
    junk = Counter(
        rejected.filter(contact__email__startswith="test").exclude(contact__seniority="student")
        .values_list("reason", flat=True)
    )

    assert students.most_common(1)[0][0] == "student"
    assert students["student"] >= 0.85 * sum(students.values())
    assert junk.most_common(1)[0][0] == "bad_data"
    assert not LeadFeedback.objects.filter(decision="accept").exclude(reason="").exists()


@pytest.mark.django_db
def test_every_contact_shows_the_stage_and_time_of_its_last_transition(company):
    last = StageTransition.objects.filter(contact=OuterRef("pk")).order_by("-occurred_at", "-id")
    contacts = Contact.objects.annotate(
        last_stage=Subquery(last.values("to_stage")[:1]), last_at=Subquery(last.values("occurred_at")[:1])
    )

    mismatched = [
        pk for pk, stage, at, last_stage, last_at
        in contacts.values_list("pk", "lifecycle_stage", "stage_changed_at", "last_stage", "last_at")
        if (stage, at) != (last_stage, last_at)
    ]

    assert mismatched == []
    assert not Contact.objects.filter(lifecycle_stage="mql", owner__isnull=True).exists()


@pytest.mark.django_db
def test_nothing_happens_after_the_moment_of_loading_and_the_current_quarter_has_data_and_goals(company):
    quarter_start = date(2026, 4, 1)
    # Deadlines and plans may lie ahead; everything else records something that happened.
    ahead = {"due_at", "warn_at"}
    latest = {}
    for model in (*WRITTEN_MODELS, SlaClock, Handover, LeadScore):
        for field in model._meta.concrete_fields:
            if isinstance(field, DateTimeField) and field.name not in ahead:
                latest[f"{model._meta.label}.{field.name}"] = model._base_manager.aggregate(at=Max(field.name))["at"]

    assert {name: at for name, at in latest.items() if at is not None and at > NOW} == {}
    assert all(NOW - timedelta(days=3) < latest[name] for name in (
        "capture.Touchpoint.occurred_at", "lifecycle.Activity.occurred_at",
        "lifecycle.StageTransition.occurred_at", "capture.Contact.created_at"))
    assert Contact.objects.filter(created_at__date__gte=date(2026, 5, 1)).count() > 50
    assert Deal.objects.filter(status="won", closed_at__date__gte=quarter_start).exists()
    current = Goal.objects.filter(team=None, period_start=quarter_start, period_end=date(2026, 6, 30))
    assert sorted(current.values_list("metric", flat=True)) == ["mqls", "pipeline", "revenue", "sqls"]


@pytest.mark.django_db
def test_every_lead_waiting_for_sales_arrived_within_the_recycle_window_and_scores_above_zero(company):
    waiting = Contact.objects.filter(lifecycle_stage="mql")
    handed_over = StageTransition.objects.filter(contact=OuterRef("pk"), to_stage="mql").order_by("-occurred_at")
    oldest = min(waiting.annotate(at=Subquery(handed_over.values("occurred_at")[:1])).values_list("at", flat=True))

    assert waiting.count() >= 1
    assert oldest > NOW - timedelta(days=W.MQL_RECYCLE_DAYS)
    assert list(waiting.filter(Q(current_score__isnull=True) | Q(current_score__total=0))) == []


@pytest.mark.django_db
def test_leads_no_rep_decided_on_go_back_to_nurture_after_the_recycle_window(company):
    recycled = StageTransition.objects.filter(from_stage="mql", to_stage="nurture", by_user__username="marketing")
    assignment = LeadAssignment.objects.filter(contact=OuterRef("contact")).order_by("-assigned_at")
    rows = recycled.annotate(assigned_at=Subquery(assignment.values("assigned_at")[:1]))

    assert rows.count() >= 5
    assert {row.occurred_at - row.assigned_at for row in rows} == {timedelta(days=W.MQL_RECYCLE_DAYS)}
    assert not LeadFeedback.objects.filter(contact__in=recycled.values("contact")).exists()


@pytest.mark.django_db
def test_every_business_lead_raised_by_a_demo_request_made_one_and_consumers_ask_for_quotes(company):
    by_request = StageTransition.objects.filter(to_stage="mql", by_rule__in=["demo request", "quote request"])
    requested = Touchpoint.objects.filter(contact=OuterRef("contact"), kind="demo_request",
                                          occurred_at=OuterRef("occurred_at"))

    assert set(by_request.filter(contact__seniority="consumer").values_list("by_rule", flat=True)) <= {
        "quote request"}
    assert by_request.filter(by_rule="quote request").exists()
    assert not by_request.filter(by_rule="demo request").exclude(Exists(requested)).exists()


@pytest.mark.django_db
def test_sales_rejects_students_and_competitors_without_calling_them(company):
    on_sight = LeadFeedback.objects.filter(reason__in=W.ON_SIGHT_REASONS)
    called = Activity.objects.filter(contact__in=on_sight.values("contact"), occurred_at__lte=OuterRef("created_at"))

    assert on_sight.count() >= 5
    assert not on_sight.filter(Exists(called.filter(contact=OuterRef("contact")))).exists()


@pytest.mark.django_db
def test_b2b_deals_are_worth_thousands_and_consumer_purchases_are_small(company):
    won = Deal.objects.filter(status="won")
    b2b = sorted(won.filter(pipeline__name="New business").values_list("amount", flat=True))
    b2c = sorted(won.filter(pipeline__name="Consumer orders").values_list("amount", flat=True))

    assert 5_000 <= b2b[len(b2b) // 2] <= 60_000
    assert 50 <= b2c[len(b2c) // 2] <= 500
    assert all(deal.source_campaign_id for deal in won)
    assert won.annotate(n=Count("influencing_campaigns")).filter(n=0).count() == 0


@pytest.mark.django_db
def test_the_rep_login_owns_leads_and_deals_in_the_managers_team(company):
    rep = User.objects.get(username="rep")

    assert Contact.objects.filter(owner=rep).count() >= 20
    assert Deal.objects.filter(owner=rep).exists()
    assert set(User.objects.filter(team=rep.team, role=Role.SALES_REP).values_list("username", flat=True)) == {
        p.username for p in W.PEOPLE if p.team == "Sales – Americas" and p.role == "sales_rep"
    }


@pytest.mark.django_db
def test_a_reset_clears_sla_clocks_and_deliveries_that_point_at_demo_records():
    load_demo(seed=1, scale=SMALL, as_of=AS_OF, reset=True)
    assignment = LeadAssignment.objects.select_related("contact", "owner").first()
    SlaClockFactory(contact=assignment.contact, owner=assignment.owner, assignment=assignment)
    notify(recipient=assignment.owner, kind=Notification.Kind.LEAD_ASSIGNED, title="New lead",
           dedupe_key="demo-reset-test")
    SweepCursor.objects.create(name="new-leads", last_contact_id=10**9, last_touchpoint_id=10**9)

    clear_demo()

    assert SlaClock.objects.count() == 0
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert SweepCursor.objects.count() == 0
    assert LeadAssignment.objects.count() == 0


@pytest.mark.django_db
def test_a_reset_clears_the_sla_compliance_rollups_also_of_owners_added_by_hand():
    # Given the demo, and a lead of it given by hand to someone who is not the demo's staff,
    # whose clock breached and was counted in the compliance rollups
    load_demo(seed=1, scale=SMALL, as_of=AS_OF, now=NOW, reset=True)
    someone = UserFactory(username="someone", email="someone@example.com", role=Role.SALES_REP)
    clock = SlaClockFactory(contact=Contact.objects.first(), owner=someone, started_at=NOW - timedelta(days=2))
    SlaClock.objects.filter(pk=clock.pk).update(breached_at=clock.due_at)
    rollup.rebuild()
    assert ComplianceDaily.objects.filter(owner=someone).exists()

    # When the demo is reset
    clear_demo()

    # Then no rollup row is left, and the login stays
    assert (ComplianceDaily.objects.count(), ComplianceWeekly.objects.count(), ComplianceMonthly.objects.count()) == (0, 0, 0)
    assert list(User.objects.values_list("username", flat=True)) == ["someone"]


@pytest.mark.django_db
def test_every_demo_lead_is_scored_by_the_shipped_rules_and_a_model_trained_on_the_history(company):
    from accord.scoring import selectors as scoring
    from accord.scoring.models import LeadScore, PredictiveModelVersion

    model = PredictiveModelVersion.objects.get(is_active=True)
    # With a score row: PostgreSQL sorts the NULL of a contact without one first.
    lead = (Contact.objects.filter(lifecycle_stage="mql", current_score__isnull=False)
            .order_by("-current_score__total", "pk").first())

    explanation = scoring.score_explanation(contact_id=lead.pk)

    assert LeadScore.objects.values("contact").distinct().count() == Contact.objects.count()
    assert not LeadScore.objects.filter(run__rule_version__isnull=True).exists()
    assert model.roc_auc > model.rules_roc_auc
    assert explanation.score == lead.current_score.total
    assert explanation.rule_version is not None
    assert explanation.source == f"model v{model.version}"
    assert explanation.up or explanation.down
    assert explanation.rule_up or explanation.rule_down


@pytest.mark.django_db
def test_a_reset_removes_the_model_and_rules_the_load_made_but_keeps_those_a_person_made():
    from accord.scoring import services as scoring
    from accord.scoring.models import PredictiveModelVersion, ScoringRuleSet

    load_demo(seed=1, scale=SMALL, as_of=AS_OF, reset=True)
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    mine = scoring.publish_rule_set(source=ScoringRuleSet.objects.get().source, by=admin)

    clear_demo()

    assert list(ScoringRuleSet.objects.all()) == [mine]
    assert not PredictiveModelVersion.objects.exists()
