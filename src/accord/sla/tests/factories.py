from datetime import timedelta

import factory
from django.db.models import Max
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.lifecycle.models import LeadAssignment
from accord.planning.models import Goal
from accord.sla.document import parse_sla
from accord.sla.models import Handover, SlaClock, SlaVersion
from accord.sla.services import DEFAULT_SLA

# A small agreement on UTC office hours (Mon–Fri 09–17), two attempts over ten days.
UTC_SLA = """\
sales:
  first_touch_hours: {hot: 1, warm: 4, cold: 8}
  default_tier: warm
  decision_hours: 16
  attempts: {minimum: 2, days: 10}
calendars:
  default:
    timezone: UTC
    hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
"""


class LeadAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadAssignment

    contact = factory.SubFactory(ContactFactory)
    owner = factory.SubFactory(UserFactory)
    assigned_at = factory.LazyFunction(timezone.now)
    rule = "test"


class SlaVersionFactory(factory.django.DjangoModelFactory):
    """A published version; pass `source` (YAML) and the parsed document follows it."""

    class Meta:
        model = SlaVersion

    version = factory.LazyFunction(lambda: (SlaVersion.objects.aggregate(top=Max("version"))["top"] or 0) + 1)
    source = factory.LazyFunction(lambda: DEFAULT_SLA.read_text(encoding="utf-8"))
    document = factory.LazyAttribute(lambda o: parse_sla(o.source).model_dump(mode="json"))
    effective_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3650))
    note = "test"


class SlaClockFactory(factory.django.DjangoModelFactory):
    """An open first-touch clock on plain UTC time, due a minute after it starts unless told."""

    class Meta:
        model = SlaClock

    contact = factory.SubFactory(ContactFactory)
    owner = factory.SubFactory(UserFactory)
    kind = SlaClock.Kind.FIRST_TOUCH
    tier = "hot"
    sla_version = factory.SubFactory(SlaVersionFactory)
    basis = SlaClock.Basis.CALENDAR
    budget_seconds = 60
    started_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(seconds=o.budget_seconds))
    warn_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(seconds=o.budget_seconds * 0.75))


class MqlGoalFactory(factory.django.DjangoModelFactory):
    """A company-wide MQL goal (the goal plan's number when the SLA names none); pass the period and target."""

    class Meta:
        model = Goal

    name = factory.Sequence(lambda n: f"MQL goal {n}")
    metric = Goal.Metric.MQLS


class HandoverFactory(factory.django.DjangoModelFactory):
    """A handover row written behind the services' back (as an import or the demo would): the rollup does not see it."""

    class Meta:
        model = Handover

    contact = factory.SubFactory(ContactFactory)
    at = factory.LazyFunction(timezone.now)
    sla_version = factory.SubFactory(SlaVersionFactory)
    missing_fields = factory.LazyFunction(list)
    complete = factory.LazyAttribute(lambda o: not o.missing_fields)
