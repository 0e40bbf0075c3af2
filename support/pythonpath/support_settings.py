"""Settings of a server under test: the generated project's own production settings, plus
the test-only views of support_urls. Nothing here is ever part of a generated project."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "support_urls"
