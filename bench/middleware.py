"""Counts the SQL queries of each request (sessions and users included) into a response header,
without DEBUG (which would slow every query down and keep them all in memory).

A request sent with an ``X-Bench-Log`` header also has its queries and their times appended as
one JSON line to the file named by BENCH_QUERY_LOG: the harness does that once per page,
outside the timed runs, to show where a page's time goes.
"""

import json
import os
import time

from django.db import connection

QUERIES_HEADER = "X-Bench-Queries"
SERVER_TIME_HEADER = "X-Bench-Server-Ms"
LOG_REQUEST_HEADER = "X-Bench-Log"


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.log_path = os.environ.get("BENCH_QUERY_LOG")

    def __call__(self, request):
        logged = [] if self.log_path and LOG_REQUEST_HEADER in request.headers else None
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                if logged is not None:
                    logged.append({"ms": (time.perf_counter() - started) * 1000, "sql": sql})

        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            # Template responses are rendered inside: their queries are counted too.
            response = self.get_response(request)
        # A streamed response runs its query later, as it is read: only the list pages' counts
        # are reported.
        response[QUERIES_HEADER] = str(count)
        response[SERVER_TIME_HEADER] = f"{(time.perf_counter() - started) * 1000:.3f}"
        if logged is not None:
            with open(self.log_path, "a") as log:
                log.write(json.dumps({"path": request.get_full_path(), "queries": logged}) + "\n")
        return response
