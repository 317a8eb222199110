"""bench/ only: ``X-DB-Queries`` on every response (``BENCH_QUERY_COUNT=1``), and the
SQL of a request written to a file (``BENCH_CAPTURE_SQL=<directory>``).

Counts the SQL statements a request runs on every database alias, without DEBUG
(which would keep every query in memory and slow the app down). Queries run while a
streaming response is consumed, after this middleware returns, are not counted: the
header is sent before them.

With ``BENCH_CAPTURE_SQL``, a request carrying ``X-Bench-Scenario: <name>`` has its
statements and parameters written to ``<directory>/<name>.json``: the floor
(bench/floor_app.py) then runs exactly the app's SQL, without the app around it. A
streaming response's statements are captured to its end (a download over a million
characters streams, and reads its rows a chunk at a time as it is sent).
"""

import json
import os
import re
from contextlib import ExitStack, contextmanager
from pathlib import Path

from django.db import connections

CAPTURE_DIR = os.environ.get("BENCH_CAPTURE_SQL", "")
SCENARIO_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0
        statements: list = []
        scenario = request.headers.get("X-Bench-Scenario", "") if CAPTURE_DIR else ""
        capture = bool(SCENARIO_NAME.match(scenario))

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            if capture:
                statements.append([sql, list(params or [])])
            return execute(sql, params, many, context)

        with _counting(counter):
            response = self.get_response(request)
        response["X-DB-Queries"] = str(count)
        if capture:
            path = Path(CAPTURE_DIR) / f"{scenario}.json"
            if response.streaming:
                response.streaming_content = _captured(
                    response.streaming_content, counter, statements, path
                )
            else:
                path.write_text(json.dumps(statements, default=str))
        return response


@contextmanager
def _counting(counter):
    """``counter`` wrapped round every statement on every database alias."""
    with ExitStack() as stack:
        for connection in connections.all():
            stack.enter_context(connection.execute_wrapper(counter))
        yield


def _captured(chunks, counter, statements: list, path: Path):
    """``chunks`` as they are sent, their statements captured, written at the end."""
    with _counting(counter):
        yield from chunks
    path.write_text(json.dumps(statements, default=str))
