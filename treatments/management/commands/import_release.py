from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from treatments.releases import ReleaseError, release_import


class Command(BaseCommand):
    help = (
        "Load a release written by export_release into an EMPTY knowledge base. Checks "
        "every checksum and reference first; on any error nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="The release directory.")

    def handle(self, *args, directory, **options):
        try:
            report = release_import(directory=directory)
        except ReleaseError as exc:
            raise CommandError(f"Release not imported, nothing was written: {exc}") from exc
        counts = ", ".join(f"{n} {table}" for table, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Release {report.release} imported: {counts}."))
        if report.drafts:
            self.stdout.write(
                self.style.WARNING(
                    f"{report.drafts} claims arrived as drafts: they have no plain-language "
                    "summary, which publishing needs. Write one for each, then submit them."
                )
            )
