from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "liveops.core"
    label = "core"

    def ready(self) -> None:
        from liveops.core import checks  # noqa: F401  (registers the system checks)
