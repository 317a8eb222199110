"""The benchmark (issue 6), in one command: ``bench/run.sh`` (or ``python -m bench.run``).

1. Makes sure the PostgreSQL database holds the synthetic knowledge base of the
   size asked for (``generate_synthetic``), and exports its published rows to SQLite.
2. Serves, side by side: the app (gunicorn, DEBUG off, Redis cache), the floor
   (bench/floor_app.py, gunicorn with the same workers) and Datasette.
3. For every scenario in bench/scenarios.py and every server: p50/p95/p99 at
   concurrency 1, requests/s at 8 and 32, queries per request (the app's
   X-DB-Queries header), then peak RSS per worker; ratios to the floor and Datasette.
4. Writes bench/results/<date>.json and .md, and prints the table.

Everything is bounded in count and in time and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import load
from bench.export_sqlite import export, write_metadata
from bench.scenarios import SCENARIOS, Scenario

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
# Scenarios slower than this at concurrency 1 are not run at 8 and 32.
SLOW_MS = 2000

# The heavy cases: the synthetic records ranked first hold the most evidence.
PARAMS = {
    "abn1": "synthetic-abnormality-1",
    "abn2": "synthetic-abnormality-2",
    "therapy1": "synthetic-therapy-1",
    "q": "cytotoxicity",
}


def fill(template: str, params: dict[str, str]) -> str:
    return template.format(**params)


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- data ---------------------------------------------------------------------


def synthetic_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM treatments_therapyevidence e JOIN findings_source s "
            "ON s.id = e.source_id WHERE s.key LIKE 'synthetic-%'"
        ).fetchone()[0]


def ensure_data(args) -> None:
    env = {**os.environ, "DATABASE_URL": args.database_url, "DEBUG": "1"}
    subprocess.run([BIN / "python", "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    have = synthetic_count(args.database_url)
    stamp = RESULTS / "kb.stamp"
    wanted = f"{args.database_url} {args.evidence} {args.seed}"
    if args.generate or have != args.evidence:
        log(f"generating {args.evidence} synthetic evidence items (have {have})")
        subprocess.run(
            [BIN / "python", "manage.py", "generate_synthetic", "--evidence", str(args.evidence),
             "--seed", str(args.seed)],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip
        stamp.unlink(missing_ok=True)
        # The visibility map, so that the covering indexes give index-only scans now
        # rather than after autovacuum gets round to the new rows.
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    sqlite = RESULTS / "kb.sqlite3"
    fresh = sqlite.exists() and stamp.exists() and stamp.read_text() == wanted
    if args.datasette and not fresh:
        log("exporting the published rows to SQLite for Datasette")
        export(args.database_url, sqlite)
        stamp.write_text(wanted)
    write_metadata(RESULTS / "datasette-metadata.json")


# --- servers ------------------------------------------------------------------


class Server:
    def __init__(self, name: str, port: int, command: list[str], env: dict, ready_path: str):
        self.name, self.port, self.ready_path = name, port, ready_path
        self.log_path = RESULTS / f"server-{name}.log"
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + self.ready_path, timeout=5):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer on port {self.port}; see {self.log_path}")

    def pids(self) -> list[int]:
        """The worker processes (gunicorn's children), or the server itself."""
        children = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            ppid = next(line for line in text.splitlines() if line.startswith("PPid:"))
            if int(ppid.split()[1]) == self.process.pid:
                children.append(int(status.parent.name))
        return children or [self.process.pid]

    def peak_rss_mb(self) -> list[float]:
        """VmHWM: the most resident memory each worker has had since it started."""
        peaks = []
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(round(int(line.split()[1]) / 1024, 1))
            except OSError:
                continue
        return peaks

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def start_servers(args) -> dict[str, Server]:
    base_env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL")}
    gunicorn = [
        str(BIN / "gunicorn"), "--config", "python:mecfs_kb.gunicorn_conf",
        "--workers", str(args.workers), "--max-requests", "0", "--timeout", "120",
    ]  # fmt: skip
    servers = {}
    app_env = {
        **base_env,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": args.database_url,
        "BENCH_QUERY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
        # Plain HTTP on 127.0.0.1, and no throttling of the load driver's one address.
        "HTTPS": "0",
        "API_THROTTLE_ANON": "100000000/minute",
        "API_THROTTLE_USER": "100000000/minute",
    }
    if args.redis_url:
        app_env["REDIS_URL"] = args.redis_url
        app_env["CACHE_KEY_PREFIX"] = "bench_perf"
        # Start cold: nothing cached from an earlier run (our own Redis database only).
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    subprocess.run(
        [BIN / "python", "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=app_env, check=True,
    )  # fmt: skip
    # "app": as deployed (whole responses cached until the next publish).
    servers["app"] = Server(
        "app",
        args.ports[0],
        [*gunicorn, "--bind", f"127.0.0.1:{args.ports[0]}", "mecfs_kb.wsgi"],
        app_env,
        "/healthz",
    )
    # "app-uncached": the same without the response cache, so every request runs its
    # view and its queries (the per-publish matrix stays cached): what a URL costs the
    # first time it is asked for after a publish.
    servers["app-uncached"] = Server(
        "app-uncached",
        args.ports[3],
        [*gunicorn, "--bind", f"127.0.0.1:{args.ports[3]}", "mecfs_kb.wsgi"],
        {**app_env, "PUBLIC_RESPONSE_CACHE": "0"},
        "/healthz",
    )
    # "capture": the app with every cache off, run once per scenario to record the SQL
    # a request runs when nothing is cached; the floor then runs exactly that SQL.
    capture_dir = RESULTS / "sql"
    shutil.rmtree(capture_dir, ignore_errors=True)
    capture_dir.mkdir(parents=True)
    servers["capture"] = Server(
        "capture",
        args.ports[4],
        [*gunicorn, "--bind", f"127.0.0.1:{args.ports[4]}", "mecfs_kb.wsgi"],
        {**app_env, "PUBLIC_CACHE_SECONDS": "0", "BENCH_CAPTURE_SQL": str(capture_dir)},
        "/healthz",
    )
    servers["floor"] = Server(
        "floor",
        args.ports[1],
        [*gunicorn, "--bind", f"127.0.0.1:{args.ports[1]}", "bench.floor_app:application"],
        {
            **base_env,
            "FLOOR_DATABASE_URL": args.database_url,
            "FLOOR_CAPTURED_SQL": str(capture_dir),
        },
        "/treatments_html",
    )
    if args.datasette:
        servers["datasette"] = Server(
            "datasette",
            args.ports[2],
            [
                str(BIN / "datasette"), "serve", "-i", str(RESULTS / "kb.sqlite3"),
                "-m", str(RESULTS / "datasette-metadata.json"),
                "-h", "127.0.0.1", "-p", str(args.ports[2]),
                "--setting", "sql_time_limit_ms", "60000",
                "--setting", "max_returned_rows", "100000",
                "--setting", "default_page_size", "50",
            ],
            base_env,
            "/-/versions.json",
        )  # fmt: skip
    for server in servers.values():
        server.wait_ready()
    return servers


def capture_sql(servers: dict[str, Server], params: dict[str, str]) -> dict[str, int]:
    """Ask the capture server for every scenario once; returns statements per scenario."""
    counts = {}
    for scenario in SCENARIOS:
        if not scenario.app:
            continue
        url = servers["capture"].base + fill(scenario.app, params)
        request = urllib.request.Request(url, headers={"X-Bench-Scenario": scenario.name})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
        except OSError as exc:
            log(f"capture of {scenario.name} failed: {exc}")
            continue
        path = RESULTS / "sql" / f"{scenario.name}.json"
        if path.exists():
            counts[scenario.name] = len(json.loads(path.read_text()))
    servers.pop("capture").stop()
    return counts


# --- measuring ----------------------------------------------------------------


def urls_for(scenario: Scenario, servers: dict[str, Server], params: dict[str, str]) -> dict:
    from urllib.parse import urlencode

    query = urlencode({k: fill(v, params) for k, v in scenario.params.items()})
    urls = {}
    if scenario.app:
        for name in ("app", "app-uncached"):
            urls[name] = servers[name].base + fill(scenario.app, params)
    urls["floor"] = f"{servers['floor'].base}/{scenario.name}?{query}"
    if "datasette" in servers:
        fmt = scenario.datasette_format
        suffix = {"json": ".json", "csv": ".csv", "html": ""}[fmt]
        extra = {"json": "_shape=array", "csv": "_size=max", "html": ""}[fmt]
        joined = "&".join(part for part in (query, extra) if part)
        urls["datasette"] = f"{servers['datasette'].base}/kb/{scenario.name}{suffix}?{joined}"
    return urls


def measure(url: str, args) -> dict:
    try:
        return _measure(url, args)
    except (OSError, subprocess.SubprocessError) as exc:
        # A request slower than the driver's timeout: reported, not fatal.
        return {"url": url, "available": False, "status": f"failed: {exc!r}"[:120]}


def _measure(url: str, args) -> dict:
    probe = load.latency(url, max_requests=1, max_seconds=120, warmup=0)
    status = next(iter(probe.statuses))
    if status != 200:
        return {"url": url, "available": False, "status": status}
    # The first request: nothing cached for this URL yet.
    result = {"url": url, "available": True, "first_ms": round(probe.times_ms[0], 1)}
    result["c1"] = load.latency(
        url, max_requests=args.latency_requests, max_seconds=args.latency_seconds
    ).summary()
    for concurrency in (8, 32):
        if result["c1"]["p50_ms"] > SLOW_MS:
            # Dozens of multi-second requests would only queue up behind each other.
            result[f"c{concurrency}"] = {"rps": None, "skipped": f"p50 over {SLOW_MS} ms"}
            continue
        result[f"c{concurrency}"] = load.throughput(
            url, concurrency=concurrency, seconds=args.duration
        )
        drain(url)
    return result


def drain(url: str, timeout: float = 300) -> None:
    """Wait until the server has answered what the load driver left queued (a sync
    worker finishes requests whose client has gone), so the next run starts idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            load.latency(url, max_requests=1, max_seconds=60, warmup=0)
        except OSError:
            continue
        if time.monotonic() - started < 5:
            return


def run(args) -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    ensure_data(args)
    log("starting servers")
    servers = start_servers(args)
    log("capturing the app's SQL for the floor")
    captured = capture_sql(servers, PARAMS)
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "evidence": args.evidence,
        "seed": args.seed,
        "workers": args.workers,
        "machine": machine(args.database_url),
        "params": PARAMS,
        "floor_statements": captured,
        "scenarios": {},
    }
    try:
        for scenario in SCENARIOS:
            if args.only and scenario.name not in args.only:
                continue
            urls = urls_for(scenario, servers, PARAMS)
            row = {"label": scenario.label, "api_list": scenario.api_list}
            if not scenario.app:
                row["app"] = {"available": False, "status": "not built yet"}
            for target, url in urls.items():
                log(f"{scenario.name} on {target}")
                row[target] = measure(url, args)
            results["scenarios"][scenario.name] = row
        results["peak_rss_mb"] = {name: s.peak_rss_mb() for name, s in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    return results


def machine(database_url: str) -> dict:
    meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        "unknown",
    )  # fmt: skip
    with psycopg.connect(database_url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo[1]) / 1024 / 1024, 1),
        "cpu": cpu,
        "postgresql": pg,
        "python": sys.version.split()[0],
        "load_average_at_start": os.getloadavg(),
    }


# --- report -------------------------------------------------------------------


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def fmt(value) -> str:
    return "-" if value is None else f"{value:g}"


def markdown(results: dict) -> str:
    m = results["machine"]
    with_datasette = any("datasette" in r for r in results["scenarios"].values())
    lines = [
        f"Run {results['date']}: {results['evidence']} evidence items (seed {results['seed']}), "
        f"{results['workers']} gunicorn workers for the app and the floor; Datasette "
        f"{'included' if with_datasette else 'skipped'}.",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, PostgreSQL "
        f"{m['postgresql']}, Python {m['python']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}.",
        f"Command: `{results['command']}`",
        "",
        "| scenario | server | first ms | p50 ms | p95 ms | p99 ms | req/s @8 | req/s @32 "
        "| queries/req | bytes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratio_lines = [
        "",
        "| scenario | app | p95 / floor p95 | p95 / Datasette p95 | req/s@8 / floor | "
        "req/s@8 / Datasette |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, row in results["scenarios"].items():
        for target in ("app", "app-uncached", "floor", "datasette"):
            r = row.get(target)
            if r is None:
                continue
            if not r.get("available"):
                lines.append(f"| {name} | {target} | not available ({r.get('status')}) ||||||||")
                continue
            c1 = r["c1"]
            queries = (
                "-"
                if c1["queries_min"] is None
                else (
                    str(c1["queries_min"])
                    if c1["queries_min"] == c1["queries_max"]
                    else f"{c1['queries_min']}-{c1['queries_max']}"
                )
            )
            lines.append(
                f"| {name} | {target} | {fmt(r['first_ms'])} | {fmt(c1['p50_ms'])} | "
                f"{fmt(c1['p95_ms'])} | "
                f"{fmt(c1['p99_ms'])} | {fmt(r['c8']['rps'])} | {fmt(r['c32']['rps'])} | "
                f"{queries} | {c1['bytes']} |"
            )
        floor, ds = (row.get(t) or {} for t in ("floor", "datasette"))
        for mode in ("app", "app-uncached"):
            app = row.get(mode) or {}
            if not app.get("available"):
                continue
            ratio_lines.append(
                f"| {name} | {mode} | "
                f"{ratio(app['c1']['p95_ms'], floor.get('c1', {}).get('p95_ms'))} | "
                f"{ratio(app['c1']['p95_ms'], ds.get('c1', {}).get('p95_ms'))} | "
                f"{ratio(app['c8']['rps'], floor.get('c8', {}).get('rps'))} | "
                f"{ratio(app['c8']['rps'], ds.get('c8', {}).get('rps'))} |"
            )
    rss = results.get("peak_rss_mb", {})
    lines += ratio_lines
    captured = results.get("floor_statements", {})
    lines += [
        "",
        "Floor statements: the app's own SQL, captured with every cache off, for "
        + (", ".join(f"{k} ({n})" for k, n in captured.items()) or "no scenario")
        + "; hand-written (bench/scenarios.py) for the others.",
    ]
    lines += ["", "Peak RSS per worker (MiB, VmHWM over the whole run):"]
    lines += [f"- {name}: {', '.join(map(str, peaks))}" for name, peaks in rss.items()]
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kb_perf"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    parser.add_argument("--evidence", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--generate", action="store_true", help="Regenerate the data.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--ports",
        default="8501,8502,8503,8504,8505",
        help="app,floor,datasette,app-uncached,capture",
    )
    parser.add_argument("--duration", type=float, default=5, help="Seconds per throughput run.")
    parser.add_argument("--latency-requests", type=int, default=200)
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--no-datasette", dest="datasette", action="store_false")
    parser.add_argument("--only", nargs="*", help="Scenario names to run.")
    args = parser.parse_args(argv)
    args.ports = [int(p) for p in args.ports.split(",")]
    if not args.database_url.startswith("postgres"):
        parser.error("the benchmark runs on PostgreSQL: --database-url postgres://...")
    return args


if __name__ == "__main__":
    outcome = run(parse_args())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(outcome, indent=2))
    table = markdown(outcome)
    (RESULTS / f"{stamp}.md").write_text(table)
    print(table)
