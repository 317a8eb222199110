from django.core.management.base import BaseCommand

from treatments.certainty import certainty_recompute, certainty_recompute_missing


class Command(BaseCommand):
    help = (
        "Rate every abnormality-therapy pair (and each therapy as a whole) again from the "
        "published evidence, replacing the stored ratings (treatments/certainty.py). "
        "Publishing, retracting and accepted suggestions do this for what they touch; run "
        "it after changing the rules, or with --missing after loading data by other means."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--missing",
            action="store_true",
            help="Only the therapies that have published evidence but no rating yet.",
        )

    def handle(self, *args, missing, **options):
        stored = certainty_recompute_missing() if missing else certainty_recompute()
        self.stdout.write(self.style.SUCCESS(f"Stored {stored} certainty ratings."))
