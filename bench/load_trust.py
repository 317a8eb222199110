"""Load test for issue 5 (docs/performance.md, "Load test (issue 5)").

50 concurrent clients for 60 s against gunicorn + PostgreSQL, mixing anonymous reads
(API and pages) with curator writes through the API (create a draft, edit it with
If-Match, submit it for review). Bounded in time and in count; targets 127.0.0.1 only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_trust \\
        .venv/bin/python bench/load_trust.py --serve --port 8401

``--serve`` migrates, loads the seed, makes a curator with a token, collects static
files and starts gunicorn on the port (stopped at the end). Without it, point
``--base`` at a running server and pass ``--token``.

Issue 14 added: the worker model (``--worker-class sync|gthread|uvicorn``,
``--threads``), Redis for the cache (``--redis-url``), and ``--floor``: the same read
URLs answered, in the same run, by bench/floor_app.py (a bare WSGI app running the SQL
the app ran for each URL, captured first, through psycopg and orjson) with the same
workers, so that the app's numbers stand next to what the machine does at the least.
Each run reports the CPU the load driver itself used and the server's, and the load
average before and after. Every client connects from its own loopback address
(127.0.0.2, 127.0.0.3, ...): throttles count each client on its own, as in life.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import resource
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.floor_app import url_scenario  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CURATOR = "bench-curator"

MAKE_CURATOR = f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
User = get_user_model()
user, _ = User.objects.get_or_create(username="{CURATOR}", defaults={{"is_staff": True}})
user.groups.add(Group.objects.get(name="Curators"))
print(Token.objects.get_or_create(user=user)[0].key)
"""


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), math.ceil(p / 100 * len(ordered)))) - 1]


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)

    def add(self, kind: str, status: int | str, ms: float, ok: bool) -> None:
        with self.lock:
            self.times[kind].append(ms)
            self.statuses[str(status)] += 1
            if not ok:
                self.errors[f"{kind} {status}"] += 1

    def summary(self, seconds: float) -> dict:
        every = [t for ts in self.times.values() for t in ts]

        def stats(ts: list[float]) -> dict:
            return {
                "requests": len(ts),
                "p50_ms": round(percentile(ts, 50), 1) if ts else None,
                "p95_ms": round(percentile(ts, 95), 1) if ts else None,
                "p99_ms": round(percentile(ts, 99), 1) if ts else None,
                "max_ms": round(max(ts), 1) if ts else None,
            }

        return {
            "seconds": round(seconds, 1),
            "requests_per_second": round(len(every) / seconds, 1) if seconds else None,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "statuses": dict(self.statuses),
            "all": stats(every),
            "by_kind": {kind: stats(ts) for kind, ts in sorted(self.times.items())},
        }


class Client:
    """One simulated client: its own connection, re-opened when the server closes it."""

    def __init__(self, host: str, port: int, token: str | None, source: str | None = None):
        self.host, self.port, self.token = host, port, token
        # Its own loopback address (127.0.0.0/8 is all ours), so that it is counted as
        # one client by the throttles, not lumped with the 49 others.
        self.source = (source, 0) if source else None
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        headers = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=60, source_address=self.source
                )
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                # A sync worker closes idle keep-alive connections: reconnect once.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return response.status, dict(response.getheaders()), data
        raise AssertionError("unreachable")

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def discover(client: Client) -> dict:
    """Real slugs and ids to read and to write against, from the API itself."""
    _, _, body = client.request("GET", "/api/v1/therapies/?page_size=100")
    therapies = [t["slug"] for t in json.loads(body)["results"]]
    _, _, body = client.request("GET", "/api/v1/abnormalities/?page_size=100")
    abnormalities = [a["slug"] for a in json.loads(body)["results"]]
    _, _, body = client.request("GET", "/api/v1/evidence/?page_size=100")
    evidence = [e["id"] for e in json.loads(body)["results"]]
    _, _, body = client.request("GET", "/api/v1/sources/?page_size=100")
    sources = [s["id"] for s in json.loads(body)["results"]]
    if not (therapies and abnormalities and evidence and sources):
        raise SystemExit("the knowledge base is empty: load the seed first")
    return {
        "therapies": therapies,
        "abnormalities": abnormalities,
        "evidence": evidence,
        "sources": sources,
    }


def every_read_path(kb: dict) -> set[str]:
    """Every URL ``read_paths`` can choose: the floor is given the SQL of each."""
    paths = {"/api/v1/evidence/?page_size=20", "/", "/healthz"}
    for therapy in kb["therapies"]:
        paths |= {f"/api/v1/therapies/{therapy}/", f"/treatments/{therapy}/"}
    for abnormality in kb["abnormalities"]:
        paths |= {
            f"/api/v1/therapies/?abnormality={abnormality}&level=C",
            f"/abnormalities/{abnormality}/",
        }
    paths |= {f"/api/v1/evidence/{pk}/" for pk in kb["evidence"]}
    return paths


def read_paths(kb: dict, rng: random.Random) -> tuple[str, str]:
    therapy = rng.choice(kb["therapies"])
    abnormality = rng.choice(kb["abnormalities"])
    choices = [
        ("api list", f"/api/v1/therapies/?abnormality={abnormality}&level=C"),
        ("api list", "/api/v1/evidence/?page_size=20"),
        ("api detail", f"/api/v1/therapies/{therapy}/"),
        ("api detail", f"/api/v1/evidence/{rng.choice(kb['evidence'])}/"),
        ("page", f"/treatments/{therapy}/"),
        ("page", f"/abnormalities/{abnormality}/"),
        ("page", "/"),
        ("health", "/healthz"),
    ]
    return rng.choice(choices)


def write_flow(client: Client, kb: dict, rng: random.Random, results: Results, n: int) -> None:
    """Create a draft, edit it with If-Match, submit it: three curator writes."""
    body = {
        "therapy": rng.choice(kb["therapies"]),
        "abnormality": rng.choice(kb["abnormalities"]),
        "link_kind": "rationale",
        "source": rng.choice(kb["sources"]),
        "statement": f"Load test draft {n} (bench/load_trust.py; not a real claim).",
        "direction": "describes",
        "level": "E",
    }
    started = time.perf_counter()
    status, headers, data = client.request("POST", "/api/v1/evidence/", body, client.auth())
    results.add("write create", status, (time.perf_counter() - started) * 1000, status == 201)
    if status != 201:
        return
    record = json.loads(data)
    etag = headers.get("ETag")
    started = time.perf_counter()
    status, headers, _ = client.request(
        "PATCH",
        f"/api/v1/evidence/{record['id']}/",
        {"curator_note": f"Edited by load client at {time.time():.3f}."},
        {**client.auth(), **({"If-Match": etag} if etag else {})},
    )
    results.add("write edit", status, (time.perf_counter() - started) * 1000, status == 200)
    started = time.perf_counter()
    status, _, _ = client.request(
        "POST", f"/api/v1/evidence/{record['id']}/submit/", {"note": ""}, client.auth()
    )
    results.add("write submit", status, (time.perf_counter() - started) * 1000, status == 200)


def run(
    *,
    host: str,
    port: int,
    token: str,
    clients: int,
    seconds: float,
    max_requests: int,
    write_share: float,
    kb: dict | None = None,
    server_pid: int | None = None,
) -> dict:
    results = Results()
    kb = kb or discover(Client(host, port, None))
    deadline = time.monotonic() + seconds
    issued = 0
    issued_lock = threading.Lock()

    def take(n: int) -> bool:
        nonlocal issued
        with issued_lock:
            if issued + n > max_requests:
                return False
            issued += n
            return True

    def worker(index: int) -> None:
        rng = random.Random(index)
        client = Client(host, port, token, source=f"127.0.{index // 250}.{index % 250 + 2}")
        n = 0
        while time.monotonic() < deadline:
            if rng.random() < write_share:
                if not take(3):
                    return
                n += 1
                try:
                    write_flow(client, kb, rng, results, index * 1_000_000 + n)
                except OSError as exc:
                    results.add("write create", type(exc).__name__, 0.0, False)
                continue
            if not take(1):
                return
            kind, path = read_paths(kb, rng)
            started = time.perf_counter()
            try:
                status, _, _ = client.request("GET", path)
            except OSError as exc:
                results.add(kind, type(exc).__name__, (time.perf_counter() - started) * 1000, False)
                continue
            results.add(kind, status, (time.perf_counter() - started) * 1000, status == 200)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    load_before = os.getloadavg()
    cpu = CpuMeter(server_pid)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "write_share": write_share,
        "max_requests": max_requests,
        **results.summary(elapsed),
        "cpu": cpu.read(elapsed),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


class CpuMeter:
    """CPU used during a run, in cores (1.0 = one core busy the whole time): by this
    load driver, by the server (gunicorn's master and workers, from /proc), and by the
    whole machine (every process, the other users of a shared machine included)."""

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid
        self.driver = self._driver()
        self.server = self._server()
        self.machine = self._machine()

    @staticmethod
    def _driver() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def _server(self) -> float:
        if self.server_pid is None:
            return 0.0
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry.name), int(fields[1])
            if self.server_pid in (pid, ppid):
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    @staticmethod
    def _machine() -> tuple[float, float]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    def read(self, elapsed: float) -> dict:
        busy, total = self._machine()
        busy0, total0 = self.machine
        cores = os.cpu_count() or 1
        return {
            "driver_cores": round((self._driver() - self.driver) / elapsed, 2),
            "server_cores": round((self._server() - self.server) / elapsed, 2),
            "machine_busy_cores": round((busy - busy0) / max(1, total - total0) * cores, 2),
        }


# --- --serve: a production-like server of our own -----------------------------------------


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.stdout if capture else ""


def server_env(redis_url: str) -> dict:
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL to your PostgreSQL database")
    env = {
        **os.environ,
        "DEBUG": "0",
        "HTTPS": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Each client has its own address, but 50 of them read as fast as they can: the
        # throttles would refuse them. They are tested in tests/; here the server's
        # capacity is measured (with every request still counted by them).
        "API_THROTTLE_ANON": "1000000/minute",
        "API_THROTTLE_USER": "1000000/minute",
        "LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["CACHE_KEY_PREFIX"] = "bench_load_trust"
    else:
        env.pop("REDIS_URL", None)
    return env


def prepare(env: dict) -> str:
    """Migrate, load the seed, collect static files; the curator's token."""
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_seed")
    # Planner statistics, as autovacuum gathers them soon after a load in production
    # (this machine's PostgreSQL runs with autovacuum off: without this, every query is
    # planned for tables it believes empty).
    manage(env, "shell", "-c", ANALYZE)
    manage(env, "collectstatic", "--noinput", "-v0")
    return manage(env, "shell", "-c", MAKE_CURATOR, capture=True).strip().splitlines()[-1]


ANALYZE = """
from django.db import connection
if connection.vendor == "postgresql":
    connection.cursor().execute("ANALYZE")
"""

WORKER_CLASSES = {
    "sync": ("sync", "mecfs_kb.wsgi"),
    "gthread": ("gthread", "mecfs_kb.wsgi"),
    "uvicorn": ("uvicorn.workers.UvicornWorker", "mecfs_kb.asgi"),
}


def start_gunicorn(
    port: int, env: dict, *, app: str, worker_class: str, workers: int, threads: int
) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", app,
            "--config", "python:mecfs_kb.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--threads", str(threads),
            "--timeout", "30",
            "--backlog", "256",
            "--max-requests", "0",
        ],
        cwd=BASE_DIR,
        env=env,
    )  # fmt: skip
    for _ in range(150):
        try:
            Client("127.0.0.1", port, None).request("GET", "/healthz")
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def capture_floor_sql(port: int, env: dict, kb: dict, directory: Path) -> int:
    """The SQL the app runs for each read URL, every cache off (mecfs_kb/querycount.py),
    written where bench/floor_app.py reads it."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("url_*.json"):
        old.unlink()
    capture_env = {
        **env,
        "BENCH_QUERY_COUNT": "1",
        "BENCH_CAPTURE_SQL": str(directory),
        "PUBLIC_CACHE_SECONDS": "0",
    }
    process = start_gunicorn(
        port, capture_env, app="mecfs_kb.wsgi", worker_class="sync", workers=1, threads=1
    )
    try:
        client = Client("127.0.0.1", port, None)
        for path in sorted(every_read_path(kb)):
            status, _, _ = client.request(
                "GET", path, headers={"X-Bench-Scenario": url_scenario(path)}
            )
            if status != 200:
                raise SystemExit(f"capturing {path}: {status}")
    finally:
        stop(process)
    return len(list(directory.glob("url_*.json")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=None, help="http://127.0.0.1:PORT of a running server")
    parser.add_argument("--port", type=int, default=8401)
    parser.add_argument("--serve", action="store_true", help="start gunicorn here (see above)")
    parser.add_argument(
        "--skip-setup", action="store_true", help="with --serve: no migrate, seed or collectstatic"
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers with --serve")
    parser.add_argument("--worker-class", choices=sorted(WORKER_CLASSES), default=None)
    parser.add_argument("--threads", type=int, default=None, help="per worker (gthread)")
    parser.add_argument("--redis-url", default="", help="Redis for the cache (own db number)")
    parser.add_argument(
        "--floor", action="store_true", help="then the floor, same reads, same workers"
    )
    parser.add_argument(
        "--warm", action="store_true", help="ask every read URL once before the timed run"
    )
    parser.add_argument("--token", default=os.environ.get("BENCH_TOKEN"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--write-share", type=float, default=0.1)
    parser.add_argument(
        "--out", type=Path, default=BASE_DIR / "bench" / "results" / "load_trust.json"
    )
    args = parser.parse_args()

    base = args.base or f"http://127.0.0.1:{args.port}"
    parts = urlsplit(base)
    if parts.hostname not in LOOPBACK:
        raise SystemExit(f"refusing to load {parts.hostname}: this test targets 127.0.0.1 only")
    port = parts.port or 80

    # The defaults are mecfs_kb/gunicorn_conf.py's (what `make serve` runs).
    from mecfs_kb import gunicorn_conf

    worker_class = args.worker_class or gunicorn_conf.worker_class
    worker_class = {v[0]: k for k, v in WORKER_CLASSES.items()}.get(worker_class, worker_class)
    workers = args.workers or gunicorn_conf.workers
    threads = args.threads or getattr(gunicorn_conf, "threads", 1)
    if worker_class != "gthread":
        threads = 1

    process = None
    token = args.token
    env = server_env(args.redis_url)
    if args.redis_url:
        import redis

        # Start cold: nothing cached from an earlier run (our own Redis database only).
        redis.Redis.from_url(args.redis_url).flushdb()
    if args.serve:
        if args.skip_setup:
            token = token or manage(env, "shell", "-c", MAKE_CURATOR, capture=True).split()[-1]
        else:
            token = prepare(env)
        klass, app = WORKER_CLASSES[worker_class]
        process = start_gunicorn(
            port, env, app=app, worker_class=klass, workers=workers, threads=threads
        )
    if not token:
        raise SystemExit("a curator token is needed for the writes (--token or --serve)")
    common = {
        "host": parts.hostname,
        "port": port,
        "clients": args.clients,
        "seconds": args.seconds,
        "max_requests": args.max_requests,
    }
    try:
        kb = discover(Client(parts.hostname, port, None))
        if args.warm:
            # As after a publish once the cache is warmed: every read URL asked once.
            warmer = Client(parts.hostname, port, None)
            for path in sorted(every_read_path(kb)):
                warmer.request("GET", path)
        summary = run(
            **common,
            token=token,
            write_share=args.write_share,
            kb=kb,
            server_pid=process.pid if process else None,
        )
    finally:
        if process is not None:
            stop(process)
    summary["server"] = {"worker_class": worker_class, "workers": workers, "threads": threads}
    summary["redis"] = bool(args.redis_url)
    summary["warmed"] = args.warm
    report = {"app": summary}
    if args.floor:
        if not args.serve:
            raise SystemExit("--floor needs --serve (it starts the floor itself)")
        directory = BASE_DIR / "bench" / "results" / "load_trust_sql"
        captured = capture_floor_sql(port, env, kb, directory)
        floor_env = {
            **os.environ,
            "FLOOR_DATABASE_URL": os.environ["DATABASE_URL"],
            "FLOOR_CAPTURED_SQL": str(directory),
        }
        # The floor is a WSGI app: under an ASGI choice it runs with gthread workers.
        klass = "gthread" if worker_class != "sync" else "sync"
        floor = start_gunicorn(
            port,
            floor_env,
            app="bench.floor_app:application",
            worker_class=klass,
            workers=workers,
            threads=max(threads, 1),
        )
        try:
            # Reads only: the floor has no write path (write flows become reads).
            report["floor"] = run(
                **common, token=token, write_share=0.0, kb=kb, server_pid=floor.pid
            )
        finally:
            stop(floor)
        report["floor"]["server"] = {"worker_class": klass, "workers": workers, "threads": threads}
        report["floor"]["captured_urls"] = captured
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    for name, result in report.items():
        every = result["all"]
        print(
            f"{name:6} {result['requests_per_second']:7.1f} req/s  p50 {every['p50_ms']} ms  "
            f"p95 {every['p95_ms']} ms  errors {result['errors']}  cpu {result['cpu']}  "
            f"load {result['load_average_before'][0]:.2f}->{result['load_average_after'][0]:.2f}"
        )


if __name__ == "__main__":
    main()
