"""Every environment variable this project reads, declared once: what it accepts, its default
and what it does.

config/settings.py (with database.py, mail.py, logs.py) and gunicorn.conf.py take their values
from read(). README.md's table and .env.example are rendered from these declarations by
`python scripts/render_variables.py`, and a test fails when they differ: after changing a
declaration, run that command. A default may be computed from the values above it (or given
in the environment); where it is, `shown_default` says how in words.
"""

import logging
import math
import os
import re
from pathlib import Path

from config import cpus
from config.environment import (
    BOOLEAN,
    LOG_LEVEL,
    PATH,
    Example,
    Kind,
    Section,
    Values,
    Variable,
    choice,
    integer,
    listing,
    number,
    words,
)
from config.environment import read as read_sections

BASE_DIR = Path(__file__).resolve().parent.parent
# gunicorn holds this many connections at once across its workers, a thread each, so that
# slow clients cannot take every worker (docs/production.md, "Threads and slow clients").
CONNECTIONS = 64
# REQUEST_BODY_MAX_MB's unit, as the proxy (Caddy) counts it.
MEGABYTE = 1_000_000
# What .env.example sets, and why.
PLAIN_HTTP = "Set for a local run over plain HTTP: remove it once SITE_ADDRESS names a domain."
FRESH_SECRET = Example("replace-me", "The generator put a fresh one in .env.")
# How a message that asks for a secret says to make one.
MAKE_ONE = 'make one with python -c "import secrets; print(secrets.token_urlsafe(50))"'
BIND_ADDRESS = re.compile(r"unix:.+|(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})")


def _insecure_key_with_debug(values) -> str:
    # Only with DEBUG on: in production a known key would make signed data forgeable.
    return "django-insecure-development-only-key" if values["DJANGO_DEBUG"] else ""  # noqa: S105


def _secret_key_is_set(key: str, values) -> str | None:
    if not key:
        return f"it is required while DJANGO_DEBUG is off; {MAKE_ONE}"
    return _not_the_placeholder("it", key, values)


def _not_the_placeholder(what: str, secret: str, values) -> str | None:
    # The example files' placeholder is public: in production it would be a known secret.
    if secret != FRESH_SECRET.value or values["DJANGO_DEBUG"]:
        return None
    placeholder = f"{what} is the placeholder of the example files"
    return f"{placeholder}, refused while DJANGO_DEBUG is off; {MAKE_ONE}"


DJANGO = Section(
    "Django",
    "config/settings.py",
    (
        Variable(
            "DJANGO_DEBUG",
            BOOLEAN,
            False,
            "Debug pages. Never on in production: they show settings and code.",
        ),
        Variable(
            "DJANGO_SECRET_KEY",
            words("a long random text"),
            _insecure_key_with_debug,
            "Signs sessions, password resets and other tokens.",
            shown_default="none, required unless DJANGO_DEBUG is on",
            example=FRESH_SECRET,
            secret=True,
            rule=_secret_key_is_set,
        ),
        Variable(
            "DJANGO_ALLOWED_HOSTS",
            listing("comma-separated host names"),
            lambda values: ["localhost", "127.0.0.1", "[::1]"] if values["DJANGO_DEBUG"] else [],
            "Host names this site answers to; any other Host header gets a 400.",
            shown_default="empty (localhost,127.0.0.1,[::1] with DJANGO_DEBUG on)",
            example=Example(
                "localhost,127.0.0.1,[::1],{{ cookiecutter.domain_name }}",
                "A local run's names, and the site's own.",
            ),
        ),
        Variable(
            "DJANGO_CSRF_TRUSTED_ORIGINS",
            listing("comma-separated origins, like https://example.com", lambda o: "://" in o),
            [],
            "Other origins whose pages may POST forms to this site.",
        ),
        Variable(
            "DJANGO_SECURE_SSL_REDIRECT",
            BOOLEAN,
            True,
            "Redirect plain HTTP to HTTPS (the probes are never redirected).",
            example=Example("false", PLAIN_HTTP),
        ),
        Variable(
            "DJANGO_SECURE_HSTS_SECONDS",
            integer(0, 63_072_000),
            31_536_000,
            "Seconds browsers must use HTTPS only (HSTS); start low if unsure, they remember it.",
            example=Example("0", PLAIN_HTTP),
        ),
        Variable(
            "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS",
            BOOLEAN,
            True,
            "HSTS for every subdomain too.",
        ),
        Variable(
            "DJANGO_SECURE_HSTS_PRELOAD",
            BOOLEAN,
            True,
            "Allows submitting the domain to the browsers' HSTS preload list.",
        ),
        Variable(
            "DJANGO_SECURE_COOKIES",
            BOOLEAN,
            True,
            "Session and CSRF cookies over HTTPS only.",
            example=Example("false", PLAIN_HTTP),
        ),
        Variable(
            "DJANGO_ADMIN_URL",
            words("a path ending in /, like admin/", lambda p: p.endswith("/") and p[0] != "/"),
            "admin/",
            "Where the admin lives.",
        ),
        Variable(
            "DJANGO_STATIC_ROOT",
            PATH,
            BASE_DIR / "staticfiles",
            "Where collectstatic writes the static files.",
            shown_default="staticfiles/ next to manage.py",
        ),
        Variable(
            "DJANGO_MEDIA_ROOT",
            PATH,
            BASE_DIR / "media",
            "Where uploaded files are kept, unless MEDIA_S3_BUCKET is set.",
            shown_default="media/ next to manage.py (a volume in compose.yaml)",
        ),
        Variable(
            "REQUEST_BODY_MAX_MB",
            integer(1, 10_000),
            10,
            "Largest request body (an upload, a form), in megabytes: a larger one is refused "
            "with 413 before any of it is stored, by Django and by the proxy (Caddyfile).",
        ),
        Variable(
            "DJANGO_DEFAULT_FROM_EMAIL",
            words("an email address, or Name <address>"),
            "webmaster@{{ cookiecutter.domain_name }}",
            "Sender of the site's mail.",
        ),
        Variable(
            "DJANGO_SERVER_EMAIL",
            words("an email address, or Name <address>"),
            lambda values: values["DJANGO_DEFAULT_FROM_EMAIL"],
            "Sender of the error mail sent to the admins.",
            shown_default="DJANGO_DEFAULT_FROM_EMAIL",
        ),
    ),
)


# --- Database -----------------------------------------------------------------------------------


def _database_url(env, name: str) -> dict:
    url = env.dj_db_url(name)
    # postgres:// names no database; sqlite:// and sqlite://db.sqlite3 (two slashes) mean one
    # in memory, which each process would have to itself, empty.
    if url["NAME"] in ("", ":memory:"):
        raise ValueError("no database named")
    return url


def _sqlite_next_to_manage_py(values) -> dict:
    from dj_database_url import parse  # what environs parses a given DATABASE_URL with

    return parse(f"sqlite:///{BASE_DIR / 'db.sqlite3'}")


DATABASE = Section(
    "Database",
    "config/database.py",
    (
        Variable(
            "DATABASE_URL",
            Kind(
                "a database URL: sqlite:///path/to/file or postgres://user:password@host:5432/name",
                _database_url,
            ),
            _sqlite_next_to_manage_py,
            "The database.",
            shown_default="an SQLite file, db.sqlite3 next to manage.py",
            secret=True,  # it may hold a password
            rule=lambda url, values: _not_the_placeholder("its password", url["PASSWORD"], values),
        ),
        Variable(
            "DATABASE_POOL_MIN_SIZE",
            integer(0, 1000),
            1,
            "PostgreSQL: connections each worker process keeps open while idle.",
        ),
        # One connection per thread is all a worker can use at once: no thread waits for one.
        Variable(
            "DATABASE_POOL_MAX_SIZE",
            integer(1, 1000),
            lambda values: values["GUNICORN_THREADS"],
            "PostgreSQL: most connections per worker process, opened as concurrency needs them.",
            shown_default="GUNICORN_THREADS (the threads of one worker)",
            rule=lambda size, values: (
                None
                if size >= values["DATABASE_POOL_MIN_SIZE"]
                else f"expected at least DATABASE_POOL_MIN_SIZE={values['DATABASE_POOL_MIN_SIZE']}"
            ),
        ),
        Variable(
            "DATABASE_POOL_TIMEOUT",
            number(0.1, 600),
            10,
            "PostgreSQL: seconds a request waits for a free connection before it fails.",
        ),
    ),
)


# --- Mail ---------------------------------------------------------------------------------------


def _mail_url(env, name: str) -> dict:
    url = env.dj_email_url(name)
    if "EMAIL_BACKEND" not in url:  # dj-email-url knows the scheme of no backend
        raise ValueError("unknown scheme")
    return url


def _local_smtp_server(values) -> dict:
    from dj_email_url import parse  # what environs parses a given EMAIL_URL with

    return parse("smtp://localhost:25")


MAIL = Section(
    "Mail",
    "config/mail.py",
    (
        Variable(
            "EMAIL_URL",
            Kind(
                "smtp://, smtps:// (TLS on connect), submission:// (STARTTLS) or console://, "
                "like submission://user:password@smtp.example.com:587",
                _mail_url,
            ),
            _local_smtp_server,
            "Where outgoing mail goes.",
            shown_default="smtp://localhost:25",
            secret=True,  # it may hold a password
        ),
    ),
)


# --- Logs ---------------------------------------------------------------------------------------

LOGS = Section(
    "Logs",
    "config/logs.py",
    (
        Variable(
            "DJANGO_LOG_LEVEL",
            LOG_LEVEL,
            logging.INFO,
            "Level of Django's log on stdout.",
            shown_default="info",
        ),
        Variable(
            "DJANGO_LOG_FORMAT",
            choice("text", "json"),
            "text",
            "json: one JSON object per line, for log collectors.",
        ),
    ),
)


# --- gunicorn -----------------------------------------------------------------------------------


def _valid_bind(address: str) -> bool:
    match = BIND_ADDRESS.fullmatch(address)
    return match is not None and (not match[2] or 1 <= int(match[2]) <= 65535)


def _threads(values) -> int:
    # Behind a buffering proxy, or with an explicit sync class: one thread. Otherwise
    # CONNECTIONS across the workers, so that slow clients cannot take them all.
    given_class = values.given.get("GUNICORN_WORKER_CLASS")
    if given_class == "sync" or (given_class is None and values["GUNICORN_BEHIND_PROXY"]):
        return 1
    return math.ceil(CONNECTIONS / values["GUNICORN_WORKERS"])


def _one_thread_for_sync(worker_class: str, values) -> str | None:
    threads = values["GUNICORN_THREADS"]
    if worker_class == "sync" and threads > 1:
        return f"expected gthread with GUNICORN_THREADS={threads}, or 1 thread"
    return None


def _jitter_within_max_requests(jitter: int, values) -> str | None:
    limit = values["GUNICORN_MAX_REQUESTS"]
    return None if jitter <= limit else f"expected at most GUNICORN_MAX_REQUESTS={limit}"


GUNICORN = Section(
    "gunicorn",
    "gunicorn.conf.py",
    (
        # Every interface: gunicorn's own default, 127.0.0.1, is unreachable from outside a
        # container.
        Variable(
            "GUNICORN_BIND",
            listing("comma-separated host:port, [ipv6]:port or unix:/path", _valid_bind),
            lambda values: [f"0.0.0.0:{values['PORT']}"],
            "Addresses to listen on.",
            shown_default="0.0.0.0:$PORT",
        ),
        Variable(
            "PORT",
            integer(1, 65535),
            8000,
            "Port to listen on when GUNICORN_BIND is not set (platforms like Heroku set it).",
        ),
        Variable(
            "GUNICORN_BEHIND_PROXY",
            BOOLEAN,
            False,
            "A proxy in front reads each request whole and logs it (compose.yaml sets this): "
            "then sync workers and no access log are the defaults.",
        ),
        Variable(
            "GUNICORN_WORKERS",
            integer(1, 256),
            lambda values: values["WEB_CONCURRENCY"] or cpus.default_workers(),
            "Worker processes, each a whole Django process.",
            shown_default=(
                f"WEB_CONCURRENCY, else 2 x usable CPUs + 1, at most {cpus.MAX_AUTO_WORKERS} "
                "(config/cpus.py)"
            ),
        ),
        Variable(
            "WEB_CONCURRENCY",
            integer(1, 256),
            None,
            "The worker count under the name many platforms set; GUNICORN_WORKERS wins.",
        ),
        Variable(
            "GUNICORN_THREADS",
            integer(1, 64),
            _threads,
            "Threads per worker; 1 means sync workers.",
            shown_default=(
                f"{CONNECTIONS} / workers, rounded up; 1 behind a proxy or for "
                "GUNICORN_WORKER_CLASS=sync"
            ),
        ),
        Variable(
            "GUNICORN_WORKER_CLASS",
            choice("sync", "gthread"),
            lambda values: "gthread" if values["GUNICORN_THREADS"] > 1 else "sync",
            "Worker type.",
            shown_default="sync with 1 thread, else gthread",
            rule=_one_thread_for_sync,
        ),
        Variable(
            "GUNICORN_MAX_REQUESTS",
            integer(0, 10_000_000),
            10_000,
            "Requests after which a worker is replaced, bounding memory leaks; 0: never.",
        ),
        Variable(
            "GUNICORN_MAX_REQUESTS_JITTER",
            integer(0, 10_000_000),
            lambda values: values["GUNICORN_MAX_REQUESTS"] // 10,
            "Up to this many more requests per worker, so workers are not replaced together.",
            shown_default="GUNICORN_MAX_REQUESTS / 10",
            rule=_jitter_within_max_requests,
        ),
        Variable(
            "GUNICORN_PRELOAD_APP",
            BOOLEAN,
            True,
            "Import Django once, in the master, before forking workers; code changes then need "
            "a restart.",
        ),
        Variable(
            "GUNICORN_BACKLOG",
            integer(1, 65535),
            2048,
            "Connections the kernel queues while every thread is busy (at most "
            "net.core.somaxconn).",
        ),
        Variable(
            "GUNICORN_TIMEOUT",
            integer(1, 3600),
            30,
            "Seconds before a silent worker is killed: with sync workers, a request's limit.",
        ),
        Variable(
            "GUNICORN_READ_TIMEOUT",
            integer(1, 3600),
            20,
            "gthread: seconds a client gets to send a request, plus one per 500 bytes sent; a "
            "slower one gets a 408. Requests are read without a thread.",
            used_in="config/worker.py",
        ),
        Variable(
            "GUNICORN_GRACEFUL_TIMEOUT",
            integer(1, 3600),
            30,
            "Seconds requests in flight get to finish on SIGTERM.",
        ),
        Variable(
            "GUNICORN_KEEPALIVE",
            integer(0, 300),
            0,
            "Seconds an idle connection stays open (gthread); if on, more than the idle "
            "timeout of the load balancer in front.",
            shown_default="0 (off)",
        ),
        Variable(
            "GUNICORN_LOG_LEVEL",
            choice("debug", "info", "warning", "error", "critical"),
            "info",
            "Level of gunicorn's own log, on stderr.",
        ),
        Variable(
            "GUNICORN_ACCESS_LOG",
            BOOLEAN,
            lambda values: not values["GUNICORN_BEHIND_PROXY"],
            "One line per request on stdout, with its duration.",
            shown_default="on; off behind a proxy, which logs each request itself",
        ),
        Variable(
            "GUNICORN_LIMIT_REQUEST_LINE",
            integer(0, 8190),
            4094,
            "Longest request line, in bytes; 0: no limit.",
        ),
        Variable(
            "GUNICORN_LIMIT_REQUEST_FIELDS",
            integer(1, 32768),
            100,
            "Most headers in a request.",
        ),
        # 0 is refused: gunicorn documents it as unlimited but treats it as 8190.
        Variable(
            "GUNICORN_LIMIT_REQUEST_FIELD_SIZE",
            integer(1, 65536),
            8190,
            "Longest header, in bytes.",
        ),
        Variable(
            "GUNICORN_CONTROL_SOCKET",
            words("a file path"),
            "",
            "gunicorn's control socket (gunicornc); unset, nothing writes to ~/.gunicorn.",
            shown_default="unset, so off",
        ),
        Variable(
            "FORWARDED_ALLOW_IPS",
            Kind("IPs or CIDRs, comma-separated, or *"),
            "127.0.0.1,::1",
            "Proxies whose X-Forwarded-Proto gunicorn (and so Django) trusts; gunicorn reads "
            "it itself, from the real environment only.",
            used_in="gunicorn itself",
        ),
    ),
)


# --- The proxy in front (Caddy) -----------------------------------------------------------------

PROXY = Section(
    "The proxy in front (Caddy)",
    "Caddyfile",
    (
        Variable(
            "SITE_ADDRESS",
            Kind("http://, or domain names, comma-separated"),
            "http://",
            "http://: plain HTTP for any host name. The site's domain names: HTTPS, with "
            "certificates the proxy obtains and renews itself, and HTTP redirected to it.",
        ),
        Variable(
            "PROXY_CERTIFICATE_ISSUER",
            Kind("acme or internal"),
            "acme",
            "Where certificates come from: acme, a public CA (Let's Encrypt); internal, the "
            "proxy's own CA (for tests and private networks).",
        ),
        Variable(
            "PROXY_UPSTREAM",
            Kind("host:port"),
            "web:8000",
            "Where gunicorn listens (to run the Caddyfile outside compose).",
        ),
        Variable(
            "PROXY_ROOT",
            Kind("a folder"),
            "/srv",
            "The folder whose static/ holds the collected files the proxy serves (compose.yaml's "
            "static volume); a file not there is asked of gunicorn.",
        ),
        Variable(
            "PROXY_ADMIN",
            Kind("host:port, or off"),
            "localhost:2019",
            "Caddy's admin endpoint, inside the proxy's container only; its healthcheck asks it.",
        ),
    ),
)


# --- Docker Compose -----------------------------------------------------------------------------

COMPOSE = Section(
    "Docker Compose",
    "compose.yaml",
    (
        Variable(
            "WEB_HOST",
            Kind("an address of this host"),
            "127.0.0.1",
            "Address the proxy is published on; 127.0.0.1: this machine only, 0.0.0.0: all.",
        ),
        Variable(
            "WEB_PORT",
            Kind("a port"),
            8000,
            "Port the proxy is published on for HTTP (80 for a public site).",
        ),
        Variable(
            "WEB_HTTPS_PORT",
            Kind("a port"),
            8443,
            "Port the proxy is published on for HTTPS, TCP and UDP (443 for a public site).",
        ),
{%- if cookiecutter.database == "postgresql" %}
        Variable(
            "POSTGRES_PASSWORD",
            Kind("a long random text"),
            "",
            "Password of the PostgreSQL server; it is set when its volume is first created.",
            shown_default="none, required",
            example=FRESH_SECRET,
            secret=True,
        ),
{%- endif %}
    ),
)


# --- Media files in object storage --------------------------------------------------------------

MEDIA_S3 = Section(
    "Uploads in object storage (S3)",
    "config/media.py",
    (
        Variable(
            "MEDIA_S3_BUCKET",
            words("a bucket name"),
            "",
            "Keep uploaded files in this S3 bucket (or an S3-compatible one) instead of "
            "DJANGO_MEDIA_ROOT: needed once replicas run on several hosts.",
            shown_default="unset, so on disk",
        ),
        Variable(
            "MEDIA_S3_ENDPOINT_URL",
            words("a URL, like https://s3.example.com", lambda url: "://" in url),
            "",
            "The storage service of an S3-compatible provider (MinIO, R2, Scaleway...).",
            shown_default="unset, so Amazon S3",
        ),
        Variable(
            "MEDIA_S3_REGION",
            words("a region, like eu-west-1"),
            "",
            "The bucket's region.",
            shown_default="unset, so the provider's own",
        ),
        Variable(
            "MEDIA_S3_ACCESS_KEY_ID",
            words("an access key ID"),
            "",
            "The key ID of credentials allowed to read and write the bucket.",
            shown_default="unset, so where AWS tools look (AWS_ACCESS_KEY_ID, a role...)",
        ),
        Variable(
            "MEDIA_S3_SECRET_ACCESS_KEY",
            words("a secret access key"),
            "",
            "The secret of those credentials.",
            shown_default="unset, so where AWS tools look",
            secret=True,
        ),
        Variable(
            "MEDIA_S3_CUSTOM_DOMAIN",
            words("a host name, like media.example.com", lambda domain: "://" not in domain),
            "",
            "A public domain (a CDN) in front of the bucket: file links point there, unsigned. "
            "Unset, links point at the bucket itself, signed and valid for an hour.",
            shown_default="unset, so signed links",
        ),
    ),
)


# --- Error tracking (Sentry) --------------------------------------------------------------------


def _sentry_dsn(dsn: str) -> bool:
    # The SDK's own parser, imported only when a DSN is given (it takes a second to import).
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(dsn)
    except BadDsn:
        return False
    return True


ERROR_TRACKING = Section(
    "Error tracking",
    "config/sentry.py",
    (
        Variable(
            "SENTRY_DSN",
            words("a Sentry DSN, like https://key@o0.ingest.sentry.io/0", _sentry_dsn),
            "",
            "Where errors are sent (Sentry, or a compatible service); unset, nothing is sent.",
            shown_default="unset, so off",
        ),
        Variable(
            "SENTRY_ENVIRONMENT",
            words("a name, like production or staging"),
            "production",
            "The environment events are filed under.",
        ),
        Variable(
            "SENTRY_RELEASE",
            words("a version, commit or image tag"),
            "",
            "The release events are filed under.",
            shown_default="in the image, its RELEASE build argument (the pipelines give the "
            "commit SHA); else the commit of a git checkout, or the one a platform sets "
            "(Heroku's SOURCE_VERSION...), else none",
        ),
        Variable(
            "SENTRY_TRACES_SAMPLE_RATE",
            number(0, 1),
            0,
            "Share of requests traced for performance; the probes and static files never are.",
            shown_default="0 (off)",
        ),
    ),
)


# --- Where the values come from -----------------------------------------------------------------

DEFAULT_ENV_FILE = str(BASE_DIR / ".env")

SOURCE = Section(
    "Environment",
    "config/variables.py",
    (
        Variable(
            "ENV_FILE",
            Kind("a path, or empty for none"),
            DEFAULT_ENV_FILE,
            "The file read after the real environment, whose values always win over it.",
            shown_default=".env next to manage.py",
            env_file=False,
        ),
    ),
)

SECTIONS = (
    DJANGO,
    DATABASE,
    MAIL,
    MEDIA_S3,
    LOGS,
    GUNICORN,
    PROXY,
    COMPOSE,
    ERROR_TRACKING,
    SOURCE,
)
VARIABLES = tuple(variable for section in SECTIONS for variable in section.variables)


def read() -> Values:
    """Every variable of SECTIONS that Python reads, parsed and checked.

    Raises config.environment.InvalidEnvironment, with one line per bad variable."""
    return read_sections(SECTIONS, os.environ.get("ENV_FILE", DEFAULT_ENV_FILE))
