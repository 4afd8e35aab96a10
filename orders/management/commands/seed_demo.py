"""``seed_demo`` lives in the orders app because the demo spans both apps: inventory writes the
stock history, the orders app its customers' orders, and only orders may import inventory."""

import time

from django.core.management.base import BaseCommand, CommandError

from inventory.demo import DEMO_PASSWORD, DEMO_USERS, WAREHOUSES, DemoOptions
from orders.demo import seed_demo
from orders.models import Stage


class Command(BaseCommand):
    help = (
        "Create demo data: warehouses, a catalog with size/colour variants and goods sold by "
        "weight, six months of history written through the stock services with the shop's "
        "orders moved through the order pipeline, and the demo logins. Idempotent: run it "
        "again with the same arguments and nothing changes."
    )

    def add_arguments(self, parser):
        defaults = DemoOptions()
        parser.add_argument("--variants", type=int, default=defaults.variants)
        parser.add_argument("--warehouses", type=int, default=defaults.warehouses)
        parser.add_argument(
            "--movements", type=int, default=defaults.movements, help="Approximate target."
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)

    def handle(self, *args, **options):
        if not 1 <= options["warehouses"] <= len(WAREHOUSES):
            raise CommandError(f"--warehouses must be between 1 and {len(WAREHOUSES)}.")
        if options["variants"] < 4:
            raise CommandError("--variants must be at least 4.")
        if options["movements"] < 0:
            raise CommandError("--movements cannot be negative.")
        started = time.monotonic()
        result = seed_demo(
            DemoOptions(
                variants=options["variants"],
                warehouses=options["warehouses"],
                movements=options["movements"],
                seed=options["seed"],
            )
        )
        if result["history_written"]:
            self.stdout.write(
                f"Demo data: {result['warehouses']} warehouses, {result['variants']} variants, "
                f"{result['stock_lines']} stock lines, {result['movements']} movements "
                f"({time.monotonic() - started:.1f} s)."
            )
            stages = ", ".join(
                f"{result['orders_by_stage'][stage]} {Stage(stage).label.lower()}"
                for stage in Stage.values
                if stage in result["orders_by_stage"]
            )
            self.stdout.write(f"Orders: {result['orders']} ({stages}).")
        else:
            self.stdout.write("Demo data already present: nothing to do.")
        logins = ", ".join(name for name, *_ in DEMO_USERS)
        self.stdout.write(f"Demo logins: {logins} (password: {DEMO_PASSWORD})")
