from django.core.management.base import BaseCommand, CommandError

from inventory.ledger import verify_ledger


class Command(BaseCommand):
    help = (
        "Recompute every stock line from its movements: the hash chain, on hand, reserved and "
        "locked. Exit 0 with 'ledger OK: ...', else exit 1 with one line per mismatch."
    )

    def handle(self, *args, **options):
        report = verify_ledger()
        if not report.ok:
            for problem in report.problems:
                self.stdout.write(problem)
            raise CommandError(
                f"ledger NOT OK: {len(report.problems)} problem(s) in {report.lines} lines, "
                f"{report.movements} movements",
                returncode=1,
            )
        self.stdout.write(f"ledger OK: {report.lines} lines, {report.movements} movements")
