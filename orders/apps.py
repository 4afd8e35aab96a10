from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        # inventory never imports orders: the order pipeline adds its own invariant
        # ("reserved = what open orders hold") to verify_ledger from here.
        from inventory.ledger import EXTRA_CHECKS, register_check

        from .ledger import order_holdings_problems

        if order_holdings_problems not in EXTRA_CHECKS:
            register_check(order_holdings_problems)
