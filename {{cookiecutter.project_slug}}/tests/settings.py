"""Settings for the test run: the production settings, fed a fixed test environment.

The tests check the production defaults (DEBUG off, HTTPS redirect, HSTS, secure cookies), so
nothing may come from a developer's .env (ENV_FILE="") or shell (other DJANGO_* variables).
"""

import os
import tempfile

TEST_ENV = {
    "ENV_FILE": "",
    "DJANGO_SECRET_KEY": "test-secret-key-that-is-long-enough-for-the-deploy-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
    "DJANGO_STATIC_ROOT": tempfile.mkdtemp(prefix="staticfiles-"),
}
for name in [name for name in os.environ if name.startswith("DJANGO_")]:
    del os.environ[name]
os.environ.update(TEST_ENV)

from config.settings import *  # noqa: E402, F403
