from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .roles import roles_post_migrate
        from .services import receptions  # noqa: F401  (registers its ledger check)

        # After every migrate and flush: the role groups exist with their permissions.
        post_migrate.connect(roles_post_migrate, sender=self, dispatch_uid="inventory.roles")
