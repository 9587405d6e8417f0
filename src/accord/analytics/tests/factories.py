"""Factories for the tables analytics reads: the lifecycle's own, and goals."""

import datetime as dt

import factory
from django.utils import timezone

from accord.lifecycle.tests.factories import ActivityFactory as LifecycleActivityFactory
from accord.lifecycle.tests.factories import LeadFeedbackFactory, StageTransitionFactory
from accord.planning.models import Goal

__all__ = ["ActivityFactory", "GoalFactory", "LeadFeedbackFactory", "StageTransitionFactory"]


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    name = factory.Sequence(lambda n: f"Revenue goal {n}")
    metric = Goal.Metric.REVENUE
    period_start = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    period_end = factory.LazyAttribute(lambda g: g.period_start + dt.timedelta(days=89))
    target = 100000


class ActivityFactory(LifecycleActivityFactory):
    subject = "Intro call"
