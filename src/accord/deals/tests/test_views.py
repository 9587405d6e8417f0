import datetime as dt

import factory
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import AccountFactory, ContactFactory
from accord.core.permissions import Role
from accord.deals.models import Deal, DealStageChange
from accord.deals.tests.factories import DealContactFactory, DealFactory, PipelineStageFactory

pytestmark = pytest.mark.django_db


class DealStageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealStageChange

    deal = factory.SubFactory(DealFactory)
    from_stage = None
    to_stage = factory.SelfAttribute("deal.stage")
    occurred_at = factory.LazyFunction(timezone.now)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(response) -> list[int]:
    return [d.pk for d in response.context["page_obj"].object_list]


def test_a_reps_deal_list_holds_only_their_own_deals():
    rep = UserFactory(role=Role.SALES_REP)
    mine = DealFactory(owner=rep, name="Mine")
    DealFactory(owner=UserFactory(role=Role.SALES_REP), name="Theirs")

    response = signed_in(rep).get(reverse("deals"))

    assert listed(response) == [mine.pk]
    assert "Theirs" not in response.content.decode()


def test_a_rep_gets_404_on_another_reps_deal_page():
    deal = DealFactory(owner=UserFactory(role=Role.SALES_REP))

    response = signed_in(UserFactory(role=Role.SALES_REP)).get(reverse("deal", args=[deal.pk]))

    assert response.status_code == 404


def test_deals_filter_by_status_and_stage():
    viewer = UserFactory(role=Role.EXECUTIVE)
    discovery = PipelineStageFactory(name="Discovery", order=1)
    proposal = PipelineStageFactory(name="Proposal", order=2)
    match = DealFactory(stage=proposal)
    DealFactory(stage=discovery)
    DealFactory(stage=proposal, status=Deal.Status.WON)

    response = signed_in(viewer).get(reverse("deals"), {"status": "open", "stage": proposal.pk})

    assert listed(response) == [match.pk]


def test_deals_are_listed_soonest_close_date_first_with_undated_ones_last():
    viewer = UserFactory(role=Role.EXECUTIVE)
    late = DealFactory(close_date=dt.date(2026, 12, 1))
    undated = DealFactory(close_date=None)
    soon = DealFactory(close_date=dt.date(2026, 6, 1))

    assert listed(signed_in(viewer).get(reverse("deals"))) == [soon.pk, late.pk, undated.pk]


def test_the_deal_list_shows_the_effective_win_probability():
    viewer = UserFactory(role=Role.EXECUTIVE)
    DealFactory(stage=PipelineStageFactory(probability="0.200"), probability="0.750", amount=4000)

    html = signed_in(viewer).get(reverse("deals")).content.decode()

    assert "75%" in html
    assert "$4,000" in html


@pytest.mark.parametrize("rows", [3, 30])
def test_the_deal_list_runs_the_same_queries_whatever_the_number_of_rows(rows, django_assert_num_queries):
    viewer = UserFactory(role=Role.EXECUTIVE)
    for _ in range(rows):
        DealFactory(owner=UserFactory(), account=AccountFactory())
    client = signed_in(viewer)

    # Session, user, stages for the filter, count, page.
    with django_assert_num_queries(5):
        client.get(reverse("deals"))


def test_the_deal_page_shows_people_stage_history_and_weighted_amount(django_assert_num_queries):
    rep = UserFactory(role=Role.SALES_REP)
    discovery = PipelineStageFactory(name="Discovery", order=1, probability="0.200")
    proposal = PipelineStageFactory(name="Proposal", order=2, probability="0.400")
    deal = DealFactory(owner=rep, stage=proposal, amount=50000, account=AccountFactory(name="Acme"))
    DealContactFactory(deal=deal, contact=ContactFactory(first_name="Jo", last_name="Park"), is_primary=True)
    DealStageChangeFactory(deal=deal, from_stage=discovery, to_stage=proposal)
    client = signed_in(rep)

    # Session, user, deal, then people, stage changes, activities, influencing campaigns.
    with django_assert_num_queries(7):
        response = client.get(reverse("deal", args=[deal.pk]))

    html = response.content.decode()
    assert "<h1>" + deal.name + "</h1>" in html
    assert "Jo Park" in html
    assert "Discovery → <strong>Proposal</strong>" in html
    assert "$20,000" in html
