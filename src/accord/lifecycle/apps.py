from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "accord.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle and handoff"
