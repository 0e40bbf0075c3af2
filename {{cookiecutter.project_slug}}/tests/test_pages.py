"""The home page renders (test_error_pages.py has the error pages)."""

import html
import re

from django.apps import apps


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
