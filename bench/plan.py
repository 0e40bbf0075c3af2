"""What a run measures: the two modes, the servers, the URLs, the connection counts and the
experiments' parameters. Plain data; nothing here starts anything."""

from dataclasses import dataclass, field, replace

CONNECTIONS = (1, 16, 64)  # the most a server is measured at (the full mode's)
NEW_TIER_CONNECTIONS = (1, 64)  # the tiers added to the comparison: fewer points, shorter run
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
    connections: tuple[int, ...] = CONNECTIONS  # of runserver and the defaults; others fewer


QUICK = Mode(
    name="quick",
    duration=1,
    repeats=1,
    warmup=0,
    budget_minutes=10,
    recycle_max_requests=(100,),
    leak_duration=4,
    leak_max_requests=100,
    leak_kib=64,
    leak_connections=4,
    leak_pace_ms=20,
    cpu_ms=20,
    cpu_connections=8,
    connections=(64,),  # the targets' count only: a harness check
)
# Longer and repeated, at every connection count, for stable figures; max_requests 1000 too.
FULL = replace(
    QUICK,
    name="full",
    duration=4,
    repeats=3,
    warmup=1,
    budget_minutes=40,
    leak_duration=30,
    leak_max_requests=1000,
    recycle_max_requests=(100, 1000),
    connections=CONNECTIONS,
)
MODES = {mode.name: mode for mode in (QUICK, FULL)}


@dataclass(frozen=True)
class ServerSpec:
    key: str
    label: str
    # "runserver"; "gunicorn": plain `gunicorn`, reading the project's gunicorn.conf.py;
    # "peers": `gunicorn -w 4 config.wsgi:application` with no configuration file;
    # "proxy": the project's Caddyfile in front of gunicorn with compose.yaml's `web` env;
    # "caddy": Caddy alone, the bench's own minimal Caddyfile (file_server).
    kind: str
    # GUNICORN_* variables read by the project's gunicorn.conf.py; none: its own defaults.
    env: dict[str, str] = field(default_factory=dict)
    app: str = ""  # a WSGI app other than the project's (`module:callable`)
    urls: tuple[str, ...] = ()  # the URLs' keys it is measured on; empty: every URL
    connections: tuple[int, ...] = ()  # empty: the mode's CONNECTIONS
    note: str = ""  # what the report says of it


def gunicorn(key: str, label: str, workers: int, threads: int) -> ServerSpec:
    """gunicorn with `workers` processes of `threads` threads (sync workers for one)."""
    worker_class = "sync" if threads == 1 else "gthread"
    env = {"GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads)}
    return ServerSpec(key, label, "gunicorn", {**env, "GUNICORN_WORKER_CLASS": worker_class})


PEERS_WORKERS = 4
RUNSERVER = ServerSpec(
    BASELINE,
    "runserver --insecure (DEBUG off)",
    "runserver",
    note="`manage.py runserver`: the baseline.",
)
PEERS = ServerSpec(
    "peers",
    f"peers: gunicorn -w {PEERS_WORKERS}, no config file",
    "peers",
    connections=NEW_TIER_CONNECTIONS,
    note="cookiecutter-django's production command: gunicorn's own defaults (sync workers, "
    "no access log, no preload) but the worker count; an empty --config, so that "
    "gunicorn.conf.py is not read, and no GUNICORN_*, WEB_CONCURRENCY, GUNICORN_CMD_ARGS "
    "or FORWARDED_ALLOW_IPS in its environment.",
)
GUNICORN_DEFAULTS = ServerSpec(
    "gunicorn",
    "gunicorn, gunicorn.conf.py defaults",
    "gunicorn",
    note="Plain `gunicorn` in the project folder: gunicorn.conf.py and its defaults.",
)
PROXY = ServerSpec(
    "proxy",
    "Caddy (the project's Caddyfile) + gunicorn, compose.yaml's web env",
    "proxy",
    connections=NEW_TIER_CONNECTIONS,
    note="The deployment of compose.yaml: Caddy with the generated Caddyfile (static files "
    "from disk, the rest proxied, one JSON log line a request into a file) in front of "
    "gunicorn with the GUNICORN_* and FORWARDED_ALLOW_IPS of compose.yaml's `web` service.",
)
WSGI_FLOOR = ServerSpec(
    "floor-wsgi",
    "floor: raw WSGI hello under gunicorn.conf.py",
    "gunicorn",
    app="support_wsgi:application",
    urls=("healthz",),
    connections=NEW_TIER_CONNECTIONS,
    note="gunicorn.conf.py exactly as the defaults run it, with a 5-line WSGI app instead of "
    "Django: what gunicorn itself costs a request.",
)
CADDY_FLOOR = ServerSpec(
    "floor-caddy",
    "floor: Caddy file_server alone",
    "caddy",
    urls=("static",),
    connections=NEW_TIER_CONNECTIONS,
    note="Caddy with a minimal Caddyfile of the bench's own (`file_server` with "
    "`precompressed br gzip`, no log) serving the same hashed file from disk.",
)
# The floors last: the caddy floor serves the static file the Django servers found.
SERVERS = (RUNSERVER, PEERS, GUNICORN_DEFAULTS, PROXY, WSGI_FLOOR, CADDY_FLOOR)
# Experiments 2 and 3: two sync workers, the smallest pool that shows the effect.
GUNICORN_TWO_SYNC = gunicorn("gunicorn-2sync", "gunicorn sync, 2 workers", 2, 1)
UNPINNED, PINNED = "unpinned", "pinned"  # client and servers share every CPU, or not


@dataclass(frozen=True)
class UrlSpec:
    key: str
    label: str
    path: str  # the static file's hashed name is only known once collectstatic has run


HOME = UrlSpec("home", "home page (template)", "/")
PAGE = UrlSpec("page", "realistic page (template loop + 1 query)", "/test/page")
STATIC = UrlSpec("static", "hashed static file", "")
HEALTHZ = UrlSpec("healthz", "/healthz", "/healthz")
URLS = (HOME, PAGE, STATIC, HEALTHZ)


def urls_of(spec: ServerSpec) -> tuple[UrlSpec, ...]:
    return tuple(url for url in URLS if not spec.urls or url.key in spec.urls)


def connections_of(spec: ServerSpec, mode: "Mode") -> tuple[int, ...]:
    """The mode's connection counts, less those the server is not measured at."""
    own = tuple(count for count in mode.connections if count in spec.connections)
    return own if spec.connections else mode.connections
