"""WhiteNoise, serving content-hashed static files for settings.STATIC_HASHED_MAX_AGE."""

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    # WhiteNoise's lifetime of the files it marks immutable (the content-hashed ones).
    FOREVER = settings.STATIC_HASHED_MAX_AGE
