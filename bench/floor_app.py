"""The floor: the scenarios' SQL through psycopg and orjson in a bare WSGI app.

No framework, no ORM, no templates: what answering a scenario costs at the least on
this machine and this database. Served by gunicorn with the same workers as the app:

    FLOOR_DATABASE_URL=postgres://... gunicorn bench.floor_app:application

``GET /<scenario>?param=value`` runs that scenario's statements (bench/scenarios.py)
with the query-string parameters and answers JSON (CSV for csv_export).
"""

from __future__ import annotations

import csv
import io
import os
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


def application(environ, start_response):
    name = environ.get("PATH_INFO", "/").strip("/")
    statements = FLOOR_SQL.get(name)
    if statements is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"unknown scenario"]
    params = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    with connection().cursor() as cursor:
        results = []
        for sql in statements:
            cursor.execute(sql, params)
            results.append(cursor.fetchall())
    if name == "csv_export":
        out = io.StringIO()
        rows = results[0]
        writer = csv.writer(out)
        if rows:
            writer.writerow(rows[0].keys())
        writer.writerows(row.values() for row in rows)
        body = out.getvalue().encode()
        content_type = "text/csv; charset=utf-8"
    else:
        payload = results[0] if len(results) == 1 else {"object": results[0], "rows": results[1]}
        body = orjson.dumps({"results": payload})
        content_type = "application/json"
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
