"""python manage.py check_retractions [--user EMAIL] [--key KEY ...]"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from findings.lookup import LookupFailed
from findings.models import Source
from findings.retractions import sources_check_notices


class Command(BaseCommand):
    help = (
        "Ask Crossref about every source with a DOI (at most 5 requests a second) and flag "
        "those with a new retraction, partial retraction, expression of concern or "
        "correction. A flagged retraction or expression of concern keeps the claims citing "
        "the source out of every count until an editor reviews the notice. The last line "
        "gives the counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            help="The curator or editor the flags are credited to in history (by default "
            "none: history names the command).",
        )
        parser.add_argument(
            "--key", action="append", default=[], help="Check only this source (repeatable)."
        )

    def handle(self, *args, user, key, **options):
        account = None
        if user:
            account = get_user_model().objects.filter(username=user).first()
            if account is None or not account.has_perm("findings.change_source"):
                raise CommandError(f"“{user}” is not a curator or editor. Nothing was checked.")
        sources = Source.objects.all()
        if key:
            sources = sources.filter(key__in=key)
            missing = sorted(set(key) - set(sources.values_list("key", flat=True)))
            if missing:
                raise CommandError(f"No source with key {', '.join(missing)}. Nothing was checked.")
        try:
            report = sources_check_notices(sources=sources, user=account, log=self.stdout.write)
        except LookupFailed as exc:
            raise CommandError(exc.message) from None
        style = self.style.WARNING if report.flagged or report.failed else self.style.SUCCESS
        self.stdout.write(style(report.summary()))
