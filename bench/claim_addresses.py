"""Whether a claim's own address leads where readers see it, on a literature-scale file
(docs/performance.md "A claim's own address"): a seeded sample of /evidence/<id>/ and
/findings/<id>/ addresses, each followed to the page it redirects to, which must list
the claim under its anchor. Run with the app's settings in the environment, on a
generate_synthetic file:

    DATABASE_URL=sqlite:////tmp/x.sqlite3 PUBLIC_RESPONSE_CACHE=0 HTTPS=0 \\
    ALLOWED_HOSTS=testserver SECRET_KEY=<50 characters> python -m bench.claim_addresses

Prints each miss, then how many were followed and where they led. Reads only; exits 1
on a miss."""

from __future__ import annotations

import os
import random
import sys
from collections import Counter

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mecfs_kb.settings")
django.setup()

from django.test import Client  # noqa: E402

from findings.models import Finding  # noqa: E402
from treatments.models import TherapyEvidence  # noqa: E402


def sample(rng: random.Random) -> list[tuple[str, int]]:
    """(kind, id): 60 items, 40 about ME/CFS in general, 30 findings, 20 about a lab test
    only, 20 retracted findings, 20 retracted items (fewer where fewer exist)."""
    groups = [
        ("evidence", TherapyEvidence.objects.published(), 60),
        ("evidence", TherapyEvidence.objects.published().filter(abnormality__isnull=True), 40),
        ("findings", Finding.objects.published(), 30),
        ("findings", Finding.objects.published().filter(abnormality__isnull=True), 20),
        ("findings", Finding.objects.retracted(), 20),
        ("evidence", TherapyEvidence.objects.retracted(), 20),
    ]
    chosen = []
    for kind, records, n in groups:
        ids = list(records.order_by("pk").values_list("pk", flat=True))
        chosen += [(kind, pk) for pk in rng.sample(ids, min(n, len(ids)))]
    return chosen


def main() -> int:
    client = Client()
    misses = 0
    places: Counter = Counter()
    addresses = sample(random.Random(14))
    for kind, pk in addresses:
        response = client.get(f"/{kind}/{pk}/")
        location = response.get("Location", "")
        anchor = f'id="{"evidence" if kind == "evidence" else "finding"}-{pk}"'
        landed = client.get(location) if response.status_code == 302 else None
        if landed is None or landed.status_code != 200 or anchor not in landed.content.decode():
            misses += 1
            print(f"MISS /{kind}/{pk}/ {response.status_code} -> {location}")
        page = location.split("#")[0].split("?")
        places[kind, page[0].split("/")[1], "page > 1" if len(page) > 1 else "page 1"] += 1
    print(f"{len(addresses)} followed, {misses} missed")
    for (kind, where, page), n in sorted(places.items()):
        print(f"  /{kind}/ -> /{where}/, {page}: {n}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
