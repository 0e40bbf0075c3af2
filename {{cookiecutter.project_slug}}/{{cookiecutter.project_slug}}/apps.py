import sys

from django.apps import AppConfig
from django.core.signals import got_request_exception
from django.db import DatabaseError, DataError, IntegrityError, connections


class ProjectConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}"
{%- set verbose_name = cookiecutter.project_name|python_string %}
    # The project's name as you typed it: the admin's title.
    verbose_name = {{ verbose_name }}{% if verbose_name|length > 70 %}  # noqa: E501{% endif %}

    def ready(self):
        got_request_exception.connect(close_connections_after_database_error)


def close_connections_after_database_error(**kwargs):
    """A request failed on a database error that may have broken its connection (any but bad
    data, as Django judges): close this thread's connections, so the next request opens fresh
    ones. Django keeps one as long as is_usable() passes, as SQLite's always does: a connection
    opened while the file was read-only would fail every write for CONN_MAX_AGE. A pooled one
    is closed for good, or the pool would lend it again."""
    error = sys.exception()
    if isinstance(error, DatabaseError) and not isinstance(error, (DataError, IntegrityError)):
        for connection in connections.all(initialized_only=True):
            if getattr(connection, "pool", None) and connection.connection:
                connection.connection.close()
            connection.close()
