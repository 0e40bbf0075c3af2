"""gunicorn's configuration. Plain `gunicorn` in this folder reads it; command-line flags and
GUNICORN_CMD_ARGS override it.

Each value comes from an environment variable declared in config/variables.py, with its
default, what it accepts and what it does (README.md has them as a table). Why the defaults
are what they are: docs/production.md. A bad value stops gunicorn before any worker starts,
with one line per bad variable.
"""

import gc
import os
import sys

from config import cpus, variables
from config.environment import InvalidEnvironment

try:
    env = variables.read()
except InvalidEnvironment as invalid:
    sys.exit(invalid.report("gunicorn.conf.py"))

wsgi_app = "config.wsgi:application"  # so that plain `gunicorn` works
bind = env["GUNICORN_BIND"]

# Processes use the CPUs (Python runs one thread at a time in each); threads hold connections,
# 64 across the workers, so that slow clients cannot take every worker
# (docs/production.md, "Workers" and "Threads and slow clients").
workers = env["GUNICORN_WORKERS"]
threads = env["GUNICORN_THREADS"]
# gthread's worker, but reading each request before it takes a thread, so that stalled or
# trickling clients cost no thread (config/worker.py).
worker_class = {"sync": "sync", "gthread": "config.worker.ThreadWorker"}[
    env["GUNICORN_WORKER_CLASS"]
]
keepalive = env["GUNICORN_KEEPALIVE"]
# Without keep-alive, a worker accepts a connection only when it has a free thread, so new
# connections go to the idle workers (gunicorn's own 1000 lets one worker take them all).
worker_connections = threads if keepalive == 0 else 1000

# Recycling bounds slow memory leaks; with preload, a replacement worker is forked ready in
# milliseconds, so that recycling costs almost nothing (docs/production.md, "Recycling").
max_requests = env["GUNICORN_MAX_REQUESTS"]
max_requests_jitter = env["GUNICORN_MAX_REQUESTS_JITTER"]
preload_app = env["GUNICORN_PRELOAD_APP"]

# Room for bursts; a stuck sync worker killed; requests in flight finished on SIGTERM
# (docs/production.md, "Backlog", "Crashes and timeouts", "Stopping and reloading").
backlog = env["GUNICORN_BACKLOG"]
timeout = env["GUNICORN_TIMEOUT"]
graceful_timeout = env["GUNICORN_GRACEFUL_TIMEOUT"]

# The scheme (https or http) comes from X-Forwarded-Proto, the one header every proxy sets and
# ours overwrites, and only from the proxies in FORWARDED_ALLOW_IPS; gunicorn's other two
# (X-Forwarded-Ssl, X-Forwarded-Protocol) would pass through a proxy unchecked.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Oversized requests are refused before Django sees them.
limit_request_line = env["GUNICORN_LIMIT_REQUEST_LINE"]
limit_request_fields = env["GUNICORN_LIMIT_REQUEST_FIELDS"]
limit_request_field_size = env["GUNICORN_LIMIT_REQUEST_FIELD_SIZE"]

# Logs go to stdout and stderr, where container platforms collect them. An access line has the
# path and query string (values of token, password, ... masked) and the duration, as text or JSON
# like Django's lines; successful probes are left out. Written at a tenth of the cost of
# gunicorn's own lines (config/access_log.py).
loglevel = env["GUNICORN_LOG_LEVEL"]
accesslog = "-" if env["GUNICORN_ACCESS_LOG"] else None
errorlog = "-"
json_logs = env["DJANGO_LOG_FORMAT"] == "json"
logger_class = f"config.access_log.{'JsonAccessLogger' if json_logs else 'AccessLogger'}"

# Off unless asked for: containers run with a read-only filesystem and no usable HOME.
control_socket = env["GUNICORN_CONTROL_SOCKET"] or None
control_socket_disable = control_socket is None

# Heartbeat files on a disk-backed /tmp can block workers; /dev/shm is memory.
SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK | os.X_OK) else None


def pre_fork(server, worker):
    """Freeze the master's objects (all of Django, with preload) before each fork: the
    worker's garbage collector then never walks, so never copies, the memory it shares with
    the master, and a replacement worker serves sooner."""
    gc.freeze()


def when_ready(server):
    """Log the settings in force (command-line overrides included) once, at start."""
    cfg = server.cfg
    given = [name for name in ("GUNICORN_WORKERS", "WEB_CONCURRENCY") if name in env.given]
    source = given[0] if given else cpus.explain_default_workers()
    if cfg.workers != workers:
        source = "command line"
    parts = [
        f"workers={cfg.workers} ({source})",
        f"threads={cfg.threads}",
        f"worker_connections={cfg.worker_connections}",
        f"worker_class={cfg.worker_class_str}",
        f"max_requests={cfg.max_requests}",
        f"max_requests_jitter={cfg.max_requests_jitter}",
        f"backlog={cfg.backlog}",
        f"timeout={cfg.timeout}s",
        f"graceful_timeout={cfg.graceful_timeout}s",
        f"keepalive={cfg.keepalive}s",
        f"preload_app={cfg.preload_app}",
    ]
    server.log.info("Configuration: %s", " ".join(parts))
