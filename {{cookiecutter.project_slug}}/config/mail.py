"""MAILERS from EMAIL_URL (e.g. submission://user:password@smtp.example.com:587)."""

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def mailer_settings(env) -> dict:
    url = env["EMAIL_URL"]  # parsed by dj-email-url (config/variables.py)
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
