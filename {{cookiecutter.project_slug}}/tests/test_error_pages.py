"""Every error page Django writes is this site's own: its template, its headers, no internals;
and they still render when the static files are broken.

This module is also the URLconf of the tests marked with it: its views fail on purpose.
"""

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client
from django.urls import path

from config.variables import BASE_DIR
from tests.test_security import InlineCodeFinder


def crash(request):
    raise RuntimeError("boom-internal-detail")


def forbidden(request):
    raise PermissionDenied("forbidden-internal-detail")


def suspicious(request):
    raise SuspiciousOperation("suspicious-internal-detail")


urlpatterns = [
    path("crash/", crash),
    path("forbidden/", forbidden),
    path("suspicious/", suspicious),
]

# What Django's debug pages and tracebacks show, and an error page must not.
INSIDE = ["Traceback", "SECRET_KEY", "DATABASES", "settings.py", "site-packages", "SELECT "]
INSIDE += ["internal-detail", "urlpatterns", str(BASE_DIR)]
# Django's own error pages point to DEBUG=True.
INSIDE += ["DEBUG"]

# The headers of every page over HTTPS (test_security.py checks their values).
HEADERS = [
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
    "Content-Security-Policy",
]


def assert_own_page(response, status: int, template: str, heading: str, headers=HEADERS):
    assert response.status_code == status
    assert template in [used.name for used in response.templates]
    assert not [name for name in headers if name not in response.headers]
    body = response.content.decode()
    assert f"<h1>{heading}</h1>" in body
    assert not [inside for inside in INSIDE if inside in body]
    finder = InlineCodeFinder()  # nothing the strict policy would block
    finder.feed(body)
    assert finder.blocked == []


@pytest.mark.urls(__name__)
def test_suspicious_request_shows_the_custom_400(client):
    response = client.get("/suspicious/", secure=True)
    assert_own_page(response, 400, "400.html", "Bad request")


def test_forged_host_shows_the_custom_400(client):
    response = client.get("/", secure=True, headers={"host": "attacker.example"})
    # CommonMiddleware is the first to read the Host: the headers' middleware come before it.
    assert_own_page(response, 400, "400.html", "Bad request")


@pytest.mark.urls(__name__)
def test_permission_denied_shows_the_custom_403(client):
    response = client.get("/forbidden/", secure=True)
    assert_own_page(response, 403, "403.html", "Access denied")


def test_failed_csrf_check_shows_the_custom_403():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/", {"name": "value"}, secure=True)
    assert_own_page(response, 403, "403_csrf.html", "Your form could not be sent")
    assert "reload the page" in response.content.decode()


def test_missing_page_shows_the_custom_404(client):
    response = client.get("/no-such-page/", secure=True)
    assert_own_page(response, 404, "404.html", "Page not found")


@pytest.mark.urls(__name__)
def test_unhandled_exception_shows_the_custom_500(client):
    client.raise_request_exception = False
    response = client.get("/crash/", secure=True)
    assert_own_page(response, 500, "500.html", "Something went wrong")


@pytest.fixture
def no_manifest(settings, tmp_path):
    """Static files never collected: a STATIC_ROOT without staticfiles.json."""
    settings.STATIC_ROOT = tmp_path  # Django's test signals make a new static storage


def test_without_the_manifest_pages_fail_but_the_500_page_renders(no_manifest, client):
    client.raise_request_exception = False
    response = client.get("/", secure=True)
    # The home page's stylesheet link raises: a broken deployment is loud, yet the client gets
    # this site's page and headers rather than gunicorn's bare one.
    assert_own_page(response, 500, "500.html", "Something went wrong")
    stylesheet = 'href="/static/{{ cookiecutter.project_slug }}/css/site.css"'  # by its plain name
    assert stylesheet in response.content.decode()


def test_without_the_manifest_a_missing_page_is_still_a_404(no_manifest, client):
    response = client.get("/no-such-page/", secure=True)
    assert_own_page(response, 404, "404.html", "Page not found")
