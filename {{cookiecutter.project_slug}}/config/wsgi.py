"""WSGI entry point: gunicorn serves `config.wsgi:application` (see gunicorn.conf.py).

/healthz is answered here, before Django ({{ cookiecutter.project_slug }}/health.py).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from {{ cookiecutter.project_slug }}.health import with_liveness  # noqa: E402 (needs settings)

application = with_liveness(get_wsgi_application())
