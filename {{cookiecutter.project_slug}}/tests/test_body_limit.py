"""Request bodies above REQUEST_BODY_MAX_MB get the project's 413 page, before any of them is
read (the CSRF check, which reads the body, never runs). The test client skips the CSRF check:
a body within the limit reaches the view, the admin's login page."""

from django.conf import settings

LIMIT = settings.REQUEST_BODY_MAX_BYTES


def _post(client, length: str):
    # The announced length is what counts: the body itself is never read.
    return client.post(
        "/admin/login/", data=b"x", content_type="text/plain", CONTENT_LENGTH=length, secure=True
    )


def test_a_body_above_the_limit_is_refused_with_the_projects_page(client):
    response = _post(client, str(LIMIT + 1))
    assert response.status_code == 413
    assert [t.name for t in response.templates][0] == "413.html"
    assert "Content-Security-Policy" in response  # through every middleware on its way out


def test_a_body_at_the_limit_reaches_the_view(client):
    assert _post(client, str(LIMIT)).status_code == 200


def test_a_length_that_is_not_a_number_is_left_to_django(client):
    assert _post(client, "ten").status_code == 200  # Django reads no body then


def test_the_limit_is_ten_megabytes_by_default():
    assert LIMIT == 10_000_000
