"""Settings come from the environment, with production defaults and clear errors."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_DIR, run_django

PRINT_SETTINGS = (
    "from django.conf import settings\n"
    "import json\n"
    "db = settings.DATABASES['default']\n"
    "print(json.dumps({'debug': settings.DEBUG, 'hosts': settings.ALLOWED_HOSTS,\n"
    "    'engine': db['ENGINE'], 'options': db.get('OPTIONS', {}),\n"
    "    'conn_max_age': db['CONN_MAX_AGE'], 'ssl_redirect': settings.SECURE_SSL_REDIRECT,\n"
    "    'mailer': settings.MAILERS['default']}, default=str))"
)


def settings_with(**env):
    result = run_django(PRINT_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_is_off_by_default():
    assert settings_with(DJANGO_DEBUG=None)["debug"] is False


def test_debug_can_be_turned_on():
    assert settings_with(DJANGO_DEBUG="true")["debug"] is True


def test_missing_secret_key_stops_start_up_with_a_clear_message():
    result = run_django("", DJANGO_SECRET_KEY=None)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_missing_secret_key_is_allowed_with_debug_on():
    result = run_django("", DJANGO_SECRET_KEY=None, DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr


def manage_py(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`python manage.py ARGS` as a deployment runs it, with `env` added to the test run's."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", [["check"], ["migrate"], ["createsuperuser"], ["help"]])
def test_bad_values_stop_manage_py_with_one_line_each(command):
    result = manage_py(*command, DJANGO_DEBUG="maybe", GUNICORN_TIMEOUT="0")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "manage.py: DJANGO_DEBUG='maybe' is invalid: expected true or false (or yes/no, on/off, "
        "1/0)\n"
        "manage.py: GUNICORN_TIMEOUT='0' is invalid: expected an integer from 1 to 3600\n"
    )


def test_an_env_file_manage_py_cannot_read_is_its_one_line(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"DJANGO_DEBUG=\xff\n")  # not UTF-8
    result = manage_py("check", ENV_FILE=str(env_file), DJANGO_ADMIN_URL="admin")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"manage.py: ENV_FILE={str(env_file)!r} cannot be read: 'utf-8' codec can't decode "
        "byte 0xff in position 13: invalid start byte\n"
    )


def test_allowed_hosts_is_a_comma_separated_list():
    assert settings_with(DJANGO_ALLOWED_HOSTS="a.example, b.example")["hosts"] == [
        "a.example",
        "b.example",
    ]


def test_database_defaults_to_an_sqlite_file_tuned_for_several_workers():
    found = settings_with(DATABASE_URL=None)
    assert found["engine"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in found["options"]["init_command"]
    assert found["options"]["transaction_mode"] == "IMMEDIATE"


{%- if cookiecutter.database == "postgresql" %}


def test_postgresql_url_uses_a_pool_sized_to_the_worker_threads():
    found = settings_with(
        DATABASE_URL="postgres://user:secret@db.internal:5432/app", GUNICORN_THREADS="4"
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["options"]["pool"]["max_size"] == 4
    assert found["conn_max_age"] == 0  # required by Django's pool
{%- endif %}


def test_mail_comes_from_email_url():
    found = settings_with(EMAIL_URL="submission://user:pw@smtp.example.com:587")
    assert found["mailer"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert found["mailer"]["OPTIONS"]["host"] == "smtp.example.com"
    assert found["mailer"]["OPTIONS"]["use_tls"] is True


def test_deploy_check_passes_with_only_secret_key_and_allowed_hosts():
    result = run_django(
        "from django.core.management import call_command\n"
        "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        DATABASE_URL=None,
        DJANGO_ALLOWED_HOSTS="www.example.com",
    )
    assert result.returncode == 0, result.stderr


def test_deploy_check_fails_with_debug_on():
    result = run_django(
        "from django.core.management import call_command\n"
        "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        DJANGO_DEBUG="true",
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_unknown_mail_scheme_is_rejected_without_showing_the_url():
    result = run_django("", EMAIL_URL="smtp+tls://user:hunter2@smtp.example.com")
    assert result.returncode != 0
    assert "EMAIL_URL is invalid (its value is not shown): expected smtp://" in result.stderr
    assert "hunter2" not in result.stderr


def test_logs_can_be_json_lines_on_stdout():
    result = run_django(
        "import logging\nlogging.getLogger('app').warning('disk %s full', 'sda')",
        DJANGO_LOG_FORMAT="json",
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["message"] == "disk sda full"
    assert record["levelname"] == "WARNING"


def test_log_level_comes_from_the_environment():
    result = run_django(
        "import logging\nlogging.getLogger('app').info('hidden')\n"
        "logging.getLogger('app').error('shown')",
        DJANGO_LOG_LEVEL="ERROR",
    )
    assert result.returncode == 0, result.stderr
    assert "shown" in result.stdout
    assert "hidden" not in result.stdout
