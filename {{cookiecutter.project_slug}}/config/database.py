"""DATABASES["default"] from DATABASE_URL: an SQLite file by default, PostgreSQL when set."""

from pathlib import Path

from environs import Env

POSTGRESQL = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"


def database_settings(env: Env, base_dir: Path) -> dict:
    config = env.dj_db_url("DATABASE_URL", default=f"sqlite:///{base_dir / 'db.sqlite3'}")
    options = config.setdefault("OPTIONS", {})
    if config["ENGINE"] == POSTGRESQL:
        # Django's native psycopg pool: each worker process keeps its own pool, so a request
        # never waits for a TCP + TLS + auth handshake. One connection per gunicorn thread
        # (WORKER_THREADS, set by gunicorn.conf.py) is all a worker can use at once, hence the
        # default size; the pool opens them only as concurrency needs them. The pool owns
        # connection lifetime, so Django must not keep its own (CONN_MAX_AGE=0 is required).
        threads = env.int("WORKER_THREADS", default=1)
        max_size = env.int("DATABASE_POOL_MAX_SIZE", default=threads)
        options["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": max_size,
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
        config["CONN_MAX_AGE"] = 0
    elif config["ENGINE"] == SQLITE:
        # Several gunicorn workers share one file: WAL lets readers run beside one writer,
        # IMMEDIATE takes the write lock up front instead of failing halfway through a
        # transaction, and the timeout makes a writer wait for the lock instead of erroring.
        options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 5)
        config["CONN_MAX_AGE"] = 600
        config["CONN_HEALTH_CHECKS"] = True
    return config
