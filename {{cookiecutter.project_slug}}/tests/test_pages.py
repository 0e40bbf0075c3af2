"""The home page renders, and error pages show nothing of the inside."""

import html
import re

import pytest
from django.apps import apps
from django.conf import settings

SECRETS = ["Traceback", "SECRET_KEY", "DATABASES", "settings.py", "site-packages", "SELECT "]


def test_home_page_renders_with_hashed_stylesheet(client):
    response = client.get("/", secure=True)
    assert response.status_code == 200
    body = response.content.decode()
    # The project's name, as typed and escaped for HTML: no markup of its own.
    (heading,) = re.findall(r"<h1>(.*?)</h1>", body)
    assert "<" not in heading and '"' not in heading
    name = apps.get_app_config("{{ cookiecutter.project_slug }}").verbose_name
    assert html.unescape(heading) == name
    assert 'href="/static/{{ cookiecutter.project_slug }}/css/site.' in body  # site.<hash>.css
    assert "site.css" not in body


def test_missing_page_shows_the_custom_404(client):
    response = client.get("/no-such-page/", secure=True)
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "urlpatterns" not in body  # Django's DEBUG 404 lists the URL patterns
    assert not [secret for secret in SECRETS if secret in body]


@pytest.mark.urls("tests.urls_crash")
def test_unhandled_exception_shows_the_custom_500(client):
    client.raise_request_exception = False
    response = client.get("/crash/", secure=True)
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "boom-internal-detail" not in body
    assert str(settings.BASE_DIR) not in body
    assert not [secret for secret in SECRETS if secret in body]
