from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "liveops.core"
    label = "core"
