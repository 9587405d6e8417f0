import factory
from django.utils import timezone

from accord.core.vocabulary import LifecycleStage
from accord.lifecycle.models import Activity, LeadFeedback, StageTransition
from accord.scoring.models import PredictiveModelVersion, ScoringRuleSet
from accord.scoring.services import DEFAULT_RULES


class StageTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageTransition

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    from_stage = LifecycleStage.LEAD
    to_stage = LifecycleStage.MQL
    occurred_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    kind = Activity.Kind.MEETING
    occurred_at = factory.LazyFunction(timezone.now)


class LeadFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadFeedback

    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
    decision = LeadFeedback.Decision.REJECT
    reason = LeadFeedback.Reason.STUDENT
    created_at = factory.LazyFunction(timezone.now)


class ScoringRuleSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoringRuleSet

    version = factory.Sequence(lambda n: n + 1)
    source = factory.LazyFunction(lambda: DEFAULT_RULES.read_text(encoding="utf-8"))
    parsed = factory.LazyAttribute(lambda o: __import__(
        "accord.scoring.rules", fromlist=["parse_rules"]).parse_rules(o.source).model_dump(mode="json"))
    is_active = False


class PredictiveModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PredictiveModelVersion

    version = factory.Sequence(lambda n: n + 1)
    trained_at = factory.LazyFunction(timezone.now)
    outcome = "reached SQL, opportunity or customer"
    horizon_days = 90
    roc_auc = 0.8
    pr_auc = 0.3
    brier = 0.05
    positive_rate = 0.05
    lift_by_decile = factory.LazyFunction(lambda: [4.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.4, 0.3, 0.2, 0.1])
    rules_lift_by_decile = factory.LazyFunction(lambda: [3.0, 2.0, 1.0, 1.0, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    rules_roc_auc = 0.7
    artifact = b"not a real model"
