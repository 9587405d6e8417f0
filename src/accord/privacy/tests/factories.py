"""Factories for the rows of other apps a person leaves behind that those apps have no factory for."""

import factory
from django.utils import timezone

from accord.capture.models import ContactMerge
from accord.capture.tests.factories import ContactFactory
from accord.handoff.models import LeadWait
from accord.scoring.models import LeadScore
from accord.scoring.tests.factories import ScoreRunFactory


class LeadScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadScore

    contact = factory.SubFactory(ContactFactory)
    total = 64
    fit = 30
    engagement = 34
    run = factory.SubFactory(ScoreRunFactory)
    explanation = factory.LazyFunction(lambda: {"summary": "VP at a 51–200 software company", "up": [], "down": []})


class ContactMergeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactMerge

    survivor = factory.SubFactory(ContactFactory)
    duplicate_id = factory.Sequence(lambda n: 900_000 + n)
    duplicate_email = factory.Sequence(lambda n: f"old{n}@mail.example")
    snapshot = factory.LazyAttribute(lambda o: {"email": o.duplicate_email, "first_name": "Old"})
    moved = factory.LazyFunction(lambda: {"touchpoints": 2})
    at = factory.LazyFunction(timezone.now)


class LeadWaitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadWait

    contact = factory.SubFactory(ContactFactory)
    note = "Sent the contract to Dana, she reviews Monday."
    started_at = factory.LazyFunction(timezone.now)
