"""What a run measures: the two modes, the servers, the URLs, the connection counts and the
experiments' parameters. Plain data; nothing here starts anything."""

from dataclasses import dataclass, field, replace

CONNECTIONS = (1, 16, 64)
WRK_TIMEOUT = 10  # seconds: a slower answer counts as a timeout error
BASELINE = "runserver"  # the server every ratio is taken against
# The settings of a gunicorn server that a run records, as `gunicorn --print-config` resolves
# them for it.
CONFIGURATION = (
    "workers",
    "threads",
    "worker_class",
    "worker_connections",
    "max_requests",
    "max_requests_jitter",
    "backlog",
    "timeout",
    "graceful_timeout",
    "keepalive",
    "preload_app",
    "accesslog",
)


@dataclass(frozen=True)
class Mode:
    name: str
    duration: int  # seconds of load per point (wrk -d takes whole seconds)
    repeats: int  # each point is measured this many times; min and median are reported
    warmup: int  # seconds of load per URL after a server starts (0: a few single requests)
    budget_minutes: float  # the whole run stops (with its servers) past this
    recycle_max_requests: tuple[int, ...]  # experiment 1: these against 0 (off)
    leak_duration: int  # experiment 2: seconds of paced load on the leaking view
    leak_max_requests: int
    leak_kib: int  # memory kept by each request to the leaking view
    leak_connections: int
    leak_pace_ms: int  # each connection waits this long between requests
    cpu_ms: int  # experiment 3: CPU time burnt by each request to the CPU-bound view
    cpu_connections: int


QUICK = Mode(
    name="quick",
    duration=1,
    repeats=1,
    warmup=0,
    budget_minutes=10,
    recycle_max_requests=(100, 1000),
    leak_duration=4,
    leak_max_requests=100,
    leak_kib=64,
    leak_connections=4,
    leak_pace_ms=20,
    cpu_ms=20,
    cpu_connections=8,
)
# Longer and repeated, for stable figures; the experiments' parameters stay the same.
FULL = replace(
    QUICK,
    name="full",
    duration=8,
    repeats=3,
    warmup=1,
    budget_minutes=40,
    leak_duration=30,
    leak_max_requests=1000,
)
MODES = {mode.name: mode for mode in (QUICK, FULL)}


@dataclass(frozen=True)
class ServerSpec:
    key: str
    label: str
    kind: str  # "runserver" or "gunicorn"
    # GUNICORN_* variables read by the project's gunicorn.conf.py; none: its own defaults.
    env: dict[str, str] = field(default_factory=dict)


def gunicorn(key: str, label: str, workers: int, threads: int) -> ServerSpec:
    """gunicorn with `workers` processes of `threads` threads (sync workers for one)."""
    worker_class = "sync" if threads == 1 else "gthread"
    env = {"GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads)}
    return ServerSpec(key, label, "gunicorn", {**env, "GUNICORN_WORKER_CLASS": worker_class})


RUNSERVER = ServerSpec(BASELINE, "runserver --insecure (DEBUG off)", "runserver")
GUNICORN_DEFAULTS = ServerSpec("gunicorn", "gunicorn, gunicorn.conf.py defaults", "gunicorn")
GUNICORN_SYNC4 = gunicorn("gunicorn-sync4", "gunicorn sync, 4 workers", 4, 1)
GUNICORN_GTHREAD = gunicorn("gunicorn-gthread", "gunicorn gthread, 2 workers x 4 threads", 2, 4)
SERVERS = (RUNSERVER, GUNICORN_DEFAULTS, GUNICORN_SYNC4, GUNICORN_GTHREAD)
# Experiments 2 and 3: two sync workers, the smallest pool that shows the effect.
GUNICORN_TWO_SYNC = gunicorn("gunicorn-2sync", "gunicorn sync, 2 workers", 2, 1)


@dataclass(frozen=True)
class UrlSpec:
    key: str
    label: str
    path: str  # the static file's hashed name is only known once collectstatic has run


HOME = UrlSpec("home", "home page (template)", "/")
STATIC = UrlSpec("static", "hashed static file", "")
HEALTHZ = UrlSpec("healthz", "/healthz", "/healthz")
URLS = (HOME, STATIC, HEALTHZ)
