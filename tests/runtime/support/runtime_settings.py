"""Settings of the runtime tests' server: the generated project's own production settings,
plus the test-only views of runtime_urls. This folder is put on the server's PYTHONPATH by the
tests; nothing here is ever part of a generated project."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "runtime_urls"
