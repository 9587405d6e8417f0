import datetime as dt
from decimal import Decimal

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Campaign, CostEntry
from accord.capture.tests.factories import CampaignFactory
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db

NEW_CAMPAIGN = {
    "name": "Spring webinar series",
    "channel": "webinar",
    "kind": "webinar",
    "status": "planned",
    "segment": "b2b",
    "start_date": "2027-03-01",
    "end_date": "2027-04-30",
    "budget": "12000",
    "currency": "USD",
    "utm_source": "accord",
    "utm_medium": "webinar",
    "utm_campaign": "spring-webinars",
    "description": "",
}


def test_a_marketer_creates_a_campaign_and_lands_on_its_page(client):
    marketer = UserFactory(role=Role.MARKETING)
    client.force_login(marketer)

    response = client.post("/campaigns/new/", NEW_CAMPAIGN)

    campaign = Campaign.objects.get(utm_campaign="spring-webinars")
    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    assert (campaign.owner, campaign.budget, campaign.channel) == (marketer, Decimal("12000.00"), "webinar")
    assert b"Spring webinar series" in client.get(response["Location"]).content


def test_a_utm_code_already_in_use_is_refused_on_its_field_and_nothing_is_created(client):
    CampaignFactory(utm_campaign="Spring-Webinars")
    client.force_login(UserFactory(role=Role.MARKETING))

    response = client.post("/campaigns/new/", NEW_CAMPAIGN)

    assert response.status_code == 422
    assert "utm_campaign" in response.context["form"].errors
    assert Campaign.objects.count() == 1


def test_an_end_before_the_start_is_refused_and_the_campaign_keeps_its_dates(client):
    campaign = CampaignFactory(start_date=dt.date(2027, 1, 1), end_date=dt.date(2027, 2, 1))
    client.force_login(UserFactory(role=Role.MARKETING))

    response = client.post(
        f"/campaigns/{campaign.pk}/edit/",
        {**NEW_CAMPAIGN, "start_date": "2027-05-01", "end_date": "2027-04-01"},
    )

    campaign.refresh_from_db()
    assert response.status_code == 422
    assert (campaign.start_date, campaign.end_date) == (dt.date(2027, 1, 1), dt.date(2027, 2, 1))


def test_a_marketer_records_a_cost_and_the_campaign_shows_what_it_spent(client):
    campaign = CampaignFactory()
    client.force_login(UserFactory(role=Role.MARKETING))

    response = client.post(
        f"/campaigns/{campaign.pk}/", {"date": "2027-03-01", "amount": "1250.50", "clicks": "300"}
    )

    cost = CostEntry.objects.get(campaign=campaign)
    assert response.status_code == 302
    assert (cost.amount, cost.clicks, cost.source) == (Decimal("1250.50"), 300, CostEntry.Source.MANUAL)
    page = client.get(f"/campaigns/{campaign.pk}/")
    assert page.context["totals"]["spent"] == Decimal("1250.50")


def test_a_negative_cost_is_refused_and_nothing_is_recorded(client):
    campaign = CampaignFactory()
    client.force_login(UserFactory(role=Role.MARKETING))

    response = client.post(f"/campaigns/{campaign.pk}/", {"date": "2027-03-01", "amount": "-5"})

    assert response.status_code == 422
    assert "amount" in response.context["cost_form"].errors
    assert CostEntry.objects.count() == 0


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.EXECUTIVE])
def test_roles_without_campaign_rights_read_the_page_but_cannot_change_anything(client, role):
    campaign = CampaignFactory(name="Original")
    client.force_login(UserFactory(role=role))

    page = client.get(f"/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    assert b"Record a cost" not in page.content
    assert client.get("/campaigns/new/").status_code == 403
    assert client.post(f"/campaigns/{campaign.pk}/edit/", {**NEW_CAMPAIGN, "name": "Hijacked"}).status_code == 403
    assert client.post(f"/campaigns/{campaign.pk}/", {"date": "2027-03-01", "amount": "10"}).status_code == 403

    campaign.refresh_from_db()
    assert campaign.name == "Original"
    assert CostEntry.objects.count() == 0
