"""The floor: the scenarios' SQL through psycopg and orjson in a bare WSGI app.

No framework, no ORM, no templates: what answering a scenario costs at the least on
this machine and this database. Served by gunicorn with the same workers as the app:

    FLOOR_DATABASE_URL=postgres://... gunicorn bench.floor_app:application

``GET /<scenario>`` runs the statements the app ran for that scenario, captured by
bench/run.py (``FLOOR_CAPTURED_SQL``), with the same parameters; a scenario the app
does not serve yet runs the hand-written statements of bench/scenarios.py with the
query-string parameters. It answers every result set as JSON (CSV for csv_export).

Any other URL (``/api/v1/therapies/<slug>/``, a reader page: bench/load_trust.py
``--floor``) runs the SQL the app ran for that very URL, captured under a name made
from it (``url_scenario``). One connection per thread, so that gthread workers work.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import threading
from pathlib import Path
from urllib.parse import parse_qs

import orjson
import psycopg
from psycopg.rows import dict_row

from bench.scenarios import FLOOR_SQL

_local = threading.local()


def url_scenario(path: str) -> str:
    """The name the app's SQL for this URL (path and query) is captured under."""
    return "url_" + hashlib.sha1(path.encode()).hexdigest()[:24]


def connection() -> psycopg.Connection:
    """One persistent connection per worker thread, like the app's CONN_MAX_AGE."""
    current = getattr(_local, "connection", None)
    if current is None or current.closed:
        current = _local.connection = psycopg.connect(
            os.environ["FLOOR_DATABASE_URL"],
            autocommit=True,
            row_factory=dict_row,
            # As the app connects (mecfs_kb/settings.py): no JIT for short queries.
            options="-c jit=off",
        )
    return current


_captured: dict[str, list] = {}


def captured(name: str) -> list | None:
    """The app's own statements for this scenario, captured by bench/run.py."""
    if name not in _captured:
        directory = os.environ.get("FLOOR_CAPTURED_SQL", "")
        path = Path(directory) / f"{name}.json" if directory else None
        if path is None or not path.exists():
            return None
        _captured[name] = json.loads(path.read_text())
    return _captured[name]


def application(environ, start_response):
    name = environ.get("PATH_INFO", "/").strip("/")
    if name not in FLOOR_SQL and captured(name) is None:
        query = environ.get("QUERY_STRING", "")
        name = url_scenario(environ.get("PATH_INFO", "/") + (f"?{query}" if query else ""))
    app_statements = captured(name)
    statements = FLOOR_SQL.get(name)
    if app_statements is None and statements is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"unknown scenario"]
    results = []
    if app_statements is not None:
        # Exactly the SQL and parameters the app ran, bound the way Django binds them.
        with psycopg.ClientCursor(connection()) as cursor:
            for sql, params in app_statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall() if cursor.description else [])
    else:
        query = environ.get("QUERY_STRING", "")
        params = {key: values[0] for key, values in parse_qs(query).items()}
        with connection().cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
    if name == "csv_export":
        out = io.StringIO()
        rows = max(results, key=len)
        writer = csv.writer(out)
        if rows:
            writer.writerow(rows[0].keys())
        writer.writerows(row.values() for row in rows)
        body = out.getvalue().encode()
        content_type = "text/csv; charset=utf-8"
    else:
        body = orjson.dumps({"results": results}, default=str)
        content_type = "application/json"
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
