"""Settings of {{ cookiecutter.project_slug }}.

What differs between deployments comes from environment variables, each declared once in
config/variables.py (README.md lists them with their defaults). The defaults are the
production ones: a deployment needs only DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS. A bad
value stops start-up with one line per bad variable. What does not differ is set here.
"""

from django.utils.csp import CSP

from config import sentry, variables
from config.database import database_settings
from config.logs import logging_settings
from config.mail import mailer_settings
from config.media import media_storage

# A bad value raises config.environment.InvalidEnvironment (not ImproperlyConfigured, which
# Django's commands hold back and re-raise as a traceback): manage.py and gunicorn.conf.py
# print its lines alone, one per bad variable.
env = variables.read()

BASE_DIR = variables.BASE_DIR

# --- Core -------------------------------------------------------------------------------------

DEBUG = env["DJANGO_DEBUG"]
SECRET_KEY = env["DJANGO_SECRET_KEY"]  # required, unless DEBUG is on
ALLOWED_HOSTS = env["DJANGO_ALLOWED_HOSTS"]
CSRF_TRUSTED_ORIGINS = env["DJANGO_CSRF_TRUSTED_ORIGINS"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles so `runserver` leaves static files to WhiteNoise, as in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "{{ cookiecutter.project_slug }}",
]

MIDDLEWARE = [
    # First: probes get an answer before host validation and the HTTPS redirect.
    "{{ cookiecutter.project_slug }}.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Right after SecurityMiddleware, so static files skip the rest of the stack.
    "{{ cookiecutter.project_slug }}.static.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware, which refuses a bad Host: its 400 page carries these headers too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CsrfViewMiddleware, which reads the body: an oversized one is refused unread.
    "{{ cookiecutter.project_slug }}.body_limit.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

# Larger bodies get a 413 before any of them is stored (the app's body_limit.py).
REQUEST_BODY_MAX_BYTES = env["REQUEST_BODY_MAX_MB"] * variables.MEGABYTE

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ADMIN_URL = env["DJANGO_ADMIN_URL"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

DATABASES = {"default": database_settings(env)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Security ---------------------------------------------------------------------------------

# (The probes answer before SecurityMiddleware, so they are never redirected.)
SECURE_SSL_REDIRECT = env["DJANGO_SECURE_SSL_REDIRECT"]
SECURE_HSTS_SECONDS = env["DJANGO_SECURE_HSTS_SECONDS"]
SECURE_HSTS_INCLUDE_SUBDOMAINS = env["DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS"]
SECURE_HSTS_PRELOAD = env["DJANGO_SECURE_HSTS_PRELOAD"]
# No SECURE_PROXY_SSL_HEADER: Django would trust X-Forwarded-Proto from any client. gunicorn
# sets the scheme from it only for the proxies in FORWARDED_ALLOW_IPS (gunicorn.conf.py).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env["DJANGO_SECURE_COOKIES"]
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Strict Content Security Policy: only this site's own files, no inline code.
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Static files (WhiteNoise) ----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = env["DJANGO_STATIC_ROOT"]
STORAGES = {
    "default": media_storage(env),  # uploaded files (below)
    # Content-hashed names (cacheable forever) plus gzip and brotli copies made at build time.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# How long browsers and CDNs may keep a content-hashed file, sent with `immutable`: a changed
# file gets a new name. A year, the usual longest lifetime (WhiteNoise's own is ten years).
STATIC_HASHED_MAX_AGE = 365 * 24 * 60 * 60

# --- Media files (uploads) --------------------------------------------------------------------

# On disk unless MEDIA_S3_BUCKET is set (config/media.py); larger than REQUEST_BODY_MAX_MB, an
# upload is refused.
MEDIA_URL = "media/"
MEDIA_ROOT = env["DJANGO_MEDIA_ROOT"]

# --- Mail -------------------------------------------------------------------------------------

MAILERS = mailer_settings(env)
DEFAULT_FROM_EMAIL = env["DJANGO_DEFAULT_FROM_EMAIL"]
SERVER_EMAIL = env["DJANGO_SERVER_EMAIL"]

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "{{ cookiecutter.time_zone }}"
USE_I18N = True
USE_TZ = True

# --- Logging ----------------------------------------------------------------------------------

LOGGING = logging_settings(env)
LOGGING_CONFIG = "config.logs.configure"

# --- Error tracking ---------------------------------------------------------------------------

sentry.init(env)  # off unless SENTRY_DSN is set (config/sentry.py)
