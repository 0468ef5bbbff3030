from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel every app stands on; it owns no tables."""

    name = "core"
    verbose_name = "Core"
