from django.apps import AppConfig


class ShellConfig(AppConfig):
    """The UI shell: workspace landing, placeholders for modules not built yet, health check."""

    name = "liveops.shell"
    label = "shell"
