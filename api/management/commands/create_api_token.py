from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it on the last line. Only its hash is "
        "stored: copy it now, it cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument(
            "--name",
            default="",
            help="What will use the token (default: “Created from the command line”).",
        )

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is deactivated: a token would not work.")
        api_token, secret = api_token_create(
            user=user, name=name.strip() or "Created from the command line"
        )
        self.stdout.write(
            f"API token {api_token.label} created for {username}. "
            "Copy it now: only its hash is stored. Use it as: Authorization: Bearer <token>"
        )
        self.stdout.write(secret)
