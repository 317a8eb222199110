"""``python manage.py generate_synthetic --evidence N --seed S`` (issue 6)."""

import time

from django.core.management.base import BaseCommand, CommandError

from treatments.certainty import certainty_recompute
from treatments.synthetic import SyntheticRefused, synthetic_generate


class Command(BaseCommand):
    help = (
        "Fill the current database with a synthetic knowledge base of N evidence items "
        "(full scale: 500000), for benchmarks. Refuses to touch a database that holds real "
        "records (the seed, curators' work) unless --force. Everything it writes is marked "
        "'Synthetic' and is not medical content."
    )

    def add_arguments(self, parser):
        parser.add_argument("--evidence", type=int, required=True, help="Therapy evidence items.")
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed (same seed, same data)."
        )
        parser.add_argument(
            "--findings", type=int, default=None, help="Findings (default: as many as evidence)."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add synthetic records even though the database holds real ones.",
        )

    def handle(self, *args, evidence, seed, findings, force, **options):
        if evidence < 1:
            raise CommandError("--evidence must be at least 1.")
        if findings is not None and findings < 0:
            raise CommandError("--findings must not be negative.")
        started = time.monotonic()
        try:
            report = synthetic_generate(
                evidence=evidence,
                seed=seed,
                findings=findings,
                force=force,
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except SyntheticRefused as exc:
            raise CommandError(f"Refused: {exc}") from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {report.summary()} in {elapsed:.1f} s (seed {seed}).")
        )
        # Rows written in bulk open no data version, so nothing rated them: rate them now,
        # as publishing would have (the pairs endpoint and the ratings on therapies).
        started = time.monotonic()
        stored = certainty_recompute()
        self.stdout.write(
            f"  rated {stored} pairs and therapies in {time.monotonic() - started:.1f} s"
        )
