"""python manage.py lookup_source ID [--create --user EMAIL] [--json]"""

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.services import ReviewError, record_create
from findings.lookup import LookupFailed, source_lookup
from findings.lookup.present import existing_sources, record_json
from findings.models import Source


class Command(BaseCommand):
    help = (
        "Look a source up by its DOI, PMID, PMCID or ClinicalTrials.gov number (or a link to "
        "one) at Crossref, PubMed, Europe PMC or ClinicalTrials.gov, and print what was "
        "found. Nothing is saved unless --create is given: then the record is saved as a "
        "draft, for review like any other."
    )

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="e.g. 10.3390/biom11091359, 34572574, NCT02965768")
        parser.add_argument(
            "--create",
            action="store_true",
            help="Save what was found as a draft source (refused when a service failed, so "
            "that nothing half-filled is saved, or when the source already exists).",
        )
        parser.add_argument(
            "--user",
            help="With --create: the curator or editor (username, their email address) the "
            "draft and its history are credited to.",
        )
        parser.add_argument("--json", action="store_true", help="Print the record as JSON.")

    def handle(self, *args, identifier, create, user, **options):
        author = self._author(user) if create else None
        try:
            result = source_lookup(identifier)
        except LookupFailed as exc:
            raise CommandError(exc.message) from None
        existing = existing_sources(result.fields)
        if options["json"]:
            self.stdout.write(_dumps(record_json(result, existing=existing)))
        else:
            self._print(result, existing)
        if not create:
            return
        if not result.complete:
            raise CommandError(
                "Not saved: not every service answered, so the record may be incomplete "
                "(see above). Run the command again later, or enter the source in the admin."
            )
        if existing:
            raise CommandError(
                f"Not saved: the source already exists as {existing[0].known} (id "
                f"{existing[0].known.pk}): {existing[0].reason}."
            )
        fields = {
            name: value
            for name, value in result.fields.items()
            if name in {f.name for f in Source._meta.get_fields()}
        }
        try:
            source = record_create(
                model=Source,
                fields=fields,
                user=author,
                reason=f"Created by lookup_source from {result.identifier.label}",
            )
        except ValidationError as exc:
            raise CommandError(f"Not saved: {'; '.join(exc.messages)}") from None
        except ReviewError as exc:
            raise CommandError(f"Not saved: {exc.message}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Saved as draft source “{source.key}” (id {source.pk}), credited to "
                f"{author}. An editor reviews it before readers see it."
            )
        )

    def _author(self, username):
        if not username:
            raise CommandError("--create needs --user: the curator the draft is credited to.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user “{username}”. Nothing was looked up or saved.")
        if not user.has_perm("findings.add_source"):
            raise CommandError(
                f"“{username}” may not add sources (not in Curators or Editors). Nothing was "
                "looked up or saved."
            )
        return user

    def _print(self, result, existing) -> None:
        out = self.stdout.write
        out(f"Looked up {result.identifier.label}.")
        labels = {f.name: str(f.verbose_name) for f in Source._meta.get_fields() if f.concrete}
        width = max(len(labels.get(n, n)) for n in result.fields)
        for name, value in result.fields.items():
            shown = value.isoformat() if hasattr(value, "isoformat") else value
            text = str(shown)
            if name == "abstract" and len(text) > 300:
                text = text[:299] + "… (" + str(len(str(shown))) + " characters)"
            source = result.sources.get(name, "proposed")
            out(f"  {labels.get(name, name):<{width}}  {text}   [{source}]")
        for notice in result.notices:
            out(self.style.WARNING(f"Notice: {notice.sentence()}"))
        for line in result.warnings:
            out(self.style.WARNING(line))
        for line in result.problems:
            out(self.style.WARNING(line))
        for match in existing:
            out(
                self.style.WARNING(
                    f"Maybe already in the knowledge base: {match.known} (id "
                    f"{match.known.pk}): {match.reason}."
                )
            )


def _dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
