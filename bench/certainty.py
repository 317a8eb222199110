"""How long the certainty ratings (issue 12) take to compute, on SQLite.

    DEBUG=1 .venv/bin/python bench/certainty.py [--evidence 50000] [--seed 1]

Builds a throw-away SQLite database (a temporary file, migrated), fills it with the
synthetic knowledge base (``generate_synthetic``: Zipf-distributed, so a few therapies
hold most of the evidence), then times: rating everything (``certainty_recompute``,
what ``manage.py certainty_recompute`` does), rating again the therapy with the most
evidence (what a publish, retraction or accepted suggestion of one of its items adds to
that transaction), and reading a page of 50 pairs and of 50 therapies from the API.
Results go to docs/performance.md ("Certainty per pair"); this is not a test and asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evidence", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    db = Path(tempfile.mkdtemp()) / "bench-certainty.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mecfs_kb.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from treatments.synthetic import synthetic_generate

    synthetic_generate(evidence=args.evidence, seed=args.seed)
    _run()


def _timed(what: str, run) -> None:
    started = time.perf_counter()
    result = run()
    print(f"{what}: {time.perf_counter() - started:.2f} s ({result})")


def _run() -> None:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from treatments.certainty import certainty_recompute
    from treatments.models import PairCertainty, TherapyEvidence

    _timed("rate everything", lambda: f"{certainty_recompute()} ratings")
    top = (
        TherapyEvidence.objects.values("therapy_id").annotate(n=Count("pk")).order_by("-n").first()
    )
    _timed(
        f"rate the therapy with the most evidence ({top['n']} items)",
        lambda: f"{certainty_recompute(therapy_ids=[top['therapy_id']])} ratings",
    )
    client = Client(HTTP_HOST="localhost")
    for url in ("/api/v1/pairs/?page_size=50", "/api/v1/therapies/?page_size=50"):
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as queries:
            _timed(f"GET {url}", lambda url=url: client.get(url).status_code)
        print(f"  {len(queries)} queries")
    print(f"{PairCertainty.objects.count()} ratings stored")


if __name__ == "__main__":
    main()
