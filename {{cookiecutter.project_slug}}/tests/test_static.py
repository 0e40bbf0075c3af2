"""WhiteNoise serves hashed, compressed static files, cached for STATIC_HASHED_MAX_AGE (and the
proxy does the same: its Caddyfile states the same lifetime)."""

import re
from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture
def stylesheet_url(client):
    body = client.get("/", secure=True).content.decode()
    return re.search(r'href="(/static/[^"]+\.css)"', body).group(1)


def test_hashed_file_is_immutable_for_its_max_age(client, stylesheet_url):
    response = client.get(stylesheet_url, secure=True)
    assert response.status_code == 200
    max_age = settings.STATIC_HASHED_MAX_AGE
    assert response["Cache-Control"] == f"max-age={max_age}, public, immutable"
    assert response["Content-Type"].startswith("text/css")


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_compressed_copy_is_served_when_accepted(client, stylesheet_url, encoding):
    response = client.get(stylesheet_url, secure=True, headers={"accept-encoding": encoding})
    assert response["Content-Encoding"] == encoding
    assert response["Vary"] == "Accept-Encoding"


def test_plain_copy_for_clients_without_compression(client, stylesheet_url):
    response = client.get(stylesheet_url, secure=True)
    assert "Content-Encoding" not in response


def test_the_proxy_caches_hashed_files_as_long():
    caddyfile = (Path(settings.BASE_DIR) / "Caddyfile").read_text()
    max_age = settings.STATIC_HASHED_MAX_AGE
    assert f'Cache-Control "max-age={max_age}, public, immutable"' in caddyfile


def test_files_collected_after_start_up_are_served_without_a_restart(rf, tmp_path, settings):
    """A process started before collectstatic serves the files once they are there."""
    from django.http import HttpResponseNotFound

    from {{ cookiecutter.project_slug }}.static import StaticFilesMiddleware

    settings.STATIC_ROOT = str(tmp_path / "staticfiles")
    with pytest.warns(UserWarning, match="No directory at"):  # WhiteNoise's, at start-up
        middleware = StaticFilesMiddleware(lambda request: HttpResponseNotFound())
    assert middleware(rf.get("/static/late.css")).status_code == 404
    (tmp_path / "staticfiles").mkdir()
    (tmp_path / "staticfiles" / "late.css").write_text("body {}")
    assert middleware(rf.get("/static/late.css")).status_code == 200
