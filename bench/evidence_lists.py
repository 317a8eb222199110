"""The evidence lists timed in one process, every cache off (issue 14; docs/performance.md
"Evidence lists without a cache"). Run with the app's settings in the environment:

    DATABASE_URL=sqlite:////tmp/x.sqlite3 DEBUG=0 PUBLIC_CACHE_SECONDS=0 HTTPS=0 \
    ALLOWED_HOSTS=127.0.0.1 SECRET_KEY=<50 characters> \
    python -m bench.evidence_lists [N] [--cursor] [--sql] [--drf]

Per url: 3 warm-up requests, then N sequential ones (100 by default) through Django's
test client: p50/p95, this thread's CPU time p50 (``thread_time``: not the database's,
not waiting for a core), the queries of the last request and their time in the database;
``--sql`` prints the slowest four, ``--cursor`` adds a cursor page after 49 pages,
``--drf`` represents the rows through DRF's serializers instead of values() rows
(curation/rowlists.py), for a before/after in one checkout.
Reads only."""

from __future__ import annotations

import os
import sys
import time

URLS = [
    "/api/v1/evidence/?abnormality=synthetic-abnormality-1",
    "/api/v1/evidence/?therapy=synthetic-therapy-1&level=B",
    "/api/v1/evidence/",
    "/api/v1/evidence/?page=50",
    "/api/v1/evidence/?q=cytotoxicity",
    "/api/v1/findings/",
]


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mecfs_kb.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from bench.load import percentile

    n = int(next((a for a in argv if a.isdigit()), "100"))
    if "--drf" in argv:
        from curation.viewsets import RowListMixin

        RowListMixin.rows_from_values = False
    client = Client(HTTP_HOST="127.0.0.1")
    urls = list(URLS)
    if "--cursor" in argv:
        url = "/api/v1/evidence/?cursor=start"
        for _ in range(49):
            url = client.get(url).json()["next"].replace("http://127.0.0.1", "")
        urls.append(url)
    queries: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - start, sql))

    for url in urls:
        for _ in range(3):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code}")
        times, cpu = [], []
        for _ in range(n):
            queries.clear()
            start, start_cpu = time.perf_counter(), time.thread_time()
            with connection.execute_wrapper(timed):
                client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
        in_db = sum(q[0] for q in queries) * 1000
        print(
            f"{url}\n  p50 {percentile(times, 50):.1f} ms  p95 {percentile(times, 95):.1f} ms"
            f"  cpu p50 {percentile(cpu, 50):.1f} ms  queries {len(queries)}"
            f"  in the database {in_db:.1f} ms"
        )
        if "--sql" in argv:
            for seconds, sql in sorted(queries, reverse=True)[:4]:
                print(f"    {seconds * 1000:7.1f} ms  {sql[:300]}")


if __name__ == "__main__":
    main(sys.argv[1:])
