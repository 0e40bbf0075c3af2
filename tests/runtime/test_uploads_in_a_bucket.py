"""Uploads in S3-compatible object storage, for real over HTTP: the project's own storage
(django-storages and boto3, set up by MEDIA_S3_*) against a local S3 server (moto's), on
loopback. The files go to the bucket, links to them are signed and served by the storage, and
the site serves none of them."""

import json
import subprocess
import urllib.parse
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from support.client import HOST, free_port, get
from support.environment import server_environment
from support.generate import explain

BUCKET = "uploads"
PAGE = b"<html><script>fetch('/admin/')</script></html>"
# What the project's code does with an upload: saved twice under one name, and linked.
SAVE_TWICE = """
import django, json, sys
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
content = sys.stdin.buffer.read()
names = [default_storage.save("docs/page.html", ContentFile(content)) for _ in range(2)]
print(json.dumps({name: default_storage.url(name) for name in names}))
"""


@pytest.fixture
def bucket():
    """MEDIA_S3_* of an empty bucket on a local S3 server, and a client of that server."""
    port = free_port()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://{HOST}:{port}"
        keys = {"aws_access_key_id": "test-key-id", "aws_secret_access_key": "test-secret"}
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
        client.create_bucket(Bucket=BUCKET)
        settings = {
            "MEDIA_S3_BUCKET": BUCKET,
            "MEDIA_S3_ENDPOINT_URL": endpoint,
            "MEDIA_S3_REGION": "us-east-1",
            "MEDIA_S3_ACCESS_KEY_ID": keys["aws_access_key_id"],
            "MEDIA_S3_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
        }
        yield settings, client
    finally:
        server.stop()


def test_uploads_go_to_the_bucket_under_their_own_names(project, bucket, tmp_path):
    settings, client = bucket
    environ = server_environment(tmp_path, DJANGO_SETTINGS_MODULE="config.settings", **settings)
    python = str(project / ".venv" / "bin" / "python")
    saved = subprocess.run(
        [python, "-c", SAVE_TWICE], cwd=project, env=environ, input=PAGE,
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert saved.returncode == 0, explain(saved)
    links = json.loads(saved.stdout)

    assert len(links) == 2, "the second upload replaced the first"
    for name, link in links.items():
        stored = client.get_object(Bucket=BUCKET, Key=name)
        assert stored["Body"].read() == PAGE
        assert stored["ContentType"] == "text/html"
        # Served by the storage from its own origin, by a link signed for a private bucket.
        url = urllib.parse.urlsplit(link)
        assert f"{url.scheme}://{url.netloc}" == settings["MEDIA_S3_ENDPOINT_URL"]
        assert "X-Amz-Signature=" in url.query
        with urllib.request.urlopen(link, timeout=30) as response:  # noqa: S310 (loopback)
            assert response.read() == PAGE
    assert not (tmp_path / "media").exists(), "an upload was written to disk too"


def test_the_site_serves_no_upload_when_they_are_in_a_bucket(start_server, bucket, tmp_path):
    settings, client = bucket
    client.put_object(Bucket=BUCKET, Key="docs/page.html", Body=PAGE)
    (tmp_path / "media" / "docs").mkdir(parents=True)
    (tmp_path / "media" / "docs" / "page.html").write_bytes(PAGE)  # left from before the bucket
    server = start_server(DJANGO_MEDIA_ROOT=str(tmp_path / "media"), **settings)
    assert get(server.port, "/media/docs/page.html").status == 404
