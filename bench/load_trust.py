"""Load test for issue 5 (docs/performance.md, "Load test (issue 5)").

50 concurrent clients for 60 s against gunicorn + PostgreSQL, mixing anonymous reads
(API and pages) with curator writes through the API (create a draft, edit it with
If-Match, submit it for review). Bounded in time and in count; targets 127.0.0.1 only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_trust \\
        .venv/bin/python bench/load_trust.py --serve --port 8401

``--serve`` migrates, loads the seed, makes a curator with a token, collects static
files and starts gunicorn on the port (stopped at the end). Without it, point
``--base`` at a running server and pass ``--token``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
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

    def __init__(self, host: str, port: int, token: str | None):
        self.host, self.port, self.token = host, port, token
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        headers = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
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
) -> dict:
    results = Results()
    kb = discover(Client(host, port, None))
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
        client = Client(host, port, token)
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
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return {
        "clients": clients,
        "write_share": write_share,
        "max_requests": max_requests,
        **results.summary(time.monotonic() - started),
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


def serve(port: int, workers: int) -> tuple[subprocess.Popen, str]:
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL to your PostgreSQL database")
    env = {
        **os.environ,
        "DEBUG": "0",
        "HTTPS": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        # One address sends everything here: the per-client throttles would refuse the
        # test itself. They are tested in tests/; here the server's capacity is measured.
        "API_THROTTLE_ANON": "1000000/minute",
        "API_THROTTLE_USER": "1000000/minute",
        "LOG_LEVEL": "WARNING",
    }
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_seed")
    manage(env, "collectstatic", "--noinput", "-v0")
    token = manage(env, "shell", "-c", MAKE_CURATOR, capture=True).strip().splitlines()[-1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mecfs_kb.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "30",
            "--backlog",
            "256",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    for _ in range(100):
        try:
            Client("127.0.0.1", port, None).request("GET", "/healthz")
            return process, token
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=None, help="http://127.0.0.1:PORT of a running server")
    parser.add_argument("--port", type=int, default=8401)
    parser.add_argument("--serve", action="store_true", help="start gunicorn here (see above)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers with --serve")
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

    process = None
    token = args.token
    if args.serve:
        process, token = serve(port, args.workers)
    if not token:
        raise SystemExit("a curator token is needed for the writes (--token or --serve)")
    try:
        summary = run(
            host=parts.hostname,
            port=port,
            token=token,
            clients=args.clients,
            seconds=args.seconds,
            max_requests=args.max_requests,
            write_share=args.write_share,
        )
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    summary["load_average_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
