from django.core.management.base import BaseCommand

from inventory.services.thresholds import stock_lines_refresh_thresholds


class Command(BaseCommand):
    help = (
        "Recompute the alert threshold each stock line's status uses (after changing "
        "thresholds with set-based SQL or QuerySet.update, which the app does not see)."
    )

    def handle(self, *args, **options):
        refreshed = stock_lines_refresh_thresholds()
        self.stdout.write(f"{refreshed} stock lines refreshed")
