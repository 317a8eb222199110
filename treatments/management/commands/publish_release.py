from django.core.management.base import BaseCommand, CommandError

from treatments.models import Release
from treatments.releases import ReleaseError, release_publish


class Command(BaseCommand):
    help = (
        "Publish a data release of what readers see now: the files export_release writes, "
        "under RELEASES_ROOT, listed and served at /api/v1/releases/. Does nothing when the "
        "current data version is released already (safe to run after every load)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--label", default=None, help="Release label (default: YYYY.MM.DD-v<data version>)."
        )

    def handle(self, *args, label, **options):
        from curation.versions import data_version_current

        current = getattr(data_version_current(), "number", 0)
        existing = Release.objects.filter(data_version=current).first()
        if existing is not None:
            self.stdout.write(f"Data version {current} is released already: {existing.label}.")
            return
        try:
            release = release_publish(label=label)
        except ReleaseError as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{n} {table}" for table, n in release.counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Release {release.label} (data version {release.data_version}) published: "
                f"{counts}."
            )
        )
