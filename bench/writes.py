"""What a curator's write costs (issue 14, part 3): the load test's write flow, in process.

``bench/load_trust.py`` sends, among its reads, a curator's three writes: create a draft
claim, edit it with If-Match, submit it. Under load they took most of the server's CPU;
this runs that flow alone, one client, through Django's test client (no HTTP server),
with DEBUG off and every cache off, and prints per write the p50 wall time, the p50 CPU
time of this process (not PostgreSQL's) and the queries it made. ``--profile FILE``
writes a pyinstrument report of the timed flows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_x \\
        .venv/bin/python bench/writes.py --flows 100

The database must hold the seed (``load_seed``; on PostgreSQL then ``ANALYZE``). It
writes draft claims saying "Load test draft … (bench/writes.py; not a real claim)" as a
bench curator (made here, with a token), as the load test does: use a database made for
benchmarks, never one readers see.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.per_request import setup  # noqa: E402

CURATOR = "bench-writes-curator"


def curator_token() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username=CURATOR, defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Curators"))
    return Token.objects.get_or_create(user=user)[0].key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=100, help="timed create-edit-submit flows")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profile", type=Path, help="pyinstrument HTML report here")
    args = parser.parse_args()
    setup(False, "")

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from findings.models import Abnormality, Source
    from treatments.models import Therapy

    client = Client(HTTP_AUTHORIZATION=f"Token {curator_token()}", REMOTE_ADDR="127.0.0.1")
    therapies = list(Therapy.objects.published().values_list("slug", flat=True))
    abnormalities = list(Abnormality.objects.published().values_list("slug", flat=True))
    sources = list(Source.objects.published().values_list("pk", flat=True))
    names = ("create", "edit", "submit")
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    queries = {}

    def timed(name, call):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.thread_time()
            response = call()
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.thread_time() - started_cpu) * 1000)
        assert response.status_code in (200, 201), (name, response.content)
        queries[name] = len(captured.captured_queries)
        return response

    def flow(n: int) -> None:
        body = {
            "therapy": therapies[n % len(therapies)],
            "abnormality": abnormalities[n % len(abnormalities)],
            "link_kind": "rationale",
            "source": sources[n % len(sources)],
            "statement": f"Load test draft {n} (bench/writes.py; not a real claim).",
            "direction": "describes",
            "level": "E",
        }
        created = timed(
            "create",
            lambda: client.post("/api/v1/evidence/", body, content_type="application/json"),
        )
        url = f"/api/v1/evidence/{created.json()['id']}/"
        etag = created.headers.get("ETag") or client.get(url).headers["ETag"]
        timed(
            "edit",
            lambda: client.patch(
                url,
                {"curator_note": f"Edited at {time.time():.3f}."},
                content_type="application/json",
                HTTP_IF_MATCH=etag,
            ),
        )
        timed(
            "submit",
            lambda: client.post(f"{url}submit/", {"note": ""}, content_type="application/json"),
        )

    for n in range(args.warmup):
        flow(n)
    for name in names:
        wall[name].clear()
        cpu[name].clear()
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
    for n in range(args.warmup, args.warmup + args.flows):
        flow(n)
    if profiler:
        profiler.stop()
        args.profile.write_text(profiler.output_html())
        if os.environ.get("BENCH_PROFILE_TEXT"):
            print(profiler.output_text(unicode=False, color=False))
    results = {
        name: {
            "p50_ms": round(statistics.median(wall[name]), 2),
            "cpu_p50_ms": round(statistics.median(cpu[name]), 2),
            "queries": queries[name],
        }
        for name in names
    }
    for name, r in results.items():
        print(
            f"{name:8} p50 {r['p50_ms']:6.2f} ms  cpu p50 {r['cpu_p50_ms']:6.2f} ms  "
            f"{r['queries']} queries"
        )
    connection.close()
    print(json.dumps({"results": results, "load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
