from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from treatments.releases import ReleaseError, release_export


class Command(BaseCommand):
    help = (
        "Write the published knowledge base to DIR as JSON and CSV, with manifest.json "
        "(release, date, counts, SHA-256 checksums)."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="A new or empty directory.")
        parser.add_argument(
            "--release",
            default=None,
            help="Release label for the manifest (default: today's date, YYYY.MM.DD).",
        )

    def handle(self, *args, directory, release, **options):
        release = release or timezone.now().strftime("%Y.%m.%d")
        try:
            manifest = release_export(directory=directory, release=release)
        except ReleaseError as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{n} {table}" for table, n in manifest.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Release {release} written to {directory}: {counts}.")
        )
