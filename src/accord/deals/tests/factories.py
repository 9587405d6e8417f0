import datetime as dt

import factory

from accord.deals.models import Deal, DealContact, Pipeline, PipelineStage


class PipelineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pipeline
        django_get_or_create = ("name",)

    name = "New business"
    is_default = True


class PipelineStageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PipelineStage
        django_get_or_create = ("pipeline", "name")

    pipeline = factory.SubFactory(PipelineFactory)
    name = "Discovery"
    order = 1
    probability = "0.200"


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    name = factory.Sequence(lambda n: f"Deal {n}")
    stage = factory.SubFactory(PipelineStageFactory)
    pipeline = factory.SelfAttribute("stage.pipeline")
    amount = 12000
    close_date = dt.date(2026, 12, 31)


class DealContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealContact

    deal = factory.SubFactory(DealFactory)
    contact = factory.SubFactory("accord.capture.tests.factories.ContactFactory")
