from django.core.management.base import BaseCommand, CommandError

from treatments.certainty import certainty_recompute_missing
from treatments.seed import SEED_PATH, SeedError, glossary_load, seed_load


class Command(BaseCommand):
    help = (
        "Load the seed knowledge base from fixtures/seed.json, then the glossary from "
        "fixtures/glossary.json. Safe to run again: "
        "existing records are matched and nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path", default=str(SEED_PATH), help="Seed file (default: %(default)s)"
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="Also bring existing seed records back to the seed's values "
            "(by default curators' edits are kept).",
        )

    def handle(self, *args, path, update, **options):
        try:
            report = seed_load(path=path, update=update)
        except SeedError as exc:
            raise CommandError(f"Seed not loaded, nothing was written: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Seed loaded. {report.summary()}"))
        try:
            glossary = glossary_load(update=update)
        except SeedError as exc:
            raise CommandError(f"Glossary not loaded, nothing was written: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Glossary loaded. {glossary.summary()}"))
        # A seed load rates what it changed; a database from before the ratings existed
        # (or loaded otherwise) gets the ratings it lacks.
        rated = certainty_recompute_missing()
        if rated:
            self.stdout.write(f"Rated {rated} pairs and therapies that had no rating.")
