from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "accord.deals"
    label = "deals"
    verbose_name = "Deals and pipeline"
