"""Settings of the benchmark's servers: the generated project's own production settings, plus
the bench-only views of bench_urls. `python -m bench` puts this folder on the servers'
PYTHONPATH; nothing here is ever part of a generated project."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
