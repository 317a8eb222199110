"""``X-DB-Queries`` on every response, for bench/ only (``BENCH_QUERY_COUNT=1``).

Counts the SQL statements a request runs on every database alias, without DEBUG
(which would keep every query in memory and slow the app down). Queries run while a
streaming response is consumed, after this middleware returns, are not counted.
"""

from contextlib import ExitStack

from django.db import connections


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(counter))
            response = self.get_response(request)
        response["X-DB-Queries"] = str(count)
        return response
