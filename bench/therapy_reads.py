"""Therapy reads without a cache (issue 14), in-process: p50/p95 of CPU and wall time
over N sequential requests after 3 warm-up ones, through Django's test client (no
server, no network). CPU time is the fairer number on a shared machine: SQLite runs in
the same process, so it counts the SQL too. Usage (docs/performance.md):

    DEBUG=0 PUBLIC_CACHE_SECONDS=0 HTTPS=0 SECRET_KEY=… ALLOWED_HOSTS=127.0.0.1 \\
    API_THROTTLE_ANON=1000000/minute DATABASE_URL=sqlite:////tmp/kb100k.sqlite3 \\
    DJANGO_SETTINGS_MODULE=mecfs_kb.settings python -m bench.therapy_reads api1,html 50

``PROFILE=name`` writes a pyinstrument profile per URL to /tmp/ instead of timing.
"""

import os
import statistics
import sys
import time

import django

ABN = "/api/v1/therapies/?abnormality=synthetic-abnormality-1"
URLS = {
    "api1": ABN,
    "api2": f"{ABN}&abnormality=synthetic-abnormality-2&match=all",
    "apilvl": f"{ABN}&level=B",
    "apisort": "/api/v1/therapies/?sort=-evidence",
    "apicert": "/api/v1/therapies/?sort=-certainty",
    "apidetail": "/api/v1/therapies/synthetic-therapy-1/",
    "html": "/treatments/",
    "html1": "/treatments/?abnormality=synthetic-abnormality-1",
    "csv": "/treatments/?abnormality=synthetic-abnormality-1&format=csv",
    "home": "/",
    "abn": "/abnormalities/synthetic-abnormality-1/",
    "ther": "/treatments/synthetic-therapy-1/",
    "search": "/search/?q=cytotoxicity",
}


def fetch(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return len(body)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    django.setup()
    from django.test import Client

    names = sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] != "all" else list(URLS)
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    profile = os.environ.get("PROFILE")
    client = Client(HTTP_HOST="127.0.0.1")
    for name in names:
        url = URLS[name]
        for _ in range(3):
            fetch(client, url)
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            for _ in range(count):
                fetch(client, url)
            profiler.stop()
            with open(f"/tmp/prof-{name}-{profile}.txt", "w") as out:
                out.write(profiler.output_text(unicode=False, color=False))
            continue
        wall, cpu = [], []
        for _ in range(count):
            started, started_cpu = time.perf_counter(), time.process_time()
            size = fetch(client, url)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        print(
            f"{name:10s} cpu p50 {statistics.median(cpu):6.1f} p95 {p95(cpu):6.1f} | "
            f"wall p50 {statistics.median(wall):7.1f} p95 {p95(wall):7.1f} ms  "
            f"bytes {size}  load {os.getloadavg()[0]:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
