"""Uploaded files on disk are served by the site, and none can act as one of its pages; with
MEDIA_S3_BUCKET set they go to the bucket instead, and the site serves none."""

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.conftest import run_django

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
PAGE = b"<html><script>document.cookie</script></html>"
SANDBOX = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@pytest.fixture
def saved():
    names = []

    def save(name: str, content: bytes) -> str:
        names.append(default_storage.save(name, ContentFile(content)))
        return names[-1]

    yield save
    for name in names:
        default_storage.delete(name)


def test_an_image_is_shown_sandboxed(client, saved):
    name = saved("photos/pixel.png", PNG)
    response = client.get(default_storage.url(name), secure=True)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["page.html", "drawing.svg", "no-extension", "page.png.html"])
def test_anything_but_a_raster_image_is_a_sandboxed_download(client, saved, name):
    stored = saved(f"docs/{name}", PAGE)
    response = client.get(default_storage.url(stored), secure=True)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PAGE
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/media/missing.png",
        "/media/docs/",  # a folder: no listing
        "/media/../config/settings.py",
        "/media/%2e%2e/config/settings.py",
        "/media//etc/passwd",
    ],
)
def test_no_file_outside_uploads_nor_a_listing(client, saved, path):
    saved("docs/kept.txt", b"kept")
    response = client.get(path, secure=True)
    assert response.status_code == 404
    assert b"SECRET_KEY" not in response.content and b"root:" not in response.content


def test_uploads_are_only_read(client, saved):
    name = saved("docs/kept.txt", b"kept")
    assert client.post(default_storage.url(name), secure=True).status_code == 405
    assert default_storage.open(name).read() == b"kept"


def test_a_second_upload_of_a_name_keeps_the_first(saved):
    first, second = saved("docs/same.txt", b"first"), saved("docs/same.txt", b"second")
    assert first != second and default_storage.open(first).read() == b"first"


STORAGE_AND_ROUTES = (
    "from django.conf import settings\n"
    "from django.urls import get_resolver\n"
    "import json\n"
    "routes = [str(p.pattern) for p in get_resolver().url_patterns]\n"
    "print(json.dumps({'storage': settings.STORAGES['default'], 'routes': routes}))"
)


def storage_and_routes(**env) -> dict:
    result = run_django(STORAGE_AND_ROUTES, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_uploads_are_on_disk_by_default():
    found = storage_and_routes(MEDIA_S3_BUCKET=None)
    assert found["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert "media/<path:name>" in found["routes"]


def test_a_bucket_takes_the_uploads_and_the_site_serves_none():
    found = storage_and_routes(
        MEDIA_S3_BUCKET="uploads",
        MEDIA_S3_ENDPOINT_URL="https://s3.example.com",
        MEDIA_S3_ACCESS_KEY_ID="key-id",
        MEDIA_S3_SECRET_ACCESS_KEY="key-secret",  # noqa: S106 (not a real one)
    )
    assert found["storage"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "uploads",
            "endpoint_url": "https://s3.example.com",
            "access_key": "key-id",
            "secret_key": "key-secret",
            "querystring_auth": True,  # signed links to a private bucket
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }
    assert "media/<path:name>" not in found["routes"]


def test_a_public_domain_gets_unsigned_links():
    found = storage_and_routes(MEDIA_S3_BUCKET="uploads", MEDIA_S3_CUSTOM_DOMAIN="cdn.example.com")
    assert found["storage"]["OPTIONS"]["custom_domain"] == "cdn.example.com"
    assert found["storage"]["OPTIONS"]["querystring_auth"] is False
