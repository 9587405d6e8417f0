import re

import pytest
from django.test import Client
from django.urls import reverse

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.models import Campaign
from accord.capture.tests.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    CostEntryFactory,
)
from accord.core.permissions import Role
from accord.core.vocabulary import Channel, LifecycleStage, Region, Segment

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed_contacts(response) -> list[int]:
    return [c.pk for c in response.context["page_obj"].object_list]


def test_a_reps_contact_list_excludes_other_reps_contacts():
    rep, other = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)
    mine = ContactFactory(owner=rep, last_name="Mine")
    ContactFactory(owner=other, last_name="Theirs")
    ContactFactory(owner=None, last_name="Nobodys")

    response = signed_in(rep).get(reverse("contacts"))

    assert listed_contacts(response) == [mine.pk]
    assert "Theirs" not in response.content.decode()


def test_a_rep_gets_404_on_another_reps_contact_page():
    rep = UserFactory(role=Role.SALES_REP)
    theirs = ContactFactory(owner=UserFactory(role=Role.SALES_REP))

    response = signed_in(rep).get(reverse("contact", args=[theirs.pk]))

    assert response.status_code == 404


def test_a_manager_sees_the_teams_and_unassigned_contacts_only():
    team = TeamFactory()
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    teammate = ContactFactory(owner=UserFactory(team=team))
    unassigned = ContactFactory(owner=None)
    ContactFactory(owner=UserFactory(team=TeamFactory()))

    response = signed_in(manager).get(reverse("contacts"))

    assert sorted(listed_contacts(response)) == sorted([teammate.pk, unassigned.pk])


def test_contacts_filter_by_stage_and_owner():
    marketer = UserFactory(role=Role.MARKETING)
    rep = UserFactory(role=Role.SALES_REP)
    mql = ContactFactory(owner=rep, lifecycle_stage=LifecycleStage.MQL)
    ContactFactory(owner=rep, lifecycle_stage=LifecycleStage.LEAD)
    unowned_mql = ContactFactory(owner=None, lifecycle_stage=LifecycleStage.MQL)
    client = signed_in(marketer)

    assert listed_contacts(client.get(reverse("contacts"), {"stage": "mql", "owner": rep.pk})) == [mql.pk]
    assert listed_contacts(client.get(reverse("contacts"), {"stage": "mql", "owner": "none"})) == [unowned_mql.pk]
    assert listed_contacts(client.get(reverse("contacts"), {"owner": "me"})) == []


def test_an_unknown_filter_value_is_ignored_rather_than_an_error():
    marketer = UserFactory(role=Role.MARKETING)
    contact = ContactFactory()

    response = signed_in(marketer).get(reverse("contacts"), {"stage": "bogus", "owner": "999999", "page": "x"})

    assert response.status_code == 200
    assert listed_contacts(response) == [contact.pk]


def test_contacts_sort_by_score_when_asked():
    marketer = UserFactory(role=Role.MARKETING)
    low, high = ContactFactory(score=5), ContactFactory(score=95)

    response = signed_in(marketer).get(reverse("contacts"), {"sort": "score"})

    assert listed_contacts(response) == [high.pk, low.pk]


def test_an_htmx_filter_request_gets_only_the_results_table():
    marketer = UserFactory(role=Role.MARKETING)
    ContactFactory(last_name="Zephyr", lifecycle_stage=LifecycleStage.MQL)
    client = signed_in(marketer)

    fragment = client.get(reverse("contacts"), {"stage": "mql"}, headers={"HX-Request": "true"})
    restore = client.get(
        reverse("contacts"), {"stage": "mql"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    assert "<html" not in fragment.content.decode()
    assert "Zephyr" in fragment.content.decode()
    assert "HX-Request" in fragment["Vary"]
    assert "<html" in restore.content.decode()


def test_the_filter_form_drives_htmx_and_pushes_the_url():
    html = signed_in(UserFactory(role=Role.MARKETING)).get(reverse("contacts")).content.decode()

    form = re.search(r'<form method="get"[^>]*>', html).group(0)
    assert 'hx-get="/contacts/"' in form
    assert 'hx-target="#results"' in form
    assert 'hx-push-url="true"' in form


def test_contacts_are_paginated_fifty_to_a_page_keeping_the_filters():
    marketer = UserFactory(role=Role.MARKETING)
    ContactFactory.create_batch(51, lifecycle_stage=LifecycleStage.MQL)
    client = signed_in(marketer)

    first = client.get(reverse("contacts"), {"stage": "mql"})
    second = client.get(reverse("contacts"), {"stage": "mql", "page": 2})

    assert len(first.context["page_obj"].object_list) == 50
    assert len(second.context["page_obj"].object_list) == 1
    assert 'href="?stage=mql&amp;page=2"' in first.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_the_contact_list_runs_the_same_queries_whatever_the_number_of_rows(rows, django_assert_num_queries):
    rep = UserFactory(role=Role.SALES_MANAGER, team=TeamFactory())
    account = AccountFactory()
    for _ in range(rows):
        ContactFactory(owner=UserFactory(team=rep.team), account=account)
    client = signed_in(rep)

    # Session, user, the people to filter by, count, page.
    with django_assert_num_queries(5):
        client.get(reverse("contacts"))


def test_the_contact_page_runs_a_fixed_number_of_queries(django_assert_num_queries):
    marketer = UserFactory(role=Role.MARKETING)
    contact = ContactFactory(owner=UserFactory(), account=AccountFactory(), original_campaign=CampaignFactory())
    client = signed_in(marketer)

    # Session, user, contact, its erasure (privacy), its current score (scoring's row, read by the
    # template like the erasure), then history, touchpoints, activities, feedback and deals.
    with django_assert_num_queries(10):
        client.get(reverse("contact", args=[contact.pk]))


def test_a_rep_sees_accounts_they_own_or_hold_a_contact_in():
    rep = UserFactory(role=Role.SALES_REP)
    owned = AccountFactory(name="Owned", owner=rep)
    held = AccountFactory(name="Held")
    ContactFactory(owner=rep, account=held)
    AccountFactory(name="Elsewhere", owner=UserFactory())

    response = signed_in(rep).get(reverse("accounts"))

    assert [a.pk for a in response.context["page_obj"].object_list] == [held.pk, owned.pk]


def test_accounts_filter_by_segment_and_region():
    marketer = UserFactory(role=Role.MARKETING)
    match = AccountFactory(segment=Segment.B2C, region=Region.EMEA)
    AccountFactory(segment=Segment.B2C, region=Region.APAC)
    AccountFactory(segment=Segment.B2B, region=Region.EMEA)

    response = signed_in(marketer).get(reverse("accounts"), {"segment": "b2c", "region": "emea"})

    assert [a.pk for a in response.context["page_obj"].object_list] == [match.pk]


@pytest.mark.parametrize("rows", [3, 30])
def test_the_account_list_runs_the_same_queries_whatever_the_number_of_rows(rows, django_assert_num_queries):
    marketer = UserFactory(role=Role.MARKETING)
    AccountFactory.create_batch(rows, owner=UserFactory())
    client = signed_in(marketer)

    with django_assert_num_queries(4):
        client.get(reverse("accounts"))


def test_campaigns_filter_by_channel_and_status_and_show_what_they_spent():
    marketer = UserFactory(role=Role.MARKETING)
    webinar = CampaignFactory(name="Spring webinar", channel=Channel.WEBINAR, status=Campaign.Status.ACTIVE)
    CampaignFactory(channel=Channel.WEBINAR, status=Campaign.Status.COMPLETED)
    CampaignFactory(channel=Channel.EMAIL, status=Campaign.Status.ACTIVE)
    CostEntryFactory(campaign=webinar, amount=1250)
    CostEntryFactory(campaign=webinar, amount=250)

    response = signed_in(marketer).get(reverse("campaigns"), {"channel": "webinar", "status": "active"})

    assert [c.pk for c in response.context["page_obj"].object_list] == [webinar.pk]
    assert "$1,500" in response.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_the_campaign_list_runs_the_same_queries_whatever_the_number_of_rows(rows, django_assert_num_queries):
    marketer = UserFactory(role=Role.MARKETING)
    for campaign in CampaignFactory.create_batch(rows, owner=UserFactory()):
        CostEntryFactory(campaign=campaign)
    client = signed_in(marketer)

    with django_assert_num_queries(4):
        client.get(reverse("campaigns"))
