"""Liveness (/healthz) and readiness (/readyz) probes.

/healthz is answered by the WSGI application before Django (config/wsgi.py), /readyz first in
MIDDLEWARE. So both answer whatever Host header a Docker or Kubernetes probe sends (no
ALLOWED_HOSTS check), are never redirected to HTTPS, and skip sessions, CSRF and URL
resolving. Their bodies never carry error details: those go to the log.
"""

import logging

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

logger = logging.getLogger(__name__)

# Once all migrations are applied they stay applied while this process runs: check once.
_migrations_applied = False


def answer(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    # Set here, as the probes skip CommonMiddleware: without it gunicorn would chunk the body
    # and runserver would close the connection after each probe.
    response["Content-Length"] = len(response.content)
    return response


LIVE = b'{"status": "ok"}'


def with_liveness(application):
    """`application`, with /healthz answered before Django sees the request: the process can
    serve requests. It touches nothing else, so a probe costs the least a request can."""

    def serve(environ, start_response):
        if environ.get("PATH_INFO") != "/healthz":
            return application(environ, start_response)
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(LIVE)))]
        )
        return [LIVE]

    return serve


def readiness() -> JsonResponse:
    """The database answers and its schema matches this code's migrations."""
    global _migrations_applied
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrations_applied:
            executor = MigrationExecutor(connection)
            unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if unapplied:
                return unavailable(f"unapplied migrations: {len(unapplied)}")
            _migrations_applied = True
    except DatabaseError:
        logger.exception("Readiness check: the database is unreachable")
        return unavailable("database unreachable")
    return answer({"status": "ok"})


def unavailable(reason: str) -> JsonResponse:
    return answer({"status": "unavailable", "reason": reason}, status=503)


PROBES = {"/readyz": readiness}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        return probe()
