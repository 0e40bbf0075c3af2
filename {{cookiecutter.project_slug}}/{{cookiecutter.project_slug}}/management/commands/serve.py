"""`manage.py serve`: this site on this machine, run as in production: the migrations applied,
the static files collected, then gunicorn, with gunicorn.conf.py, in place of this process
(so Ctrl-C and signals reach gunicorn itself). Settings come from the environment and .env;
unless they name an address (GUNICORN_BIND, PORT), it listens on this machine only."""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config import variables

# As compose.yaml publishes the site: this machine only. (gunicorn's own default, every
# interface, is what a container needs.)
LOCAL_BIND = "127.0.0.1:8000"


def local_bind(given: set[str]) -> dict[str, str]:
    """GUNICORN_BIND for gunicorn, unless an address was given."""
    return {} if given & {"GUNICORN_BIND", "PORT"} else {"GUNICORN_BIND": LOCAL_BIND}


class Command(BaseCommand):
    help = f"Apply the migrations, collect the static files, then run gunicorn (on {LOCAL_BIND})."

    def handle(self, **options):
        call_command("migrate", interactive=False, verbosity=options["verbosity"])
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Static files collected in {settings.STATIC_ROOT}; starting gunicorn")
        self.stdout.flush()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))  # this virtualenv's
        config = str(settings.BASE_DIR / "gunicorn.conf.py")
        environ = {**os.environ, **local_bind(variables.read().given)}
        # A fixed program, no shell.
        os.execve(gunicorn, [gunicorn, "--config", config], environ)  # noqa: S606
