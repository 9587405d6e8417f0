import factory
from django.utils import timezone

from accord.lifecycle.models import Activity, LeadFeedback
from accord.lifecycle.tests import factories as lifecycle_factories
from accord.scoring.models import PredictiveModelVersion, ScoreRun, ScoringRuleSet
from accord.scoring.services import DEFAULT_RULES

# The lifecycle's factories, with the defaults scoring tests lean on: a meeting is the
# engagement that scores, and a rejection is sales' evidence against a lead.
StageTransitionFactory = lifecycle_factories.StageTransitionFactory


class ActivityFactory(lifecycle_factories.ActivityFactory):
    kind = Activity.Kind.MEETING


class LeadFeedbackFactory(lifecycle_factories.LeadFeedbackFactory):
    decision = LeadFeedback.Decision.REJECT
    reason = "student"


class ScoreRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoreRun

    computed_at = factory.LazyFunction(timezone.now)
    rule_version = 1


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
