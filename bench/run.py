"""The benchmark (issues 6 and 14), in one command: ``bench/run.sh`` (or ``python -m bench.run``).

For every size asked for (``--sizes`` on PostgreSQL, ``--sqlite-sizes`` on SQLite):

1. Makes sure the database holds the synthetic knowledge base of that size
   (``generate_synthetic``; PostgreSQL database ``<name>_<size>``, or the one named by
   ``--database-url`` for ``--database-size``; SQLite file bench/results/kb_<size>.sqlite3),
   and, on PostgreSQL, exports its published rows to SQLite for Datasette.
2. Serves, side by side: the app with every cache off (``app-nocache``: no Redis,
   ``PUBLIC_CACHE_SECONDS=0``), on PostgreSQL also as deployed (``app``: Redis, whole
   responses cached) when ``--redis-url`` is given; the floor (bench/floor_app.py: the
   app's own SQL through the driver and orjson); Datasette (on PostgreSQL runs the
   exported published rows, on SQLite runs the app's own file).
3. For every scenario in bench/scenarios.py: p50/p95/p99 at concurrency 1 with the
   requests interleaved round-robin across the servers (so that noise from the shared
   machine hits them alike), requests/s at ``--concurrency``, queries per request (the
   app's X-DB-Queries header); then the memory phase: ``--memory-requests`` mixed
   requests to each app server and the resident memory of each worker (VmRSS, VmHWM).
4. Writes bench/results/<date>.json and .md and a chart of latency and memory against
   size (bench/chart.py), and prints the tables.

Everything is bounded in count and in time and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg

from bench import load
from bench.export_sqlite import export, write_metadata
from bench.scenarios import SCENARIOS, Scenario, keyset_sql

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
# Scenarios slower than this at concurrency 1 are not run at higher concurrency.
SLOW_MS = 2000
APP_MODES = ("app", "app-nocache")
TARGETS = (*APP_MODES, "floor", "datasette")

# The heavy cases: the synthetic records ranked first hold the most evidence.
PARAMS = {
    "abn1": "synthetic-abnormality-1",
    "abn2": "synthetic-abnormality-2",
    "therapy1": "synthetic-therapy-1",
    "q": "cytotoxicity",
}


def fill(template: str, params: dict[str, str]) -> str:
    """A URL or parameter with its ``{placeholders}`` filled; KeyError if one is missing
    (the scenario is then not available: e.g. no cursor link in this version of the app)."""
    return template.format(**params)


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- data ---------------------------------------------------------------------


def pg_url(base_url: str, size: int, base_size: int) -> str:
    """The database of one size: the one named by ``base_url`` holds ``base_size``; every
    other size has its own, named ``<name>_<size>`` beside it."""
    if size == base_size:
        return base_url
    prefix, _, name = base_url.rpartition("/")
    return f"{prefix}/{name}_{size}"


def create_database(url: str) -> None:
    prefix, _, name = url.rpartition("/")
    with psycopg.connect(f"{prefix}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def synthetic_count(database_url: str) -> int:
    sql = (
        "SELECT count(*) FROM treatments_therapyevidence e JOIN findings_source s "
        "ON s.id = e.source_id WHERE s.key LIKE 'synthetic-%'"
    )
    path = sqlite_file(database_url)
    if path is not None:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return conn.execute(sql).fetchone()[0]
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchone()[0]


def sqlite_file(database_url: str) -> str | None:
    return database_url.removeprefix("sqlite:///") if database_url.startswith("sqlite:") else None


def ensure_synthetic(database_url: str, size: int, args) -> bool:
    """Migrates, and generates the data unless it holds ``size`` items; True if generated."""
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1"}
    subprocess.run([BIN / "python", "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    have = synthetic_count(database_url)
    if not args.generate and have == size:
        return False
    log(f"generating {size} synthetic evidence items in {database_url} (have {have})")
    started = time.monotonic()
    subprocess.run(
        [BIN / "python", "manage.py", "generate_synthetic", "--evidence", str(size),
         "--seed", str(args.seed)],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    log(f"generated in {time.monotonic() - started:.0f} s")
    if sqlite_file(database_url) is None:
        # The visibility map, so that the covering indexes give index-only scans now
        # rather than after autovacuum gets round to the new rows.
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return True


def prepare_postgresql(size: int, args) -> dict:
    url = pg_url(args.database_url, size, args.database_size)
    create_database(url)
    generated = ensure_synthetic(url, size, args)
    target = RESULTS / f"export_{size}.sqlite3"
    stamp = target.with_suffix(".stamp")
    wanted = f"{url} {size} {args.seed}"
    fresh = target.exists() and stamp.exists() and stamp.read_text() == wanted and not generated
    if args.datasette and not fresh:
        log(f"exporting the published rows of {size} to SQLite for Datasette")
        export(url, target)
        stamp.write_text(wanted)
    return {"database_url": url, "datasette_file": target, "datasette_reads": "export"}


def prepare_sqlite(size: int, args) -> dict:
    path = RESULTS / f"kb_{size}.sqlite3"
    if not path.exists() and size in args.sqlite_copy:
        log(f"copying {args.sqlite_copy[size]} to {path}")
        shutil.copyfile(args.sqlite_copy[size], path)
    url = f"sqlite:///{path}"
    ensure_synthetic(url, size, args)
    return {"database_url": url, "datasette_file": path, "datasette_reads": "app"}


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

    def wait_ready(self, timeout: float = 300) -> None:
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
        return sorted(children) or [self.process.pid]

    def memory_mb(self) -> list[dict]:
        """Per worker: VmRSS (resident now) and VmHWM (the most it has had), in MiB."""
        workers = []
        for pid in self.pids():
            try:
                lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            except OSError:
                continue
            row = {"pid": pid}
            for line in lines:
                key = {"VmRSS:": "rss_mb", "VmHWM:": "hwm_mb"}.get(line.split(" ")[0].strip())
                if key:
                    row[key] = round(int(line.split()[1]) / 1024, 1)
            workers.append(row)
        return workers

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def app_env(database_url: str, redis_url: str) -> dict:
    base_env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL")}
    base_env.pop("REDIS_URL", None)
    env = {
        **base_env,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "BENCH_QUERY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
        # Plain HTTP on 127.0.0.1, and no throttling of the load driver's one address.
        "HTTPS": "0",
        "API_THROTTLE_ANON": "100000000/minute",
        "API_THROTTLE_USER": "100000000/minute",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["CACHE_KEY_PREFIX"] = "bench_perf"
    return env


def start_servers(backend: str, data: dict, args) -> dict[str, Server]:
    base_env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL")}
    base_env.pop("REDIS_URL", None)
    gunicorn = [
        str(BIN / "gunicorn"), "--config", "python:mecfs_kb.gunicorn_conf",
        "--workers", str(args.workers), "--max-requests", "0", "--timeout", "300",
    ]  # fmt: skip
    app_port, floor_port, datasette_port, nocache_port = args.ports
    url = data["database_url"]
    servers: dict[str, Server] = {}
    deployed = backend == "postgresql" and bool(args.redis_url)
    if deployed:
        import redis

        # Start cold: nothing cached from an earlier run (our own Redis database only).
        redis.Redis.from_url(args.redis_url).flushdb()
    subprocess.run(
        [BIN / "python", "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=app_env(url, ""), check=True,
    )  # fmt: skip
    if deployed:
        # "app": as deployed (whole responses cached until the next publish).
        servers["app"] = Server(
            "app",
            app_port,
            [*gunicorn, "--bind", f"127.0.0.1:{app_port}", "mecfs_kb.wsgi"],
            app_env(url, args.redis_url),
            "/healthz",
        )
    # "app-nocache": every cache off (no Redis, PUBLIC_CACHE_SECONDS=0), as a new user's
    # `make run` on SQLite: every request runs its view and all its SQL. It also records
    # the SQL of a request that asks for it (X-Bench-Scenario), which the floor replays.
    capture_dir = RESULTS / "sql"
    shutil.rmtree(capture_dir, ignore_errors=True)
    capture_dir.mkdir(parents=True)
    servers["app-nocache"] = Server(
        "app-nocache",
        nocache_port,
        [*gunicorn, "--bind", f"127.0.0.1:{nocache_port}", "mecfs_kb.wsgi"],
        {**app_env(url, ""), "PUBLIC_CACHE_SECONDS": "0", "BENCH_CAPTURE_SQL": str(capture_dir)},
        "/healthz",
    )
    servers["floor"] = Server(
        "floor",
        floor_port,
        [*gunicorn, "--bind", f"127.0.0.1:{floor_port}", "bench.floor_app:application"],
        {**base_env, "FLOOR_DATABASE_URL": url, "FLOOR_CAPTURED_SQL": str(capture_dir)},
        "/",
    )
    if args.datasette:
        file = Path(data["datasette_file"])
        metadata = RESULTS / f"datasette-{backend}-{file.stem}.json"
        write_metadata(metadata, data["datasette_reads"], database=file.stem)
        servers["datasette"] = Server(
            "datasette",
            datasette_port,
            [
                str(BIN / "datasette"), "serve", "-i", str(file), "-m", str(metadata),
                "-h", "127.0.0.1", "-p", str(datasette_port),
                "--setting", "sql_time_limit_ms", "60000",
                "--setting", "max_returned_rows", "100000",
                "--setting", "default_page_size", "50",
            ],
            base_env,
            "/-/versions.json",
        )  # fmt: skip
    try:
        for server in servers.values():
            if server.name == "floor":
                wait_floor(server)
            else:
                server.wait_ready()
    except Exception:
        for server in servers.values():
            server.stop()
        raise
    return servers


def wait_floor(server: Server, timeout: float = 60) -> None:
    """The floor answers 404 at / (no scenario): any HTTP answer means it is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(server.base + "/", timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"floor did not answer; see {server.log_path}")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=300) as response:
        return json.loads(response.read())


def cursor_page(base: str, page: int = 50) -> str | None:
    """The path of page ``page`` of the evidence list reached through the app's ``next``
    links, starting from its first cursor page (``?cursor=start``: keyset pagination);
    None when the app has no cursor pages (its links carry page numbers)."""
    try:
        link = get_json(base + "/api/v1/evidence/?cursor=start").get("next")
    except urllib.error.HTTPError:
        return None  # an app without cursors refuses the unknown parameter (400)
    if not link or "cursor=" not in link:
        return None
    for _ in range(page - 2):
        link = get_json(link).get("next")
        if not link:
            return None
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def keyset_params(file: Path, source: str) -> dict[str, str]:
    """The sort key of the last row of page 49, from the file Datasette serves."""
    with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as conn:
        row = conn.execute(keyset_sql(source)).fetchone()
    if row is None:
        return {}
    return {"after_level": str(row[0]), "after_year": str(row[1]), "after_id": str(row[2])}


def capture_sql(servers: dict[str, Server], params: dict[str, str]) -> dict[str, int]:
    """Ask the app with every cache off for every scenario once, recording its SQL;
    returns the statements per scenario."""
    counts = {}
    for scenario in SCENARIOS:
        try:
            path = fill(scenario.app, params) if scenario.app else None
        except KeyError:
            continue
        if path is None:
            continue
        url = servers["app-nocache"].base + path
        request = urllib.request.Request(url, headers={"X-Bench-Scenario": scenario.name})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
        except OSError as exc:
            log(f"capture of {scenario.name} failed: {exc}")
            continue
        captured = RESULTS / "sql" / f"{scenario.name}.json"
        if captured.exists():
            counts[scenario.name] = len(json.loads(captured.read_text()))
    return counts


# --- measuring ----------------------------------------------------------------


def urls_for(scenario: Scenario, bases: dict[str, str], params: dict[str, str]) -> dict:
    """Each server's URL for a scenario (``bases``: server name to base URL); a server
    whose URL cannot be filled (a placeholder without a value) is left out."""
    urls = {}
    try:
        query = urlencode({k: fill(v, params) for k, v in scenario.params.items()})
    except KeyError:
        query = None
    for name in APP_MODES:
        if name in bases and scenario.app:
            with contextlib.suppress(KeyError):
                urls[name] = bases[name] + fill(scenario.app, params)
    if query is not None and "floor" in bases:
        urls["floor"] = f"{bases['floor']}/{scenario.name}?{query}"
    if query is not None and "datasette" in bases:
        fmt = scenario.datasette_format
        suffix = {"json": ".json", "csv": ".csv", "html": ""}[fmt]
        extra = {"json": "_shape=array", "csv": "_size=max", "html": ""}[fmt]
        joined = "&".join(part for part in (query, extra) if part)
        urls["datasette"] = f"{bases['datasette']}/{scenario.name}{suffix}?{joined}"
    return urls


def measure(urls: dict[str, str], args) -> dict:
    """Concurrency 1, interleaved across the servers; then throughput, server by server."""
    timed = load.interleaved(
        urls,
        max_requests=args.latency_requests,
        max_seconds=args.latency_seconds,
        warmup=args.warmup,
    )
    row = {}
    for name, url in urls.items():
        if name not in timed.results:
            row[name] = {"url": url, "available": False, "status": timed.failed.get(name)}
            continue
        result = {
            "url": url,
            "available": True,
            "first_ms": round(timed.first_ms[name], 1),
            "c1": timed.results[name].summary(),
        }
        if name in timed.failed:
            result["failed_later"] = timed.failed[name]
        row[name] = result
    for concurrency in args.concurrency:
        for result in row.values():
            if not result["available"]:
                continue
            if (result["c1"]["p50_ms"] or 0) > SLOW_MS:
                # Dozens of multi-second requests would only queue behind each other.
                result[f"c{concurrency}"] = {"rps": None, "skipped": f"p50 over {SLOW_MS} ms"}
                continue
            try:
                result[f"c{concurrency}"] = load.throughput(
                    result["url"], concurrency=concurrency, seconds=args.duration
                )
            except (OSError, subprocess.SubprocessError) as exc:
                result[f"c{concurrency}"] = {"rps": None, "skipped": repr(exc)[:120]}
            drain(result["url"])
    return row


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


def memory_phase(servers: dict[str, Server], scenarios: dict, args) -> dict:
    """``--memory-requests`` requests to each app server, spread over every scenario it
    answered, then each worker's resident memory."""
    memory = {}
    for mode in APP_MODES:
        if mode not in servers or args.memory_requests <= 0:
            continue
        urls = [
            row[mode]["url"] for row in scenarios.values() if row.get(mode, {}).get("available")
        ]
        if not urls:
            continue
        log(f"memory: {args.memory_requests} mixed requests to {mode}")
        sent = load.mixed(
            urls,
            total=args.memory_requests,
            concurrency=args.memory_concurrency,
            max_seconds=args.memory_seconds,
        )
        memory[mode] = {**sent, "workers": servers[mode].memory_mb()}
    return memory


def run_one(backend: str, size: int, args) -> dict:
    prepare = prepare_postgresql if backend == "postgresql" else prepare_sqlite
    data = prepare(size, args)
    log(f"{backend} {size}: starting servers")
    load_before = os.getloadavg()
    servers = start_servers(backend, data, args)
    params = dict(PARAMS)
    run: dict = {
        "backend": backend,
        "evidence": size,
        "database": data["database_url"].rpartition("/")[2],
        "datasette_reads": data["datasette_reads"] if args.datasette else None,
        "load_average_at_start": load_before,
        "scenarios": {},
    }
    try:
        cursor = cursor_page(servers["app-nocache"].base)
        if cursor:
            params["cursor50"] = cursor
        if args.datasette:
            params.update(keyset_params(Path(data["datasette_file"]), data["datasette_reads"]))
        run["params"] = params
        log("capturing the app's SQL for the floor")
        run["floor_statements"] = capture_sql(servers, params)
        bases = {name: server.base for name, server in servers.items()}
        bases["datasette"] = f"{bases.get('datasette')}/{Path(data['datasette_file']).stem}"
        if not args.datasette:
            bases.pop("datasette")
        for scenario in SCENARIOS:
            if args.only and scenario.name not in args.only:
                continue
            urls = urls_for(scenario, bases, params)
            log(f"{backend} {size}: {scenario.name} on {', '.join(urls)}")
            row = {"label": scenario.label, "api_list": scenario.api_list}
            row.update(measure(urls, args))
            if not scenario.app or not any(m in urls for m in APP_MODES):
                row["app-nocache"] = {"available": False, "status": "not served by this app"}
            run["scenarios"][scenario.name] = row
        run["memory"] = memory_phase(servers, run["scenarios"], args)
        run["memory_at_end"] = {name: s.memory_mb() for name, s in servers.items()}
        run["load_average_at_end"] = os.getloadavg()
    finally:
        for server in servers.values():
            server.stop()
    return run


def run(args, save=None) -> dict:
    """Every backend and size in turn; ``save(results)`` after each, so that a long sweep
    stopped half-way keeps what it measured."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "commit": commit(),
        "seed": args.seed,
        "workers": args.workers,
        "machine": machine(args.database_url),
        "runs": [],
    }
    plan = [("postgresql", size) for size in args.sizes]
    plan += [("sqlite", size) for size in args.sqlite_sizes]
    for backend, size in plan:
        results["runs"].append(run_one(backend, size, args))
        if save:
            save(results)
    return results


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def machine(database_url: str) -> dict:
    meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        "unknown",
    )  # fmt: skip
    try:
        with psycopg.connect(database_url.rpartition("/")[0] + "/postgres") as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error:
        pg = "unknown"
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo[1]) / 1024 / 1024, 1),
        "cpu": cpu,
        "postgresql": pg,
        "sqlite": sqlite3.sqlite_version,
        "python": sys.version.split()[0],
        "load_average_at_start": os.getloadavg(),
    }


# --- report -------------------------------------------------------------------


def ratio(a, b) -> float | None:
    """``a / b`` rounded to two places, or None when either is missing or zero."""
    return round(a / b, 2) if a and b else None


def ratios(row: dict, mode: str) -> dict:
    """The app's p50 and p95 (and req/s at 8, when measured) over the floor's and
    Datasette's, for one scenario's row."""
    app = row.get(mode) or {}
    out = {}
    if not app.get("available"):
        return out
    for ref in ("floor", "datasette"):
        other = row.get(ref) or {}
        if not other.get("available"):
            continue
        for key in ("p50_ms", "p95_ms"):
            out[f"{key[:3]}/{ref}"] = ratio(app["c1"][key], other["c1"][key])
        if "c8" in app and "c8" in other:
            out[f"rps8/{ref}"] = ratio(app["c8"].get("rps"), other["c8"].get("rps"))
    return out


def fmt(value) -> str:
    return "-" if value is None else f"{value:g}"


def fmt_ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}\N{MULTIPLICATION SIGN}"


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Run {results['date']} on commit `{results['commit']}`, {results['workers']} "
        f"gunicorn workers for the app and the floor, Datasette as one process.",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, PostgreSQL "
        f"{m['postgresql']}, SQLite {m['sqlite']}, Python {m['python']}; load average at "
        f"start {', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}.",
        f"Command: `{results['command']}`",
    ]
    for run in results["runs"]:
        lines += run_markdown(run)
    return "\n".join(lines) + "\n"


def run_markdown(run: dict) -> list[str]:
    backend = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[run["backend"]]
    reads = {"export": "the published rows exported to SQLite", "app": "the app's own file"}
    loads = [", ".join(f"{x:.2f}" for x in run.get(k, ())) for k in
             ("load_average_at_start", "load_average_at_end")]  # fmt: skip
    concurrencies = sorted(
        {int(k[1:]) for row in run["scenarios"].values() for r in row.values()
         if isinstance(r, dict) for k in r if k.startswith("c") and k[1:].isdigit()} - {1}
    )  # fmt: skip
    lines = [
        "",
        f"### {backend}, {run['evidence']:,} evidence items",
        "",
        f"Database `{run['database']}`; Datasette reads "
        f"{reads.get(run.get('datasette_reads'), 'nothing (skipped)')}. Load average "
        f"{loads[0]} at the start, {loads[1]} at the end. Concurrency 1, requests "
        "interleaved round-robin across the servers.",
        "",
        "| scenario | server | first ms | p50 ms | p95 ms | p99 ms | n | "
        + "".join(f"req/s @{c} | " for c in concurrencies)
        + "queries/req | bytes |",
        "|---|---|" + "---:|" * (7 + len(concurrencies)),
    ]
    ratio_lines = [
        "",
        "| scenario | app | p50 ÷ floor | p95 ÷ floor | p50 ÷ Datasette | p95 ÷ Datasette |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, row in run["scenarios"].items():
        for target in TARGETS:
            r = row.get(target)
            if r is None:
                continue
            if not r.get("available"):
                lines.append(f"| {name} | {target} | not available ({r.get('status')}) |")
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
            rps = "".join(f"{fmt(r.get(f'c{c}', {}).get('rps'))} | " for c in concurrencies)
            lines.append(
                f"| {name} | {target} | {fmt(r['first_ms'])} | {fmt(c1['p50_ms'])} | "
                f"{fmt(c1['p95_ms'])} | {fmt(c1['p99_ms'])} | {c1['n']} | {rps}"
                f"{queries} | {c1['bytes']} |"
            )
        for mode in APP_MODES:
            r = ratios(row, mode)
            if r:
                ratio_lines.append(
                    f"| {name} | {mode} | "
                    + " | ".join(
                        fmt_ratio(r.get(k))
                        for k in ("p50/floor", "p95/floor", "p50/datasette", "p95/datasette")
                    )
                    + " |"
                )
    lines += ratio_lines
    captured = run.get("floor_statements", {})
    lines += [
        "",
        "Floor statements: the app's own SQL, captured with every cache off, for "
        + (", ".join(f"{k} ({n})" for k, n in captured.items()) or "no scenario")
        + ".",
    ]
    for mode, memory in run.get("memory", {}).items():
        workers = ", ".join(
            f"{w.get('rss_mb')} (peak {w.get('hwm_mb')})" for w in memory["workers"]
        )
        lines += [
            "",
            f"Memory of {mode} after {memory['requests']} mixed requests over "
            f"{memory['urls']} URLs ({memory['concurrency']} clients, {memory['seconds']} s): "
            f"VmRSS per worker {workers} MiB.",
        ]
    at_end = run.get("memory_at_end", {})
    lines += ["", "VmRSS (VmHWM) per process at the end, MiB:"]
    lines += [
        f"- {name}: " + ", ".join(f"{w.get('rss_mb')} ({w.get('hwm_mb')})" for w in workers)
        for name, workers in at_end.items()
    ]
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kb_perf"),
        help="The PostgreSQL database of --database-size items; other sizes get <name>_<size>.",
    )
    parser.add_argument("--database-size", type=int, default=500_000)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[500_000], help="PostgreSQL runs (evidence)."
    )
    parser.add_argument(
        "--sqlite-sizes", type=int, nargs="*", default=[100_000], help="SQLite runs (evidence)."
    )
    parser.add_argument(
        "--sqlite-copy",
        action="append",
        default=[],
        metavar="SIZE=PATH",
        help="Start the SQLite file of SIZE as a copy of PATH (a file already generated).",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--generate", action="store_true", help="Regenerate the data.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--ports", default="8501,8502,8503,8504", help="app,floor,datasette,app-nocache"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="*",
        default=[8, 32],
        help="Throughput runs (none: skip them).",
    )
    parser.add_argument("--duration", type=float, default=5, help="Seconds per throughput run.")
    parser.add_argument("--latency-requests", type=int, default=200, help="Per server.")
    parser.add_argument(
        "--latency-seconds", type=float, default=30, help="Per scenario, all servers together."
    )
    parser.add_argument(
        "--warmup", type=int, default=5, help="Untimed rounds before the latency phase."
    )
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--memory-concurrency", type=int, default=4)
    parser.add_argument("--memory-seconds", type=float, default=1800)
    parser.add_argument("--no-datasette", dest="datasette", action="store_false")
    parser.add_argument("--no-chart", dest="chart", action="store_false")
    parser.add_argument("--only", nargs="*", help="Scenario names to run.")
    args = parser.parse_args(argv)
    args.ports = [int(p) for p in args.ports.split(",")]
    if len(args.ports) != 4:
        parser.error("--ports takes four ports: app,floor,datasette,app-nocache")
    if not args.database_url.startswith("postgres"):
        parser.error("--database-url names the PostgreSQL database: postgres://...")
    copies = {}
    for item in args.sqlite_copy:
        size, _, path = item.partition("=")
        if not size.isdigit() or not Path(path).is_file():
            parser.error(f"--sqlite-copy {item!r}: SIZE=PATH of an existing file")
        copies[int(size)] = Path(path)
    args.sqlite_copy = copies
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

    def save(results: dict) -> None:
        (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2))
        (RESULTS / f"{stamp}.md").write_text(markdown(results))

    outcome = run(args, save)
    table = markdown(outcome)
    if args.chart:
        from bench.chart import draw

        draw(outcome, RESULTS / f"{stamp}.png")
        log(f"chart: {RESULTS / f'{stamp}.png'}")
    print(table)


if __name__ == "__main__":
    main()
