"""The floor: the scenarios' SQL through psycopg and orjson in a bare WSGI app.

No framework, no ORM, no templates: what answering a scenario costs at the least on
this machine and this database. Served by gunicorn with the same workers as the app:

    FLOOR_DATABASE_URL=postgres://... gunicorn bench.floor_app:application

``GET /<scenario>`` runs the statements the app ran for that scenario, captured by
bench/run.py (``FLOOR_CAPTURED_SQL``), with the same parameters; a scenario the app
does not serve yet runs the hand-written statements of bench/scenarios.py with the
query-string parameters. It answers every result set as JSON (CSV for csv_export).
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from urllib.parse import parse_qs

import orjson
import psycopg
from psycopg.rows import dict_row

from bench.scenarios import FLOOR_SQL

_connection: psycopg.Connection | None = None


def connection() -> psycopg.Connection:
    """One persistent connection per worker, like the app's CONN_MAX_AGE."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(
            os.environ["FLOOR_DATABASE_URL"],
            autocommit=True,
            row_factory=dict_row,
            # As the app connects (mecfs_kb/settings.py): no JIT for short queries.
            options="-c jit=off",
        )
    return _connection


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
