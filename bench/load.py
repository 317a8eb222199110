"""A small load driver, bounded in time and in count, for 127.0.0.1 only.

``latency``: one client, one request after another (concurrency 1): p50/p95/p99.
``interleaved``: the same for several servers at once, one request to each in turn
(round-robin), so that whatever else the machine does slows them all alike.
``throughput``: N clients at once for a few seconds: requests per second. Uses
Debian's ``wrk`` when it is installed (C, so the driver takes little of the two
cores from the servers), else Python threads.
``mixed``: a fixed number of requests spread over many URLs by a few clients (the
memory phase).
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


def schedule(targets: list[str], rounds: int) -> list[str]:
    """The order of the interleaved requests: every target once per round, the round
    starting one target later each time, so that no target always follows the same one."""
    count = len(targets)
    return [targets[(r + i) % count] for r in range(rounds) for i in range(count)]


@dataclass
class Interleaved:
    first_ms: dict[str, float] = field(default_factory=dict)
    results: dict[str, Latency] = field(default_factory=dict)
    # Targets dropped: a first answer other than 200, or an error (text).
    failed: dict[str, str] = field(default_factory=dict)


def interleaved(
    urls: dict[str, str], *, max_requests: int, max_seconds: float, warmup: int = 5
) -> Interleaved:
    """Concurrency 1 against every target in ``urls`` (name: URL), round-robin: the
    first request of each (nothing warm yet), ``warmup`` untimed rounds, then up to
    ``max_requests`` timed requests each within ``max_seconds`` in all."""
    out = Interleaved()
    conns, paths = {}, {}
    for name, url in urls.items():
        host, port, paths[name] = _check(url)
        conns[name] = http.client.HTTPConnection(host, port, timeout=120)

    def one(name: str) -> tuple[int, bytes, str | None, float] | None:
        started = time.perf_counter()
        try:
            try:
                status, body, queries = _get(conns[name], paths[name])
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed the idle keep-alive connection while the others
                # answered (uvicorn, under Datasette, after 5 s): once more, on a new one.
                conns[name].close()
                started = time.perf_counter()
                status, body, queries = _get(conns[name], paths[name])
        except (OSError, http.client.HTTPException) as exc:
            out.failed[name] = f"failed: {exc!r}"[:120]
            conns[name].close()
            return None
        return status, body, queries, (time.perf_counter() - started) * 1000

    live = []
    for name in urls:
        answer = one(name)
        if answer is None:
            continue
        if answer[0] != 200:
            out.failed[name] = str(answer[0])
            continue
        out.first_ms[name] = answer[3]
        out.results[name] = Latency()
        live.append(name)
    for name in schedule(live, warmup):
        if name not in out.failed:
            one(name)
    deadline = time.monotonic() + max_seconds
    for name in schedule(live, max_requests):
        if time.monotonic() >= deadline:
            break
        if name in out.failed:
            continue
        answer = one(name)
        if answer is None:
            continue
        status, body, queries, elapsed = answer
        result = out.results[name]
        result.times_ms.append(elapsed)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        result.bytes = len(body)
        if queries is not None:
            result.queries.append(int(queries))
    for conn in conns.values():
        conn.close()
    return out


def mixed(urls: list[str], *, total: int, concurrency: int, max_seconds: float) -> dict:
    """``total`` requests in all, taken in turn from ``urls`` by ``concurrency`` clients,
    stopping early after ``max_seconds``."""
    targets = [_check(url) for url in urls]
    lock = threading.Lock()
    state = {"next": 0, "statuses": {}, "errors": 0}
    deadline = time.monotonic() + max_seconds

    def take() -> tuple[str, int, str] | None:
        with lock:
            if state["next"] >= total or time.monotonic() >= deadline:
                return None
            state["next"] += 1
            return targets[(state["next"] - 1) % len(targets)]

    def worker() -> None:
        conns: dict[tuple[str, int], http.client.HTTPConnection] = {}
        while (target := take()) is not None:
            host, port, path = target
            if (host, port) not in conns:
                conns[host, port] = http.client.HTTPConnection(host, port, timeout=120)
            conn = conns[host, port]
            try:
                status, _, _ = _get(conn, path)
            except (OSError, http.client.HTTPException):
                conn.close()
                with lock:
                    state["errors"] += 1
                continue
            with lock:
                state["statuses"][status] = state["statuses"].get(status, 0) + 1
        for conn in conns.values():
            conn.close()

    started = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return {
        "requests": sum(state["statuses"].values()) + state["errors"],
        "seconds": round(time.monotonic() - started, 1),
        "statuses": state["statuses"],
        "errors": state["errors"],
        "urls": len(urls),
        "concurrency": concurrency,
    }


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
