"""What one request costs (issue 14, part 2): p50 per URL, one client, in process.

Calls Django's WSGI handler directly, with every cache off (PUBLIC_CACHE_SECONDS=0)
unless ``--cache`` is given, and DEBUG off; no HTTP server, no network: what the
framework and the app cost per request, which is what a worker pays on top of the
server. ``--profile`` writes a pyinstrument report of the URLs asked for; ``--url NAME=PATH``
adds a URL of your own (a filtered list on the synthetic data, say).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_x \\
        .venv/bin/python bench/per_request.py --requests 300

The database must hold the seed (load_seed, load_literature, publish_release), and the
static files must be collected with DEBUG off (pages name their hashed file names):
``DEBUG=0 HTTPS=0 ALLOWED_HOSTS=127.0.0.1 SECRET_KEY=<50 random characters> manage.py
collectstatic --noinput``. On PostgreSQL, run ``ANALYZE`` after loading (autovacuum does
it soon after in production; without statistics every query is planned for empty tables).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from wsgiref.util import setup_testing_defaults

BASE_DIR = Path(__file__).resolve().parent.parent


def setup(cache: bool, redis_url: str) -> None:
    os.environ["DEBUG"] = "0"
    os.environ["HTTPS"] = "0"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["API_THROTTLE_ANON"] = "1000000/minute"
    os.environ["API_THROTTLE_USER"] = "1000000/minute"
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    os.environ["PUBLIC_CACHE_SECONDS"] = "600" if cache else "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mecfs_kb.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def call(app, path: str, headers: dict[str, str] | None = None) -> tuple[str, bytes]:
    path, _, query = path.partition("?")
    environ = {
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": "GET",
        "SERVER_NAME": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "wsgi.input": io.BytesIO(b""),
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    status = []

    def start_response(s, h, exc_info=None):
        status.append(s)

    body = b"".join(app(environ, start_response))
    return status[0], body


def urls() -> dict[str, str]:
    from findings.models import Abnormality
    from treatments.models import Therapy, TherapyEvidence

    therapy = Therapy.objects.published().order_by("slug").first()
    abnormality = Abnormality.objects.published().order_by("slug").first()
    evidence = TherapyEvidence.objects.published().order_by("pk").first()
    return {
        "healthz": "/healthz",
        "api detail therapy": f"/api/v1/therapies/{therapy.slug}/",
        "api detail evidence": f"/api/v1/evidence/{evidence.pk}/",
        "api list therapies 20": "/api/v1/therapies/?page_size=20",
        "api list evidence 20": "/api/v1/evidence/?page_size=20",
        "api list evidence 50": "/api/v1/evidence/?page_size=50",
        "api list findings 50": "/api/v1/findings/?page_size=50",
        "api list therapies filtered": (
            f"/api/v1/therapies/?abnormality={abnormality.slug}&level=C"
        ),
        "page therapy": f"/treatments/{therapy.slug}/",
        "page abnormality": f"/abnormalities/{abnormality.slug}/",
        "page home": "/",
    }


def named_url(text: str) -> tuple[str, str]:
    """``NAME=PATH`` (``--url``): a name for the report and a path with its query."""
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.startswith("/"):
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=/path?query")
    return name.strip(), path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per URL (bounded)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--cache", action="store_true", help="caches on (needs --redis-url)")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--only", nargs="*", help="names of URLs to run")
    parser.add_argument(
        "--url",
        action="append",
        type=named_url,
        default=[],
        metavar="NAME=PATH",
        help="a URL of your own (repeatable), run with the others (or alone, with --only)",
    )
    parser.add_argument("--no-health-checks", action="store_true")
    parser.add_argument("--drop", nargs="*", help="middleware class names to leave out")
    parser.add_argument("--profile", type=Path, help="pyinstrument HTML report here")
    parser.add_argument(
        "--drf", action="store_true", help="lists through DRF's serializers, not values() rows"
    )
    args = parser.parse_args()
    setup(args.cache, args.redis_url)
    if args.drf:
        # Before/after of curation/rowlists.py, in one checkout.
        from curation.viewsets import RowListMixin

        RowListMixin.rows_from_values = False

    if args.drop:
        # Diagnosis only: what a middleware costs, by leaving it out.
        from django.conf import settings

        settings.MIDDLEWARE = [
            m for m in settings.MIDDLEWARE if m.rsplit(".", 1)[-1] not in args.drop
        ]
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    app = get_wsgi_application()
    targets = {**urls(), **dict(args.url)}
    if args.no_health_checks:
        # Diagnosis only: what the per-request "SELECT 1" of CONN_HEALTH_CHECKS costs.
        connection.close()
        connection.settings_dict["CONN_HEALTH_CHECKS"] = False
    if args.only:
        targets = {name: url for name, url in targets.items() if name in args.only}
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
    results = {}
    for name, url in targets.items():
        for _ in range(args.warmup):
            status, _ = call(app, url)
            assert status.startswith("200"), (url, status)
        times, cpu = [], []
        if profiler:
            profiler.start()
        for _ in range(min(args.requests, 5000)):
            started, started_cpu = time.perf_counter(), time.thread_time()
            call(app, url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
        if profiler:
            profiler.stop()
        times.sort()
        results[name] = {
            "url": url,
            "p50_ms": round(statistics.median(times), 2),
            "p90_ms": round(times[int(len(times) * 0.9)], 2),
            "min_ms": round(times[0], 2),
            # CPU of this process only (not PostgreSQL's, not waiting for a core).
            "cpu_p50_ms": round(statistics.median(cpu), 2),
        }
        r = results[name]
        print(
            f"{name:28} p50 {r['p50_ms']:6.2f}  min {r['min_ms']:6.2f}  "
            f"cpu p50 {r['cpu_p50_ms']:6.2f} ms  {url}"
        )
    connection.close()
    if profiler:
        args.profile.write_text(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    print(json.dumps({"load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
