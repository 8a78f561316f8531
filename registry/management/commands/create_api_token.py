"""manage.py create_api_token USERNAME --name ... : print a new REST API token's key once."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.models import TokenScope
from registry.services.api_tokens import api_token_create


class Command(BaseCommand):
    help = "Create a REST API token for a user and print its key (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        parser.add_argument("--expires-days", type=int, default=None)
        identity = parser.add_mutually_exclusive_group()
        identity.add_argument("--deidentified", dest="deidentified", action="store_true")
        identity.add_argument("--identified", dest="deidentified", action="store_false")
        parser.set_defaults(deidentified=None)

    def handle(self, *args, **options):
        try:
            user = get_user_model().objects.get(username=options["username"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {options['username']!r}.") from None
        try:
            token, key = api_token_create(
                user=user,
                name=options["name"],
                scope=options["scope"],
                deidentified=options["deidentified"],
                expires_in_days=options["expires_days"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        flag = "de-identified" if token.deidentified else "identified"
        self.stderr.write(f"Token “{token.name}” for {user}: {token.get_scope_display()}, {flag}.")
        self.stdout.write(key)
