"""What the log shows (config/logs.py): a rejected Host header is one WARNING line."""

import json

import pytest

from tests.conftest import run_django

FORGED_HOST = """
from django.test import Client
status = Client(HTTP_HOST="evil.example").get("/?token=s3cret", secure=True).status_code
print("status", status)
"""


def test_a_rejected_host_is_one_warning_line_without_a_traceback():
    result = run_django(FORGED_HOST, DJANGO_LOG_FORMAT="text")
    assert result.returncode == 0, result.stderr
    *logged, status = result.stdout.splitlines()
    assert status == "status 400"
    (line,) = logged  # no traceback, nothing else
    date, time, level, name, message = line.split(" ", 4)
    assert (level, name) == ("WARNING", "django.security.DisallowedHost")
    assert message.startswith("Invalid HTTP_HOST header: 'evil.example'.")
    assert "Traceback" not in result.stderr + result.stdout


def test_a_rejected_host_is_one_json_line_in_json_mode():
    result = run_django(FORGED_HOST, DJANGO_LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    *logged, status = result.stdout.splitlines()
    assert status == "status 400"
    (line,) = logged
    entry = json.loads(line)
    assert (entry["levelname"], entry["name"]) == ("WARNING", "django.security.DisallowedHost")
    assert entry["message"].startswith("Invalid HTTP_HOST header: 'evil.example'.")
    assert "exc_info" not in entry and "Traceback" not in line
    assert "s3cret" not in line  # nor Django's request extra, with its query string


@pytest.mark.parametrize("level", ["ERROR", "CRITICAL"])
def test_other_security_errors_keep_their_level(level):
    code = (
        "import logging\n"
        f"logging.getLogger('django.security.SuspiciousFileOperation').{level.lower()}("
        "'x', exc_info=ValueError('y'))\n"
    )
    result = run_django(code, DJANGO_LOG_FORMAT="text")
    assert result.returncode == 0, result.stderr
    assert f" {level} django.security.SuspiciousFileOperation x" in result.stdout
    assert "ValueError: y" in result.stdout
