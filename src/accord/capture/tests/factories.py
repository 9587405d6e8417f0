import datetime as dt

import factory
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accord.capture.models import (
    Account,
    Campaign,
    CaptureSource,
    Consent,
    Contact,
    CostEntry,
    IdentityLink,
    Touchpoint,
)
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
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@company{n}.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    lifecycle_stage = LifecycleStage.LEAD
    lead_source = Channel.PAID_SEARCH

    @factory.post_generation
    def score(contact, create, total, **kwargs):
        """Give the contact a current score (`ContactFactory(score=80)`); none means never scored.

        The row is scoring's (ContactScore), reached by name: capture imports nothing above it.
        """
        if create and total is not None:
            apps.get_model("scoring", "ContactScore").objects.create(contact=contact, total=total)


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


class CaptureSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaptureSource

    name = factory.Sequence(lambda n: f"Form {n}")
    kind = CaptureSource.Kind.WEB_FORM
    allowed_origins = "https://www.example.com"
    consent_text = "I agree to hear about products by email."


class IdentityLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityLink

    anonymous_id = factory.Sequence(lambda n: f"anon-{n}")
    contact = factory.SubFactory(ContactFactory)
    linked_at = factory.LazyFunction(timezone.now)


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    contact = factory.SubFactory(ContactFactory)
    text = "I agree."
    granted = True
    at = factory.LazyFunction(timezone.now)


# Rows of the apps above capture, named by string: capture (tests included) may not import
# their modules, and a merge must move their rows all the same.


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "lifecycle.Activity"

    contact = factory.SubFactory(ContactFactory)
    kind = "call"
    occurred_at = factory.LazyFunction(timezone.now)


class StageTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "lifecycle.StageTransition"

    contact = factory.SubFactory(ContactFactory)
    from_stage = LifecycleStage.LEAD
    to_stage = LifecycleStage.MQL
    occurred_at = factory.LazyFunction(timezone.now)


class LeadAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "lifecycle.LeadAssignment"

    contact = factory.SubFactory(ContactFactory)
    owner = factory.SubFactory("accord.accounts.tests.factories.UserFactory")
    assigned_at = factory.LazyFunction(timezone.now)


class LeadFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "lifecycle.LeadFeedback"

    contact = factory.SubFactory(ContactFactory)
    decision = "reject"
    reason = "bad_data"
    created_at = factory.LazyFunction(timezone.now)


class PipelineStageRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "deals.PipelineStage"

    pipeline = factory.LazyFunction(
        lambda: apps.get_model("deals", "Pipeline").objects.get_or_create(name="New business")[0]
    )
    name = factory.Sequence(lambda n: f"Stage {n}")
    order = factory.Sequence(lambda n: n + 1)
    probability = "0.200"


class DealRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "deals.Deal"

    name = factory.Sequence(lambda n: f"Deal {n}")
    stage = factory.SubFactory(PipelineStageRowFactory)
    pipeline = factory.SelfAttribute("stage.pipeline")
    amount = 12000
    close_date = dt.date(2026, 12, 31)


class DealRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "deals.DealContact"

    deal = factory.SubFactory(DealRowFactory)
    contact = factory.SubFactory(ContactFactory)


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "collaboration.Comment"

    target_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(Contact))
    target_id = factory.LazyAttribute(lambda comment: comment.target.pk)
    body = "Spoke to them at the booth."
    created_at = factory.LazyFunction(timezone.now)

    class Params:
        target = factory.SubFactory(ContactFactory)
