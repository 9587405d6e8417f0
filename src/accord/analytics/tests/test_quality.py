"""Lead quality by campaign, channel, source and content, against counts worked out by hand."""

from datetime import UTC, date, datetime, timedelta

import pytest

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.analytics import quality
from accord.capture.tests.factories import CampaignFactory, ContactFactory, TouchpointFactory
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.lifecycle import domain
from accord.lifecycle import services as lifecycle
from accord.sla import services as sla

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 2, 10, tzinfo=UTC)
START, END = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def world():
    """Seven handovers in November and one in October (outside the period).

    | lead | campaign (channel) | source   | content | verdict              | rep   |
    | 1    | Webinar (webinar)  | linkedin | guide   | accepted             | ann   |
    | 2    | Webinar (webinar)  | linkedin | guide   | rejected no_budget   | ann   |
    | 3    | Webinar (webinar)  | google   | guide   | rejected student     | bob   |
    | 4    | Ads (paid_search)  | google   | demo    | rejected student     | bob   |
    | 5    | Ads (paid_search)  | google   | demo    | accepted             | ann   |
    | 6    | Ads (paid_search)  | google   | (none)  | pending              |       |
    | 7    | (none, event)      | event    | (none)  | rejected no_budget   | bob   |
    | 8    | Webinar, October   | linkedin | guide   | rejected no_budget   | ann   |
    """
    team = TeamFactory(name="Sales NA")
    ann, bob = UserFactory(role=Role.SALES_REP, team=team), UserFactory(role=Role.SALES_REP, team=team)
    webinar = CampaignFactory(name="Webinar", channel="webinar")
    ads = CampaignFactory(name="Ads", channel="paid_search")
    rows = [
        (webinar, "linkedin", "guide", ("accept", ""), ann, AT),
        (webinar, "linkedin", "guide", ("reject", "no_budget"), ann, AT),
        (webinar, "google", "guide", ("reject", "student"), bob, AT + timedelta(days=3)),
        (ads, "google", "demo", ("reject", "student"), bob, AT + timedelta(days=5)),
        (ads, "google", "demo", ("accept", ""), ann, AT + timedelta(days=5)),
        (ads, "google", "", None, None, AT + timedelta(days=6)),
        (None, "", "", ("reject", "no_budget"), bob, AT + timedelta(days=7)),
        (webinar, "linkedin", "guide", ("reject", "no_budget"), ann, AT - timedelta(days=10)),
    ]
    for campaign, source, content, verdict, rep, at in rows:
        contact = ContactFactory(original_campaign=campaign, lead_source="event" if campaign is None else "paid_search")
        if source:
            TouchpointFactory(contact=contact, utm_source=source, utm_content=content,
                              occurred_at=at - timedelta(hours=1))
        lifecycle.change_stage(contact=contact, to_stage=S.MQL, rule=domain.SCORE_THRESHOLD, at=at)
        if verdict:
            lifecycle.record_feedback(contact=contact, by=rep, decision=verdict[0], reason=verdict[1],
                                      at=at + timedelta(hours=3))
    return {"webinar": webinar, "ads": ads, "ann": ann, "bob": bob, "team": team}


def numbers(report):
    return {r.label: (r.handed_over, r.accepted, r.rejected, r.pending, r.reasons) for r in report.rows}


def test_marketing_sees_each_campaigns_handovers_verdicts_and_reasons(world):
    report = quality.lead_quality(user=UserFactory(role=Role.MARKETING), dimension="campaign", start=START, end=END)

    assert numbers(report) == {
        "Webinar": (3, 1, 2, 0, {"no_budget": 1, "student": 1}),
        "Ads": (3, 1, 1, 1, {"student": 1}),
        "(none)": (1, 0, 1, 0, {"no_budget": 1}),
    }
    assert (report.total.handed_over, report.total.accepted, report.total.rejected, report.total.pending) == (7, 2, 4, 1)
    assert report.total.acceptance_rate == pytest.approx(2 / 6)
    assert report.reasons == [("no_budget", "No budget"), ("student", "Student or job seeker")]
    assert report.target_rate == 0.6


@pytest.mark.parametrize(("dimension", "expected"), [
    ("channel", {"Webinar": (3, 1, 2, 0, {"no_budget": 1, "student": 1}),
                 "Paid search": (3, 1, 1, 1, {"student": 1}),
                 "Event / trade show": (1, 0, 1, 0, {"no_budget": 1})}),
    ("source", {"google": (4, 1, 2, 1, {"student": 2}), "linkedin": (2, 1, 1, 0, {"no_budget": 1}),
                "event": (1, 0, 1, 0, {"no_budget": 1})}),
    ("content", {"guide": (3, 1, 2, 0, {"no_budget": 1, "student": 1}), "demo": (2, 1, 1, 0, {"student": 1}),
                 "(none)": (2, 0, 1, 1, {"no_budget": 1})}),
])
def test_each_dimension_counts_the_same_handovers_its_own_way(world, dimension, expected):
    report = quality.lead_quality(user=UserFactory(role=Role.REVOPS_ADMIN), dimension=dimension, start=START, end=END)

    assert numbers(report) == expected


def test_a_rep_counts_only_their_own_verdicts_and_no_handovers(world):
    report = quality.lead_quality(user=world["ann"], dimension="campaign", start=START, end=END)

    assert numbers(report) == {"Webinar": (None, 1, 1, None, {"no_budget": 1}), "Ads": (None, 1, 0, None, {})}
    assert report.counts_handovers is False


def test_a_rep_lists_only_their_own_feedback_and_marketing_lists_everyones(world):
    rep_rows = quality.feedback_list(user=world["bob"], start=START, end=END, dimension="campaign",
                                     value=str(world["webinar"].pk))
    marketing_rows = quality.feedback_list(user=UserFactory(role=Role.MARKETING), start=START, end=END,
                                           dimension="campaign", value=str(world["webinar"].pk))

    assert [(f.by_user, f.reason_label) for f in rep_rows] == [(world["bob"], "Student or job seeker")]
    assert sorted(f.reason for f in marketing_rows) == ["", "no_budget", "student"]


def test_every_number_is_the_count_of_the_feedback_it_links_to(world):
    marketer = UserFactory(role=Role.MARKETING)
    report = quality.lead_quality(user=marketer, dimension="source", start=START, end=END)

    for row in report.rows:
        listed = quality.feedback_list(user=marketer, start=START, end=END, dimension="source", value=row.key)
        assert (listed.filter(decision="accept").count(), listed.filter(decision="reject").count()) == (
            row.accepted, row.rejected)
        for code, n in row.reasons.items():
            assert listed.filter(reason=code).count() == n


def test_the_report_reads_a_fixed_number_of_queries(world, django_assert_num_queries):
    marketer = UserFactory(role=Role.MARKETING)
    sla.sla_in_force()

    # the rollup's range, the campaigns' names, the reasons' labels, the SLA version in force
    with django_assert_num_queries(4):
        quality.lead_quality(user=marketer, dimension="campaign", start=START, end=END)


@pytest.mark.parametrize("dimension", ["campaign", "channel", "source", "content"])
def test_every_handed_over_and_pending_number_is_the_count_of_the_handovers_it_links_to(world, dimension):
    marketer = UserFactory(role=Role.MARKETING)
    report = quality.lead_quality(user=marketer, dimension=dimension, start=START, end=END)

    for row in report.rows:
        listed = quality.handover_list(user=marketer, start=START, end=END, dimension=dimension, value=row.key)
        pending = quality.handover_list(user=marketer, start=START, end=END, dimension=dimension, value=row.key,
                                        pending=True)
        assert (listed.count(), pending.count()) == (row.handed_over, row.pending)


def test_the_pending_list_holds_the_handover_sales_has_not_answered_with_its_lead(world):
    listed = quality.handover_list(user=UserFactory(role=Role.REVOPS_ADMIN), start=START, end=END, pending=True)

    [handover] = listed
    assert handover.decision is None
    assert handover.occurred_at == AT + timedelta(days=6)
    assert handover.contact.original_campaign == world["ads"]


def test_a_rep_lists_no_handovers_because_the_report_counts_none_for_them(world):
    assert not quality.handover_list(user=world["ann"], start=START, end=END).exists()
