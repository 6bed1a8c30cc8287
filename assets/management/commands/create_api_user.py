"""Create (or reuse) an account and a user with a role, and issue an API key.

The key is printed once, on its own line, and is stored only as a hash.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from assets.errors import ApiError
from assets.models import Role
from assets.services import account_user_create, api_key_create


class Command(BaseCommand):
    help = "Create an account, a user with a role in it, and an API key (printed once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", required=True, help="account name (created if missing)")
        parser.add_argument("--username", required=True, help="user name (created if missing)")
        parser.add_argument("--role", default=Role.ADMIN, choices=Role.values)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None, help="set a password for browser login")
        parser.add_argument("--key-name", default="cli", help="a label for the key")

    def handle(self, *args, **options) -> None:
        try:
            membership, created = account_user_create(
                account_name=options["account"],
                username=options["username"],
                role=options["role"],
                email=options["email"],
                password=options["password"],
            )
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        _, key = api_key_create(user=membership.user, name=options["key_name"])
        verb = "created" if created else "updated"
        self.stderr.write(
            f"{verb} user {membership.user.username} ({membership.role}) in account "
            f"{membership.account.name}; its API key (shown only now):"
        )
        self.stdout.write(key)
