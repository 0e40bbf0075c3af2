"""Security headers, HTTPS redirect and a strict Content Security Policy."""

from html.parser import HTMLParser


def test_plain_http_is_redirected_to_https(client):
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/"


def test_https_response_carries_the_security_headers(client):
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_content_security_policy_is_strict(client):
    policy = client.get("/", secure=True)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


class InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP would block: inline styles/scripts, foreign resources."""

    def __init__(self):
        super().__init__()
        self.blocked = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs or any(name.startswith("on") for name in attrs):
            self.blocked.append(f"inline attribute on <{tag}>")
        if tag == "style" or (tag == "script" and "src" not in attrs and "nonce" not in attrs):
            self.blocked.append(f"inline <{tag}>")
        url = attrs.get("src") or (attrs.get("href") if tag == "link" else None)
        if url and not url.startswith("/"):
            self.blocked.append(f"foreign resource {url}")


def test_home_page_works_under_the_policy(client):
    finder = InlineCodeFinder()
    finder.feed(client.get("/", secure=True).content.decode())
    assert finder.blocked == []


def test_session_and_csrf_cookies_are_secure(settings):
    assert settings.SESSION_COOKIE_SECURE
    assert settings.CSRF_COOKIE_SECURE
