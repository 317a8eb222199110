from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.accounts import ROLES, account_password_link, account_set_role


class Command(BaseCommand):
    help = (
        "Create a staff account for a curator or an editor (the username is the email "
        "address) and print a one-time link for them to set their password. Run again "
        "with another --role to change an existing account's role."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="The person's email address; also their username.")
        parser.add_argument(
            "--role",
            required=True,
            choices=sorted(ROLES),
            help="curator: create, edit and submit drafts; editor: also publish, reject, "
            "retract and delete.",
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the site is served, for the link (default: %(default)s).",
        )

    def handle(self, *args, email, role, base_url, **options):
        try:
            result = account_set_role(email=email, role=role)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user = result.user
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Created {user.username} as {role}."))
        elif result.previous_role:
            self.stdout.write(
                self.style.SUCCESS(f"{user.username} is now {role} (was {result.previous_role}).")
            )
        else:
            self.stdout.write(f"{user.username} is {role}; nothing changed.")
        if user.has_usable_password():
            # They chose a password already; a new link is what "forgot my password" is for.
            return
        self.stdout.write(
            "Send them this link to set their password. It works once, and expires in "
            f"{self._days()}:\n{account_password_link(user=user, base_url=base_url)}"
        )

    @staticmethod
    def _days() -> str:
        days = settings.PASSWORD_RESET_TIMEOUT // 86400
        return f"{days} day{'s' if days != 1 else ''}"
