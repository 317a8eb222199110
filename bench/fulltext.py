"""SQLite text searches with and without the trigram indexes (issue 14): in process.

The same database file and the same process: each round asks every URL once with the
index (findings/fulltext.py) and once without it (``INDEXED`` emptied: the scan, as
before the index), alternating, so that the load of a shared machine falls on both
alike. Checks that both give the same body, byte for byte, then prints p50 / p95 wall
time and p50 CPU time (this thread) per URL and mode, and the load average.

    DATABASE_URL=sqlite:////path/k100.sqlite3 .venv/bin/python -m bench.fulltext --rounds 15

The file must be migrated (findings 0018, treatments 0019 build the indexes).
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import time

from bench.per_request import call, setup

URLS = {
    "search cytotoxicity": "/search/?q=cytotoxicity",
    "search two words": "/search/?q=natural+killer",
    "search rare word": "/search/?q=zzyzx",
    "search short word": "/search/?q=NK",
    "api evidence ?q=cytotoxicity": "/api/v1/evidence/?q=cytotoxicity",
    "api evidence ?q=rare": "/api/v1/evidence/?q=zzyzx",
    "api findings ?q=cytotoxicity": "/api/v1/findings/?q=cytotoxicity",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--only", nargs="*", help="names of URLs to run")
    args = parser.parse_args()
    setup(cache=False, redis_url="")
    from django.core.wsgi import get_wsgi_application

    from findings import fulltext

    app = get_wsgi_application()
    indexed = dict(fulltext.INDEXED)
    modes = {"index": indexed, "scan": {}}
    targets = {n: u for n, u in URLS.items() if not args.only or n in args.only}
    print(f"load average at start: {os.getloadavg()}")
    for name, url in targets.items():
        wall = {mode: [] for mode in modes}
        cpu = {mode: [] for mode in modes}
        bodies = {}
        for _ in range(args.rounds + 1):  # the first round warms up and is left out
            for mode, tables in modes.items():
                fulltext.INDEXED.clear()
                fulltext.INDEXED.update(tables)
                started, started_cpu = time.perf_counter(), time.thread_time()
                status, body = call(app, url)
                wall[mode].append((time.perf_counter() - started) * 1000)
                cpu[mode].append((time.thread_time() - started_cpu) * 1000)
                assert status.startswith("200"), (url, status)
                # gzip writes a time in its header: compare what it holds.
                bodies.setdefault(mode, gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
        same = "same body" if bodies["index"] == bodies["scan"] else "BODIES DIFFER"
        for mode in modes:
            w, c = sorted(wall[mode][1:]), sorted(cpu[mode][1:])
            p95 = w[min(len(w) - 1, round(0.95 * (len(w) - 1)))]
            print(
                f"{name:32} {mode:5} p50 {statistics.median(w):8.1f} ms  p95 {p95:8.1f} ms  "
                f"cpu p50 {statistics.median(c):8.1f} ms  ({same})"
            )
    fulltext.INDEXED.update(indexed)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
