"""Apply a count session from the command line, with progress: for very large counts, or to
run one outside the web server's time limits.

    python manage.py apply_count 12 [--uncounted-as-zero] [--user merchant]
"""

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.models import CountSession, Movement
from inventory.selectors.counts import count_summary
from inventory.services import InsufficientStock, StockError, count_session_apply

STAGES = {
    "lock": "Locking {total:,} stock lines with a gap…",
    "prepare": "  prepared {done:,} of {total:,} corrections",
    "write": "Writing {total:,} corrections and the new quantities…",
    "done": "Done.",
}
LISTED_SHORTFALLS = 20


class Command(BaseCommand):
    help = "Apply a physical count session: one Physical count adjustment per line with a gap."

    def add_arguments(self, parser):
        parser.add_argument("session", type=int, help="the count session's id (COUNT-<id>)")
        parser.add_argument(
            "--uncounted-as-zero",
            action="store_true",
            help="set lines nobody counted to 0 (default: leave them as they are)",
        )
        parser.add_argument("--user", help="username recorded on the corrections")

    def handle(self, *args, session, uncounted_as_zero, user, **options):
        count = CountSession.objects.select_related("warehouse").filter(pk=session).first()
        if count is None:
            raise CommandError(f"No count session {session}.")
        person = None
        if user:
            person = get_user_model().objects.filter(username=user).first()
            if person is None:
                raise CommandError(f"No user {user!r}.")
        summary = count_summary(count)
        self.stdout.write(
            f"{count.reference} in {count.warehouse.code}: {summary.lines:,} lines, "
            f"{summary.counted:,} counted, {summary.with_gap:,} with a gap."
        )
        started = time.monotonic()

        def progress(stage, done, total):
            elapsed = time.monotonic() - started
            self.stdout.write(f"[{elapsed:6.1f} s] " + STAGES[stage].format(done=done, total=total))
            self.stdout.flush()

        try:
            count = count_session_apply(
                session=count, uncounted_as_zero=uncounted_as_zero, user=person, progress=progress
            )
        except InsufficientStock as error:
            for shortfall in error.shortfalls[:LISTED_SHORTFALLS]:
                self.stderr.write(str(shortfall))
            raise CommandError(
                f"Nothing applied: {len(error.shortfalls):,} lines would leave available stock "
                f"below zero in {count.warehouse.code}."
            ) from None
        except StockError as error:
            raise CommandError(error.message) from None
        written = Movement.objects.filter(operation=count.operation).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"{count.reference} applied: {written:,} corrections in "
                f"{time.monotonic() - started:.1f} s."
            )
        )
