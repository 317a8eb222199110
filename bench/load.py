"""A small load driver, bounded in time and in count, for 127.0.0.1 only.

``latency``: one client, one request after another (concurrency 1): p50/p95/p99.
``throughput``: N clients at once for a few seconds: requests per second. Uses
Debian's ``wrk`` when it is installed (C, so the driver takes little of the two
cores from the servers), else Python threads.
"""

from __future__ import annotations

import http.client
import math
import re
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _check(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise ValueError(f"refusing to load {parts.hostname}: the benchmark targets 127.0.0.1 only")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or 80, path


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Latency:
    times_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    queries: list[int] = field(default_factory=list)
    bytes: int = 0

    def summary(self) -> dict:
        t = self.times_ms
        return {
            "n": len(t),
            "p50_ms": round(percentile(t, 50), 2) if t else None,
            "p95_ms": round(percentile(t, 95), 2) if t else None,
            "p99_ms": round(percentile(t, 99), 2) if t else None,
            "mean_ms": round(statistics.fmean(t), 2) if t else None,
            "statuses": self.statuses,
            "queries_min": min(self.queries) if self.queries else None,
            "queries_max": max(self.queries) if self.queries else None,
            "bytes": self.bytes,
        }


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes, str | None]:
    conn.request("GET", path, headers={"Accept-Encoding": "identity"})
    response = conn.getresponse()
    body = response.read()
    if response.getheader("Connection", "").lower() == "close":
        conn.close()
    return response.status, body, response.getheader("X-DB-Queries")


def latency(url: str, *, max_requests: int, max_seconds: float, warmup: int = 5) -> Latency:
    host, port, path = _check(url)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    result = Latency()
    for _ in range(warmup):
        _get(conn, path)
    deadline = time.monotonic() + max_seconds
    while len(result.times_ms) < max_requests and time.monotonic() < deadline:
        started = time.perf_counter()
        status, body, queries = _get(conn, path)
        result.times_ms.append((time.perf_counter() - started) * 1000)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        result.bytes = len(body)
        if queries is not None:
            result.queries.append(int(queries))
    conn.close()
    return result


def throughput(url: str, *, concurrency: int, seconds: float) -> dict:
    _check(url)
    if shutil.which("wrk"):
        return _wrk(url, concurrency, seconds)
    return _threads(url, concurrency, seconds)


def _wrk(url: str, concurrency: int, seconds: float) -> dict:
    threads = min(2, concurrency)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": round(rps, 1),
        "requests": total,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
        "driver": "wrk",
    }


def _threads(url: str, concurrency: int, seconds: float) -> dict:
    host, port, path = _check(url)
    counts = [0] * concurrency
    bad = [0] * concurrency
    deadline = time.monotonic() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while time.monotonic() < deadline:
            status, _, _ = _get(conn, path)
            counts[i] += 1
            if status >= 400:
                bad[i] += 1
        conn.close()

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "rps": round(sum(counts) / elapsed, 1),
        "requests": sum(counts),
        "non_2xx": sum(bad),
        "socket_errors": "",
        "driver": "python threads",
    }
