from django.core.management.base import BaseCommand, CommandError

from treatments.literature import LITERATURE_DIR, LiteratureError, literature_load


class Command(BaseCommand):
    help = (
        "Enter the issue-17 literature (fixtures/literature) as curators would: sources "
        "through the import, claims as drafts by literature-curator, published by "
        "literature-editor. Run after load_seed. Safe to run again: nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path", default=str(LITERATURE_DIR), help="Literature folder (default: %(default)s)"
        )

    def handle(self, *args, path, **options):
        from pathlib import Path

        try:
            report = literature_load(directory=Path(path))
        except LiteratureError as exc:
            raise CommandError(f"Literature not loaded, nothing was written: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Literature loaded. {report.summary()}"))
