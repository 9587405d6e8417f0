from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "accord.planning"
    label = "planning"
    verbose_name = "Goals and plans"
