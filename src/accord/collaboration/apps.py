from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    name = "accord.collaboration"
    label = "collaboration"
    verbose_name = "Collaboration"
