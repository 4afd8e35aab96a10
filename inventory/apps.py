from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .services import receptions  # noqa: F401  (registers its ledger check)
