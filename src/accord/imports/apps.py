from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "accord.imports"
    label = "imports"
    verbose_name = "CSV imports"
