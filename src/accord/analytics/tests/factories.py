"""Factories for the tables analytics reads but whose apps have no factories yet."""

import datetime as dt

import factory
from django.utils import timezone

from accord.core.vocabulary import LifecycleStage
from accord.lifecycle.models import Activity, LeadFeedback, StageTransition
from accord.planning.models import Goal


class StageTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageTransition

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    from_stage = LifecycleStage.LEAD
    to_stage = LifecycleStage.MQL
    occurred_at = factory.LazyFunction(timezone.now)


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    name = factory.Sequence(lambda n: f"Revenue goal {n}")
    metric = Goal.Metric.REVENUE
    period_start = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    period_end = factory.LazyAttribute(lambda g: g.period_start + dt.timedelta(days=89))
    target = 100000


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    kind = Activity.Kind.CALL
    subject = "Intro call"
    occurred_at = factory.LazyFunction(timezone.now)


class LeadFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadFeedback

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    decision = LeadFeedback.Decision.ACCEPT
    reason = LeadFeedback.Reason.GOOD_FIT
    created_at = factory.LazyFunction(timezone.now)
