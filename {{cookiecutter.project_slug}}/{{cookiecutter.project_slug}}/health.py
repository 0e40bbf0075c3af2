"""Liveness (/healthz) and readiness (/readyz) probes.

/healthz is answered by the WSGI application before Django (config/wsgi.py), /readyz first in
MIDDLEWARE. So both answer whatever Host header a Docker or Kubernetes probe sends (no
ALLOWED_HOSTS check), are never redirected to HTTPS, and skip sessions, CSRF and URL
resolving. Their bodies never carry error details: those go to the log, one line each time
the answer changes.
"""

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

logger = logging.getLogger(__name__)

# Longest wait for PostgreSQL's answer: an unreachable server gets a quick 503, not one after
# DATABASE_POOL_TIMEOUT, which a probe with a 1 s timeout would see as a hung instance.
PROBE_TIMEOUT = 0.5
_asker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz")  # see check_postgresql
_question = None

# Once all migrations are applied they stay applied while this process runs: check once.
_migrations_applied = False
_last_reason = None  # what the previous probe answered, so the log gets each change once


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


class NotReady(Exception):
    """Why no page can be served: `reason` for the body, `detail` for the log."""

    def __init__(self, reason: str, detail: object = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def readiness() -> JsonResponse:
    """This instance can serve pages: a host is allowed, the static files are collected, and
    the database answers, takes writes and has this code's migrations. Each fault answers 503
    with its reason, and the next probe after it is fixed answers 200: nothing needs a restart.
    """
    global _last_reason
    try:
        check_hosts()
        check_static_files()
        check_database()
        reason = None
    except NotReady as not_ready:
        reason = not_ready.reason
        if reason != _last_reason:
            logger.warning("Not ready: %s (%s)", reason, not_ready.detail)
    if reason is None and _last_reason is not None:
        logger.info("Ready again after: %s", _last_reason)
    _last_reason = reason
    if reason:
        return answer({"status": "unavailable", "reason": reason}, status=503)
    return answer({"status": "ok"})


def check_hosts():
    """Django answers 400 to every request when no host is allowed (but localhost in DEBUG)."""
    if not settings.ALLOWED_HOSTS and not settings.DEBUG:
        raise NotReady("no allowed hosts", "DJANGO_ALLOWED_HOSTS is empty")


def check_static_files():
    """Every page that links a static file fails (500) without collectstatic's manifest. The
    storage reads the manifest once; while it has none, look again, so collectstatic run
    after start-up makes pages work without a restart."""
    storage = staticfiles_storage
    if not storage.hashed_files:
        storage.hashed_files, storage.manifest_hash = storage.load_manifest()
    if not storage.hashed_files:
        raise NotReady("static files not collected", f"no {storage.path(storage.manifest_name)}")


def check_database():
    """The database answers (PostgreSQL: within PROBE_TIMEOUT), has every migration
    applied, and takes writes. A connection that fails is closed, as a broken one does not
    mend: the next probe opens a fresh one."""
    try:
        if connection.vendor == "postgresql":
            check_postgresql()  # first, as Django would wait DATABASE_POOL_TIMEOUT
        check_migrations()
        if connection.vendor == "sqlite":
            check_sqlite()  # after, as it writes to the migrations' table
    except DatabaseError as error:
        connection.close()
        read_only = getattr(error.__cause__, "sqlite_errorname", "") == "SQLITE_READONLY"
        reason = "database read-only" if read_only else "database unreachable"
        raise NotReady(reason, error) from None


def check_migrations():
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if unapplied:
            raise NotReady(f"unapplied migrations: {len(unapplied)}", unapplied[0][0])
        _migrations_applied = True


def check_postgresql():
    """Django's pool hands out a connection, which may write (a standby or a database with
    default_transaction_read_only may not), within PROBE_TIMEOUT.

    Asked in the probes' own thread, so that a server that never answers (a lost host, a
    frozen one) costs a probe PROBE_TIMEOUT, not the pool's timeout or TCP's minutes. A
    question still unanswered is waited for again, never asked twice."""
    global _question
    if _question is None or _question.done():
        _question = _asker.submit(postgresql_read_only)
    try:
        read_only = _question.result(timeout=PROBE_TIMEOUT)
    except TimeoutError:
        raise NotReady("database unreachable", f"no answer within {PROBE_TIMEOUT} s") from None
    if read_only:
        raise NotReady("database read-only", "transaction_read_only is on")


def postgresql_read_only() -> bool:
    pool = connection.pool
    with connection.wrap_database_errors:  # psycopg's errors (PoolTimeout too), as Django's
        pool.open()  # as Django does on first use; it connects in the background
        with pool.connection(timeout=PROBE_TIMEOUT) as pooled:
            (read_only,) = pooled.execute("SHOW transaction_read_only").fetchone()
            if read_only == "on":
                pooled.close()  # so the pool replaces it: it may keep the setting it started with
    return read_only == "on"


def check_sqlite():
    """This worker's connection, and the files any new connection opens, take writes.

    The files: the database, its -wal and -shm files, and the directory, where SQLite creates
    them. A connection opened while the file was read-only stays read-only (it is closed by
    check_database). A write that changes nothing checks the connection: it holds the write
    lock for microseconds, and does not wait for it (when another writer holds it, the
    database takes writes). A connection that cannot write fails it with SQLITE_READONLY."""
    database = Path(connection.settings_dict["NAME"])
    files = [database.parent, database, *(Path(f"{database}{end}") for end in ("-wal", "-shm"))]
    for path in [] if connection.is_in_memory_db() else files:
        if path.exists() and not os.access(path, os.W_OK):
            raise NotReady("database read-only", f"{path} is read-only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        (busy_timeout,) = cursor.fetchone()
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            cursor.execute("DELETE FROM django_migrations WHERE 0")
        except DatabaseError as error:
            if getattr(error.__cause__, "sqlite_errorname", "") != "SQLITE_BUSY":
                raise
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")


PROBES = {"/readyz": readiness}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        return probe()
