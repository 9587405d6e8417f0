import datetime as dt

import factory
from django.utils import timezone

from accord.capture.models import Account, Campaign, Contact, CostEntry, Touchpoint
from accord.core.vocabulary import Channel, LifecycleStage


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "software"
    size_band = "51-200"
    region = "na"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    email = factory.Sequence(lambda n: f"person{n}@company{n}.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    lifecycle_stage = LifecycleStage.LEAD
    lead_source = Channel.PAID_SEARCH


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = Channel.PAID_SEARCH
    kind = Campaign.Kind.ADS
    status = Campaign.Status.ACTIVE
    start_date = dt.date(2026, 1, 1)
    budget = 10000
    utm_campaign = factory.Sequence(lambda n: f"campaign-{n}")


class CostEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostEntry

    campaign = factory.SubFactory(CampaignFactory)
    date = dt.date(2026, 1, 1)
    amount = 100


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    contact = factory.SubFactory(ContactFactory)
    channel = Channel.PAID_SEARCH
    kind = Touchpoint.Kind.AD_CLICK
    occurred_at = factory.LazyFunction(timezone.now)
