"""Error tracking with Sentry's SDK, off unless SENTRY_DSN is set (config/variables.py).

With a DSN, every unhandled exception of a request (and each ERROR log line) is sent with its
stack trace, local variables and the request's method, URL and headers, less those that hold
secrets or addresses (cookies, Authorization, X-Forwarded-For); no user, no request body.
Tracing is off unless SENTRY_TRACES_SAMPLE_RATE is above
0; the probes and the static files are never traced, they would drown the real requests.
"""

from urllib.parse import urlsplit

# Answered many times a minute to the orchestrator and the proxy: traces of them say nothing.
from config.access_log import PROBES


def init(values) -> None:
    """Start the SDK when SENTRY_DSN is set; called once, from config/settings.py."""
    if not values["SENTRY_DSN"]:
        return
    # Imported only when used: the SDK and its Django integration take about a second to
    # import, which every start (manage.py, gunicorn) would pay with tracking off.
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    rate = values["SENTRY_TRACES_SAMPLE_RATE"]
    sentry_sdk.init(
        dsn=values["SENTRY_DSN"],
        environment=values["SENTRY_ENVIRONMENT"],
        release=values["SENTRY_RELEASE"] or None,  # None: the SDK guesses (variables.py)
        integrations=[DjangoIntegration()],
        # Personal data stays here (the DSN's owner may be a vendor): no user, no request body
        # (a form's passwords). The SDK still drops cookies and headers with secrets in them.
        data_collection={"user_info": False, "http_bodies": []},
        # No sampler at rate 0: tracing is then off, not just sampling nothing.
        traces_sampler=_sampler(rate) if rate else None,
    )


def _sampler(rate: float):
    def traces_sampler(sampling_context: dict) -> float:
        path = sampling_context.get("wsgi_environ", {}).get("PATH_INFO", "")
        return 0 if path in PROBES or path.startswith(_static_prefix()) else rate

    return traces_sampler


def _static_prefix() -> str:
    # Read when a request comes, settings being loaded by then; a full URL (a CDN) keeps its
    # path, which is what reaches Django when the CDN asks.
    from django.conf import settings

    return urlsplit(settings.STATIC_URL).path
