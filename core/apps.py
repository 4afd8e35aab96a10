from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: the CSV rules, and the database cache's table (a migration)."""

    name = "core"
    verbose_name = "Core"
