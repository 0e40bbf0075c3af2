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
    "DJANGO_MEDIA_ROOT": tempfile.mkdtemp(prefix="media-"),
    "SENTRY_DSN": "",  # a developer's own DSN would get the errors the tests make on purpose
}
# (Nor a developer's bucket: MEDIA_S3_BUCKET would send it the tests' uploads.)
for name in [name for name in os.environ if name.startswith(("DJANGO_", "MEDIA_S3_"))]:
    del os.environ[name]
os.environ.update(TEST_ENV)

from config.settings import *  # noqa: E402, F403
