from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "accord.handoff"
    label = "handoff"
    verbose_name = "Handoff"
