from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "accord.capture"
    label = "capture"
    verbose_name = "Capture: accounts, contacts, campaigns, touchpoints"
