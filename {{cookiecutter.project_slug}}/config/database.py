"""DATABASES["default"]: the database of DATABASE_URL, tuned for its engine."""

POSTGRESQL = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"


def database_settings(env) -> dict:
    config = dict(env["DATABASE_URL"])  # parsed by dj-database-url (config/variables.py)
    options = config.setdefault("OPTIONS", {})
    if config["ENGINE"] == POSTGRESQL:
        # Django's native psycopg pool: each worker process keeps its own, so a request never
        # waits for a TCP + TLS + auth handshake. The pool owns the connections' lifetime, so
        # Django must not keep its own (CONN_MAX_AGE=0 is required). It checks a connection
        # before handing it out (an empty query, CONN_HEALTH_CHECKS): after the server
        # restarts, requests get new connections instead of failing on the dead ones.
        options["pool"] = {
            "min_size": env["DATABASE_POOL_MIN_SIZE"],
            "max_size": env["DATABASE_POOL_MAX_SIZE"],
            "timeout": env["DATABASE_POOL_TIMEOUT"],
        }
        config["CONN_MAX_AGE"] = 0
        config["CONN_HEALTH_CHECKS"] = True
    elif config["ENGINE"] == SQLITE:
        # Several gunicorn workers share one file: WAL lets readers run beside one writer,
        # IMMEDIATE takes the write lock up front instead of failing halfway through a
        # transaction, and the timeout makes a writer wait for the lock instead of erroring.
        options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 5)
        # A connection is kept for 10 minutes; one a request fails on is closed at once
        # ({{ cookiecutter.project_slug }}/apps.py), as Django's health check always passes
        # SQLite's.
        config["CONN_MAX_AGE"] = 600
    return config
