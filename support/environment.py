"""The environment a server of a generated project gets: production settings, nothing read
from a .env file, and the test-only views (pythonpath/) on its path."""

import os
import secrets
from pathlib import Path

VIEWS = Path(__file__).resolve().parent / "pythonpath"
# Variables the project reads: the caller's own must not leak into its servers.
INHERITED_OUT = (
    "GUNICORN_",
    "DJANGO_",
    "DATABASE_",
    "MEDIA_S3_",
    "WEB_CONCURRENCY",
    "PORT",
    "ENV_FILE",
    "FORWARDED_ALLOW_IPS",
)
# What .env.example sets for a run over plain HTTP (config/variables.py, PLAIN_HTTP).
PLAIN_HTTP = {
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_SECURE_HSTS_SECONDS": "0",
    "DJANGO_SECURE_COOKIES": "false",
}


def server_environment(workdir: Path, **overrides: str) -> dict[str, str]:
    """For a server whose database and static files live in `workdir` (the server's address,
    GUNICORN_BIND, is set by support.server.Server)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(INHERITED_OUT) and name not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(
        ENV_FILE="",
        PYTHONPATH=str(VIEWS),
        DJANGO_SETTINGS_MODULE="support_settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        DJANGO_MEDIA_ROOT=str(workdir / "media"),
        GUNICORN_LOG_LEVEL="info",
    )
    env.update(overrides)
    return env
