"""gunicorn settings, each from an environment variable: the real environment first, then the
`.env` next to this file (see ENV_FILE); empty means unset. gunicorn loads this file from its
working directory (plain `gunicorn` is enough); command-line flags and GUNICORN_CMD_ARGS
override it.

Variable                           Default          Accepted           What it does
---------------------------------  ---------------  -----------------  ---------------------------
GUNICORN_BIND                      0.0.0.0:$PORT    host:port,         Addresses to listen on,
                                                    [ipv6]:port,       comma-separated.
                                                    unix:/path
PORT                               8000             1-65535            Port if no GUNICORN_BIND.
GUNICORN_WORKERS                   WEB_CONCURRENCY  1-256              Worker processes.
WEB_CONCURRENCY                    (1)              1-256              GUNICORN_WORKERS fallback.
GUNICORN_THREADS                   (6)              1-64               Threads per worker.
GUNICORN_WORKER_CLASS              (2)              sync, gthread      Worker type.
GUNICORN_MAX_REQUESTS              10000            0-10000000         Worker recycling; 0: never.
GUNICORN_MAX_REQUESTS_JITTER       MAX_REQUESTS/10  0 to MAX_REQUESTS  Staggers the recycling.
GUNICORN_PRELOAD_APP               true             boolean (3)        Import Django before fork.
GUNICORN_BACKLOG                   2048             1-65535            Queue of new connections.
GUNICORN_TIMEOUT                   30               1-3600 seconds     Kill a silent worker (8).
GUNICORN_GRACEFUL_TIMEOUT          30               1-3600 seconds     Time to finish, on SIGTERM.
GUNICORN_KEEPALIVE                 0 (off)          0-300 seconds      Idle keep-alive (7).
GUNICORN_LOG_LEVEL                 info             debug, info,       Error log (stderr) level.
                                                    warning, error,
                                                    critical
GUNICORN_ACCESS_LOG                true             boolean (3)        Access log on stdout.
GUNICORN_LIMIT_REQUEST_LINE        4094             0-8190 (0: none)   Longest request line.
GUNICORN_LIMIT_REQUEST_FIELDS      100              1-32768            Most headers per request.
GUNICORN_LIMIT_REQUEST_FIELD_SIZE  8190             1-65536            Longest header, in bytes.
GUNICORN_CONTROL_SOCKET            unset (off)      a file path        Control socket (gunicornc).
FORWARDED_ALLOW_IPS                127.0.0.1,::1    IPs, CIDRs or *    Trusted proxies (4).
ENV_FILE                           .env             a path, or empty   File read for defaults;
                                                                       empty: none (5).

(1) 2 x usable CPUs + 1, at most 12 (memory: each worker is a whole Django process). Usable
    CPUs: those this process may run on (affinity), lowered to the cgroup CPU quota rounded up
    (docker --cpus, Kubernetes CPU limits).
(2) sync if GUNICORN_THREADS is 1, else gthread; sync with more threads is an error, and
    GUNICORN_WORKER_CLASS=sync alone means 1 thread.
(3) true/false, yes/no, on/off, 1/0, t/f, y/n.
(4) Proxies whose X-Forwarded-* headers are trusted. Read by gunicorn itself, from the real
    environment only (a value in .env is ignored).
(5) Read from the real environment; config/settings.py honours it the same way.
(6) 64 / workers, rounded up (13 with 5 workers; 1, so sync, from 64 workers): the server
    then holds 64 connections at once, each with a thread of its own, so 50 slow clients
    cannot stop it answering. docs/production.md gives the figures, and the cases for 1.
(7) gthread only (sync never keeps a connection). Off, a worker takes a connection only when
    it has a free thread, so busy workers leave new ones to idle workers. On, it keeps idle
    connections too, up to 1000 (gunicorn's worker_connections).
(8) sync: a request running longer is killed with its worker. gthread: only a worker whose
    main loop froze is; a long request runs on (bound it in the proxy and the app).

A bad value stops gunicorn before any worker starts, with one line per bad variable on stderr,
e.g. `gunicorn.conf.py: GUNICORN_WORKERS='abc' is invalid: expected an integer from 1 to 256`.
"""

import gc
import math
import os
import re
import sys
from pathlib import Path

from environs import Env, EnvError
from marshmallow.validate import Range

MAX_AUTO_WORKERS = 12
CLASSES = ("sync", "gthread")
COUNTS = ("max_requests", "max_requests_jitter", "backlog")  # logged by when_ready
SECONDS = ("timeout", "graceful_timeout", "keepalive")
BIND_RE = re.compile(r"unix:.+|(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})")

env = Env()
errors: list[str] = []


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:
        return ""


def cgroup_cpu_quota(
    cgroup_root="/sys/fs/cgroup", proc_cgroup="/proc/self/cgroup"
) -> float | None:
    """CPUs allowed by the cgroup quota (0.5, 2.0, ...), or None: no (readable) limit."""
    root = Path(cgroup_root)
    own = [line[3:] for line in _read(Path(proc_cgroup)).splitlines() if line.startswith("0::")]
    v2 = root / own[0].strip("/") / "cpu.max" if own else root / "cpu.max"
    v2 = v2 if v2.is_file() else root / "cpu.max"  # cgroup v2, own group first
    try:
        if v2.is_file():
            quota, period = _read(v2).split()
            if quota == "max":
                return None
        else:  # cgroup v1
            quota = _read(root / "cpu" / "cpu.cfs_quota_us")
            period = _read(root / "cpu" / "cpu.cfs_period_us")
        quota, period = int(quota), int(period)
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None  # v1 "no limit": quota -1


def affinity_cpus() -> int:
    """CPUs this process may run on (os.cpu_count() where affinity is unavailable)."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux only
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _usable(affinity: int, quota: float | None) -> int:
    return max(1, affinity if quota is None else min(affinity, math.ceil(quota)))


def usable_cpus(cgroup_root="/sys/fs/cgroup", proc_cgroup="/proc/self/cgroup") -> int:
    return _usable(affinity_cpus(), cgroup_cpu_quota(cgroup_root, proc_cgroup))


def default_workers(
    cgroup_root="/sys/fs/cgroup", proc_cgroup="/proc/self/cgroup"
) -> tuple[int, str]:
    """(workers, how they were computed): 2 x usable CPUs + 1, at most MAX_AUTO_WORKERS."""
    affinity, quota = affinity_cpus(), cgroup_cpu_quota(cgroup_root, proc_cgroup)
    cpus = _usable(affinity, quota)
    workers = min(2 * cpus + 1, MAX_AUTO_WORKERS)
    capped = "" if workers == 2 * cpus + 1 else f", capped at {MAX_AUTO_WORKERS}"
    quota_text = "none" if quota is None else f"{quota:g}"
    how = f"2 x {cpus} usable CPUs + 1{capped} (affinity {affinity}, cgroup quota "
    return workers, f"{how}{quota_text})"


def valid_bind(address: str) -> bool:
    match = BIND_RE.fullmatch(address)
    return match is not None and (not match[2] or 1 <= int(match[2]) <= 65535)


def _raw(name: str) -> str:
    return env.str(name, "").strip()


def _invalid(name: str, expected: str) -> None:
    errors.append(f"gunicorn.conf.py: {name}={_raw(name)!r} is invalid: expected {expected}")


def _int(name: str, default, low: int, high: int):
    if not _raw(name):
        return default
    try:
        return env.int(name, validate=Range(low, high))
    except EnvError:
        _invalid(name, f"an integer from {low} to {high}")
        return default


def _bool(name: str, default: bool) -> bool:
    if not _raw(name):
        return default
    try:
        return env.bool(name)
    except EnvError:
        _invalid(name, "a boolean: true/false, yes/no, on/off, 1/0")
        return default


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name).lower() or default
    if value not in choices:
        _invalid(name, "one of " + ", ".join(choices))
        return default
    return value


env_file = os.environ.get("ENV_FILE", str(Path(__file__).with_name(".env")))
try:  # recurse=False: that file only; a missing one is fine
    if env_file:
        env.read_env(env_file, recurse=False)
except (OSError, ValueError) as exc:
    errors.append(f"gunicorn.conf.py: cannot read {env_file}: {exc}")

# Default on every interface: gunicorn's own default, 127.0.0.1, is unreachable from outside
# a container.
bind = [address.strip() for address in _raw("GUNICORN_BIND").split(",") if address.strip()]
if not all(valid_bind(address) for address in bind):
    _invalid("GUNICORN_BIND", "comma-separated host:port, [ipv6]:port or unix:/path")
if not bind:
    port = _int("PORT", None, 1, 65535)  # set by most platforms (Heroku, Cloud Run, ...)
    bind = [f"0.0.0.0:{port or 8000}"]

# Worker processes run Python on every usable CPU (threads share one GIL). Computed from
# the CPUs really usable (affinity and cgroup quota, not the host's count), capped because
# each worker is a whole Django process: past 12, memory runs out before the CPUs do.
# (gunicorn itself int()s a real WEB_CONCURRENCY on import: a non-number fails there first.)
if (workers := _int("GUNICORN_WORKERS", None, 1, 256)) is not None:
    workers_source = "GUNICORN_WORKERS"
elif (workers := _int("WEB_CONCURRENCY", None, 1, 256)) is not None:
    workers_source = "WEB_CONCURRENCY"
else:
    workers, workers_source = default_workers()

# A connection holds a thread from its first byte until its response: gunicorn reads the
# request with a blocking socket. So a slow client (a phone on a bad network, slowloris)
# ties up a sync worker entirely; 50 of them stopped 5 sync workers answering anyone. With
# CONNECTIONS threads across the workers, the server holds that many at once and keeps
# answering; a buffering reverse proxy in front (nginx) is the real fix. Threads also let a
# worker wait on I/O for several requests. An explicit sync class keeps its one thread.
CONNECTIONS = 64
explicit_sync = _raw("GUNICORN_WORKER_CLASS").lower() == "sync"
default_threads = 1 if explicit_sync else math.ceil(CONNECTIONS / workers)
threads = _int("GUNICORN_THREADS", default_threads, 1, 64)
worker_class = _choice("GUNICORN_WORKER_CLASS", "gthread" if threads > 1 else "sync", CLASSES)
# Published for the app, which inherits it: config/database.py sizes each worker's database
# pool to its threads, so no thread waits for a connection.
os.environ["WORKER_THREADS"] = str(threads)
if worker_class == "sync" and threads > 1:
    _invalid("GUNICORN_WORKER_CLASS", f"gthread with GUNICORN_THREADS={threads}, or 1 thread")

# Recycling bounds slow memory leaks. 10000, not the usual 1000: measured on this stack
# without preload, recycling every 1000 requests cost 30-60 % of throughput and held some
# requests 1-3 s (each replacement imported Django again); with preload, 3 % and 50 ms.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000, 0, 10_000_000)
# Jitter staggers the recycling so the workers do not all restart at once.
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10, 0, 10_000_000)
if max_requests_jitter > max_requests:
    _invalid("GUNICORN_MAX_REQUESTS_JITTER", f"at most GUNICORN_MAX_REQUESTS={max_requests}")

# Preload: Django is imported once in the master, so a recycled or replacement worker is
# forked ready (12 ms of CPU to its first answer, against ~0.5 s importing Django) and shares
# the master's memory copy-on-write (10 MB of its own, against 33 MB). Code changes need a
# full restart (a new container): SIGHUP re-reads this file, not the code. Safe with Django:
# it opens database connections lazily, in each worker, so none is shared across the fork.
preload_app = _bool("GUNICORN_PRELOAD_APP", True)

# Pending connections; the kernel silently caps it at net.core.somaxconn.
backlog = _int("GUNICORN_BACKLOG", 2048, 1, 65535)
# A worker silent this long is killed. A sync worker is silent while it serves a request, so
# this bounds a stuck request; a gthread worker's main loop stays awake, so it does not.
timeout = _int("GUNICORN_TIMEOUT", 30, 1, 3600)
# On SIGTERM (deploys), in-flight requests get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30, 1, 3600)
# Off: each response closes its connection (as sync workers always do). A gthread worker
# then takes a new connection only when it has a free thread, so connections spread over the
# workers: with gunicorn's 1000, one worker accepted all 50 slow clients of a test while four
# stood idle, and requests queued behind them. On, idle connections need that room again.
# Behind a load balancer that keeps connections open, set it LONGER than the balancer's idle
# timeout, so the balancer closes idle connections (or it may reuse a closed one: 502s).
keepalive = _int("GUNICORN_KEEPALIVE", 0, 0, 300)
worker_connections = threads if keepalive == 0 else 1000

# Logs go to stdout/stderr, where container platforms collect them.
loglevel = _choice("GUNICORN_LOG_LEVEL", "info", ("debug", "info", "warning", "error", "critical"))
accesslog = "-" if _bool("GUNICORN_ACCESS_LOG", True) else None
# Path without the query string (may hold tokens), and the duration in milliseconds.
access_log_format = (
    '%(t)s remote=%(h)s method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s duration_ms=%(M)s'
)
errorlog = "-"

# Request size limits (gunicorn's defaults) refuse oversized requests before Django sees them.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 4094, 0, 8190)
limit_request_fields = _int("GUNICORN_LIMIT_REQUEST_FIELDS", 100, 1, 32768)
# 0 is refused: gunicorn documents it as unlimited but treats it as 8190.
limit_request_field_size = _int("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 8190, 1, 65536)

# Off unless asked for: containers run with a read-only filesystem and no usable HOME, and
# nothing should write ~/.gunicorn (gunicorn's default place for it).
control_socket = _raw("GUNICORN_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None

# Heartbeat files on a disk-backed /tmp can block workers; /dev/shm is memory.
shm_ok = os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK)  # noqa: S108
worker_tmp_dir = "/dev/shm" if shm_ok else None  # noqa: S108 (None: gunicorn's default)

# So that plain `gunicorn` works; an app given on the command line wins.
wsgi_app = "config.wsgi:application"


def pre_fork(server, worker):
    """Freeze the master's objects (all of Django, with preload) just before each fork: the
    worker's garbage collections then skip them, instead of writing to, and so copying, the
    memory pages it shares with the master. That halved the time from a recycled worker's
    last response to its replacement's first one (80 ms to 40 ms; docs/production.md)."""
    gc.freeze()


def when_ready(server):
    """Log the settings in force (after command-line overrides) once, at startup."""
    cfg = server.cfg
    source = workers_source if cfg.workers == workers else "command line"
    parts = [f"workers={cfg.workers} ({source})", f"threads={cfg.threads}"]
    parts.append(f"worker_connections={cfg.worker_connections}")
    parts.append(f"worker_class={cfg.worker_class_str}")
    parts += [f"{name}={getattr(cfg, name)}" for name in COUNTS]
    parts += [f"{name}={getattr(cfg, name)}s" for name in SECONDS]
    parts.append(f"preload_app={cfg.preload_app}")
    server.log.info("Configuration: %s", " ".join(parts))


if errors:
    print(*errors, sep="\n", file=sys.stderr)
    raise SystemExit(1)
