"""MAILERS from EMAIL_URL (e.g. submission://user:password@smtp.example.com:587)."""

from django.core.exceptions import ImproperlyConfigured
from environs import Env

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def mailer_settings(env: Env) -> dict:
    url = env.dj_email_url("EMAIL_URL", default="smtp://localhost:25")
    if "EMAIL_BACKEND" not in url:
        raise ImproperlyConfigured(
            f"EMAIL_URL has an unknown scheme {env.str('EMAIL_URL').split(':', 1)[0]!r}: use "
            "smtp://, smtps:// (TLS on connect), submission:// (STARTTLS) or console://"
        )
    mailer = {"BACKEND": url["EMAIL_BACKEND"]}
    if url["EMAIL_BACKEND"] == SMTP_BACKEND:
        mailer["OPTIONS"] = {
            "host": url["EMAIL_HOST"],
            "port": url["EMAIL_PORT"],
            "username": url["EMAIL_HOST_USER"],
            "password": url["EMAIL_HOST_PASSWORD"],
            "use_tls": url["EMAIL_USE_TLS"],
            "use_ssl": url["EMAIL_USE_SSL"],
            "timeout": url["EMAIL_TIMEOUT"] or 10,
        }
    return {"default": mailer}
