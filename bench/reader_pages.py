"""Bytes, queries and render time of the reader pages whose size grew with their claims
(issue 14; docs/performance.md "Reader pages a page at a time"), every cache off, in one
process. Run with the app's settings in the environment, on a generate_synthetic file:

    DATABASE_URL=sqlite:////tmp/x.sqlite3 PUBLIC_RESPONSE_CACHE=0 HTTPS=0 \
    ALLOWED_HOSTS=testserver SECRET_KEY=<50 characters> python -m bench.reader_pages [N]

Per page: N sequential requests (5 by default) through Django's test client; the median
and the fastest, the body's bytes and the last request's queries. Reads only."""

from __future__ import annotations

import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mecfs_kb.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from findings.models import Abnormality, Finding  # noqa: E402
from findings.views import abnormality_findings  # noqa: E402
from treatments.models import Therapy, TherapyEvidence  # noqa: E402


def pages() -> list[str]:
    """The largest abnormality (and its page 5), the smallest, the source with the most
    findings, the therapy and the pair with the most evidence, the feed; then the own
    addresses (redirects) of the claims listed last: the largest abnormality's last
    finding, the largest pair's last item, and the weakest item about ME/CFS in general
    of the therapy with the most of them (past the few its page shows: on its source's
    page)."""
    by_findings = Abnormality.objects.published().annotate(n=Count("findings")).order_by("-n")
    source = Finding.objects.published().values("source").annotate(n=Count("pk")).order_by("-n")[0]
    therapy = Therapy.objects.published().annotate(n=Count("evidence")).order_by("-n")[0]
    pair = (
        TherapyEvidence.objects.published()
        .filter(abnormality__isnull=False)
        .values("therapy__slug", "abnormality__slug")
        .annotate(n=Count("pk"))
        .order_by("-n")[0]
    )
    big, small = by_findings.first(), by_findings.last()
    last_finding = abnormality_findings(big).last()
    last_item = (
        TherapyEvidence.objects.published()
        .filter(therapy__slug=pair["therapy__slug"], abnormality__slug=pair["abnormality__slug"])
        .last()
    )
    general = (
        TherapyEvidence.objects.published()
        .filter(abnormality__isnull=True)
        .values("therapy")
        .annotate(n=Count("pk"))
        .order_by("-n")[0]
    )
    weakest_general = (
        TherapyEvidence.objects.published()
        .filter(therapy=general["therapy"], abnormality__isnull=True)
        .order_by("-level", "-pk")
        .first()
    )
    return [
        big.get_absolute_url(),
        f"{big.get_absolute_url()}?page=5",
        small.get_absolute_url(),
        f"/sources/{source['source']}/",
        therapy.get_absolute_url(),
        f"/treatments/{pair['therapy__slug']}/abnormalities/{pair['abnormality__slug']}/",
        "/feeds/evidence/",
        f"/findings/{last_finding.pk}/",
        f"/evidence/{last_item.pk}/",
        f"/evidence/{weakest_general.pk}/",
    ]


def main(repeat: int) -> None:
    client = Client()
    for url in pages():
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                body = response.content
                times.append((time.perf_counter() - start) * 1000)
        print(
            f"{response.status_code} {len(body):>10} bytes {len(queries):>3} queries "
            f"median {statistics.median(times):8.1f} ms  min {min(times):8.1f} ms  {url}"
            + (f" -> {response['Location']}" if response.status_code == 302 else "")
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
