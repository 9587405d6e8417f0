import datetime as dt
from decimal import Decimal

import pytest

from accord.capture.models import Account, CostEntry, Touchpoint
from accord.capture.tests.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    CostEntryFactory,
)
from accord.deals.models import Deal, DealContact, DealStageChange
from accord.deals.tests.factories import PipelineFactory, PipelineStageFactory
from accord.imports.reading import ImportRefused
from accord.imports.services import import_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def spring(db):
    return CampaignFactory(name="Spring Search", utm_campaign="spring-search-2026")


def test_costs_import_by_campaign_name_or_utm_code_with_spend_currency_impressions_and_clicks(csv_file, spring):
    path = csv_file(
        "Date,Campaign,Spend,Currency,Impressions,Clicks\n"
        "2026-03-01,Spring Search,120.50,EUR,10000,230\n"
        "2026-03-02,spring-search-2026,\"1,034.00\",EUR,\"88,000\",1900\n",
        name="costs.csv",
    )

    summary = import_file(kind="costs", path=path)

    assert (summary.created, summary.rejected) == (2, 0)
    costs = list(CostEntry.objects.order_by("date").values_list("date", "amount", "currency", "impressions", "clicks", "source"))
    assert costs == [
        (dt.date(2026, 3, 1), Decimal("120.50"), "EUR", 10000, 230, "import"),
        (dt.date(2026, 3, 2), Decimal("1034.00"), "EUR", 88000, 1900, "import"),
    ]


def test_re_importing_a_day_of_a_campaign_replaces_its_imported_cost_instead_of_adding_one(csv_file, spring):
    CostEntryFactory(campaign=spring, date=dt.date(2026, 3, 1), amount=999, source="manual")
    import_file(kind="costs", path=csv_file("Day,Campaign,Cost\n2026-03-01,Spring Search,100\n", name="a.csv"))

    again = import_file(kind="costs", path=csv_file("Day,Campaign,Cost\n2026-03-01,Spring Search,100\n", name="a.csv"))
    corrected = import_file(kind="costs", path=csv_file("Day,Campaign,Cost\n2026-03-01,Spring Search,150\n", name="b.csv"))

    assert (again.unchanged, corrected.updated) == (1, 1)
    assert sorted(CostEntry.objects.values_list("source", "amount")) == [
        ("import", Decimal("150.00")), ("manual", Decimal("999.00"))
    ]


def test_a_negative_cost_is_rejected(csv_file, spring):
    summary = import_file(kind="costs", path=csv_file("Date,Campaign,Spend\n2026-03-01,Spring Search,-5\n"))

    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (2, "Spend", "'-5' is negative; amounts must be 0 or more")
    ]
    assert CostEntry.objects.count() == 0


def test_a_non_numeric_cost_is_rejected(csv_file, spring):
    summary = import_file(kind="costs", path=csv_file("Date,Campaign,Spend\n2026-03-01,Spring Search,lots\n"))

    assert [(e.row, e.column, e.message) for e in summary.errors] == [(2, "Spend", "'lots' is not a number")]
    assert CostEntry.objects.count() == 0


def test_a_cost_for_an_unknown_campaign_is_rejected(csv_file, spring):
    summary = import_file(kind="costs", path=csv_file("Date,Campaign,Spend\n2026-03-01,Autumn Social,5\n"))

    assert summary.errors[0].message == "unknown campaign 'Autumn Social': no campaign has this name or UTM code"


def test_a_costs_file_without_a_spend_column_is_refused(csv_file, spring):
    with pytest.raises(ImportRefused, match="no column for amount"):
        import_file(kind="costs", path=csv_file("Date,Campaign\n2026-03-01,Spring Search\n"))


def test_accounts_upsert_by_domain_and_set_industry_size_and_country(csv_file):
    AccountFactory(name="Old Name", domain="acme.example", industry="other")
    path = csv_file(
        "Account ID,Account Name,Website,Industry,Employees,Billing Country,Account Owner\n"
        "001A,Acme Corporation,https://www.acme.example/about,Banking,5400,Canada,\n"
        "001B,Globex,globex.example,Consulting,45,DE,\n",
        name="accounts.csv",
    )

    first = import_file(kind="accounts", path=path)
    second = import_file(kind="accounts", path=path)

    assert (first.preset, first.created, first.updated) == ("salesforce", 1, 1)
    assert (second.unchanged, second.created, second.updated) == (2, 0, 0)
    acme = Account.objects.get(domain="acme.example")
    assert (acme.name, acme.external_id, acme.industry, acme.size_band, acme.country, acme.region) == (
        "Acme Corporation", "001A", "financial", "5000+", "CA", "na"
    )


def test_touchpoints_attach_to_contacts_by_email_and_re_import_without_duplicates(csv_file, spring):
    ann = ContactFactory(email="ann@example.org")
    path = csv_file(
        "Email,Type,Channel,Campaign,Timestamp\n"
        "ANN@example.org,ad_click,,Spring Search,2026-03-01T10:00:00Z\n"
        "ann@example.org,Webinar attended,webinar,,2026-03-02 15:00\n"
        "ghost@example.org,page_view,direct,,2026-03-02 15:00\n",
        name="touches.csv",
    )

    first = import_file(kind="touchpoints", path=path)
    second = import_file(kind="touchpoints", path=path)

    assert (first.created, first.rejected) == (2, 1)
    assert "no contact has email ghost@example.org" in first.errors[0].message
    assert (second.created, second.unchanged) == (0, 2)
    assert sorted(Touchpoint.objects.values_list("contact", "kind", "channel", "campaign")) == [
        (ann.pk, "ad_click", "paid_search", spring.pk), (ann.pk, "webinar_attend", "webinar", None)
    ]


def test_deals_import_with_their_stage_account_and_contact_and_record_the_stage_entered(csv_file, mara):
    pipeline = PipelineFactory()
    PipelineStageFactory(pipeline=pipeline, name="Discovery", order=1, probability="0.2")
    won = PipelineStageFactory(pipeline=pipeline, name="Won", order=2, probability="1", outcome="won")
    ada = ContactFactory(email="ada@analytical.example")
    path = csv_file(
        "Opportunity ID,Opportunity Name,Account Name,Stage,Amount,Close Date,Opportunity Owner,Contact Email\n"
        "006A,Engines renewal,Analytical Engines,Closed Won,\"48,000.00\",6/30/2026,mara,ada@analytical.example\n"
        "006B,Looms pilot,Jacquard,Negotiation,1000,6/30/2026,mara,\n"
        "006C,Refund,Jacquard,Discovery,-10,6/30/2026,mara,\n",
        name="opportunities.csv",
    )

    first = import_file(kind="deals", path=path)
    second = import_file(kind="deals", path=path)

    assert (first.created, first.rejected) == (1, 2)
    assert "unknown stage 'Negotiation' in pipeline New business; accepted: Discovery, Won" in first.errors[0].message
    assert "negative" in first.errors[1].message
    assert (second.unchanged, second.created) == (1, 0)
    deal = Deal.objects.get()
    assert (deal.external_id, deal.stage, deal.status, deal.amount, deal.owner) == ("006A", won, "won", Decimal("48000.00"), mara)
    assert deal.account.name == "Analytical Engines"
    assert DealContact.objects.get().contact == ada
    assert DealStageChange.objects.get().to_stage == won
