"""A campaign's cost entries through the HTTP API: list, create, update, delete."""

import datetime as dt
from decimal import Decimal

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.accounts.tests.test_api_client import ApiClient, api_as, errors_of
from accord.capture.models import CostEntry, IdempotencyRecord
from accord.capture.tests.factories import CampaignFactory, CostEntryFactory
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db


def marketer_api():
    return api_as(UserFactory(role=Role.MARKETING))


def test_a_marketer_records_a_days_spend_in_the_campaigns_currency():
    campaign = CampaignFactory(currency="EUR")

    response = marketer_api().post(
        f"/campaigns/{campaign.pk}/costs",
        {"date": "2026-03-02", "amount": "1234.50", "impressions": 50000, "clicks": 812, "note": "Google Ads"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["campaign"] == {"id": campaign.pk, "name": campaign.name}
    assert (body["date"], body["amount"], body["currency"]) == ("2026-03-02", "1234.50", "EUR")
    assert (body["impressions"], body["clicks"], body["source"], body["note"]) == (50000, 812, "manual", "Google Ads")
    cost = CostEntry.objects.get()
    assert (cost.amount, cost.currency, cost.source) == (Decimal("1234.50"), "EUR", "manual")


def test_a_monthly_cost_must_be_dated_to_the_months_first_day():
    campaign = CampaignFactory()
    api = marketer_api()

    refused = api.post(f"/campaigns/{campaign.pk}/costs", {"date": "2026-03-15", "period": "month", "amount": "10"})
    accepted = api.post(f"/campaigns/{campaign.pk}/costs", {"date": "2026-03-01", "period": "month", "amount": "10"})

    assert refused.status_code == 422
    assert errors_of(refused) == [("date", "invalid")]
    assert accepted.status_code == 201
    assert list(CostEntry.objects.values_list("date", flat=True)) == [dt.date(2026, 3, 1)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2026-03-02", "amount": "-1"}, "amount"),
        ({"date": "2026-03-02", "amount": "1", "clicks": -3}, "clicks"),
        ({"date": "2026-03-02", "amount": "1", "currency": "euro"}, "currency"),
        ({"date": "not a day", "amount": "1"}, "date"),
        ({"amount": "1"}, "date"),
        ({"date": "2026-03-02", "amount": "1", "source": "import"}, "source"),
    ],
)
def test_bad_cost_input_is_refused_naming_the_field_and_nothing_is_stored(body, field):
    campaign = CampaignFactory()

    response = marketer_api().post(f"/campaigns/{campaign.pk}/costs", body)

    assert response.status_code == 422
    assert [name for name, _ in errors_of(response)] == [field]
    assert CostEntry.objects.count() == 0


def test_a_retry_with_the_same_idempotency_key_records_the_cost_once():
    campaign = CampaignFactory()
    api = marketer_api()
    api.headers["Idempotency-Key"] = "cost-1"
    body = {"date": "2026-03-02", "amount": "99.00"}

    first = api.post(f"/campaigns/{campaign.pk}/costs", body)
    second = api.post(f"/campaigns/{campaign.pk}/costs", body)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert CostEntry.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_idempotency_key_for_a_different_cost_is_refused():
    campaign = CampaignFactory()
    api = marketer_api()
    api.headers["Idempotency-Key"] = "cost-1"
    api.post(f"/campaigns/{campaign.pk}/costs", {"date": "2026-03-02", "amount": "99.00"})

    response = api.post(f"/campaigns/{campaign.pk}/costs", {"date": "2026-03-03", "amount": "99.00"})

    assert response.status_code == 409
    assert errors_of(response) == [("Idempotency-Key", "conflict")]
    assert list(CostEntry.objects.values_list("date", flat=True)) == [dt.date(2026, 3, 2)]


def test_costs_are_listed_latest_day_first_within_the_dates_asked():
    campaign = CampaignFactory()
    for day in (1, 2, 3):
        CostEntryFactory(campaign=campaign, date=dt.date(2026, 3, day))
    CostEntryFactory(date=dt.date(2026, 3, 2))  # another campaign's

    response = marketer_api().get(
        f"/campaigns/{campaign.pk}/costs", {"date_from": "2026-03-02", "date_to": "2026-03-03"}
    )

    assert response.status_code == 200
    assert [item["date"] for item in response.json()["items"]] == ["2026-03-03", "2026-03-02"]
    assert response.json()["count"] == 2


def test_listing_costs_takes_a_fixed_number_of_queries(django_assert_num_queries):
    campaign = CampaignFactory()
    for day in range(1, 11):
        CostEntryFactory(campaign=campaign, date=dt.date(2026, 3, day))
    api = marketer_api()

    # Token and user, the campaign, the count, the page.
    with django_assert_num_queries(5):
        response = api.get(f"/campaigns/{campaign.pk}/costs")

    assert len(response.json()["items"]) == 10


def test_a_cost_is_patched_field_by_field_and_deleted():
    cost = CostEntryFactory(amount=Decimal("100.00"), clicks=5, note="old")
    api = marketer_api()
    path = f"/campaigns/{cost.campaign_id}/costs/{cost.pk}"

    patched = api.patch(path, {"amount": "150.25", "clicks": None})
    fetched = api.get(path)
    deleted = api.delete(path)

    assert patched.status_code == 200
    assert (patched.json()["amount"], patched.json()["clicks"], patched.json()["note"]) == ("150.25", None, "old")
    assert fetched.json()["amount"] == "150.25"
    assert deleted.status_code == 204
    assert CostEntry.objects.count() == 0


def test_a_cost_of_another_campaign_is_not_found_through_this_one():
    cost = CostEntryFactory()
    other = CampaignFactory()

    response = marketer_api().patch(f"/campaigns/{other.pk}/costs/{cost.pk}", {"amount": "1"})

    assert response.status_code == 404
    assert errors_of(response) == [(None, "not_found")]
    cost.refresh_from_db()
    assert cost.amount == Decimal("100")


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.EXECUTIVE])
def test_roles_that_may_not_edit_campaigns_read_costs_but_cannot_change_them(role):
    cost = CostEntryFactory()
    api = api_as(UserFactory(role=role))
    base = f"/campaigns/{cost.campaign_id}/costs"

    listed = api.get(base)
    created = api.post(base, {"date": "2026-03-02", "amount": "1"})
    patched = api.patch(f"{base}/{cost.pk}", {"amount": "1"})
    deleted = api.delete(f"{base}/{cost.pk}")

    assert listed.status_code == 200
    assert [created.status_code, patched.status_code, deleted.status_code] == [403, 403, 403]
    assert errors_of(created) == [(None, "forbidden")]
    assert list(CostEntry.objects.values_list("amount", flat=True)) == [Decimal("100")]


def test_costs_need_authentication():
    campaign = CampaignFactory()

    response = ApiClient(None).get(f"/campaigns/{campaign.pk}/costs")

    assert response.status_code == 401
