import factory
from django.utils import timezone

from accord.core.vocabulary import LifecycleStage
from accord.lifecycle.models import (
    Activity,
    LeadAssignment,
    LeadFeedback,
    RejectionReason,
    StageTransition,
)


class StageTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageTransition

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    from_stage = LifecycleStage.LEAD
    to_stage = LifecycleStage.MQL
    occurred_at = factory.LazyFunction(timezone.now)


class LeadAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadAssignment

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    owner = factory.SubFactory("accord.accounts.tests.factories.UserFactory")
    assigned_at = factory.LazyFunction(timezone.now)
    rule = "manual"


class LeadFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadFeedback

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    decision = LeadFeedback.Decision.ACCEPT
    reason = ""
    created_at = factory.LazyFunction(timezone.now)


class RejectionReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RejectionReason
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"reason_{n}")
    label = factory.LazyAttribute(lambda o: o.code.replace("_", " ").capitalize())
    outcome = RejectionReason.Outcome.NURTURE
    order = factory.Sequence(lambda n: 100 + n)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    kind = Activity.Kind.CALL
    occurred_at = factory.LazyFunction(timezone.now)
