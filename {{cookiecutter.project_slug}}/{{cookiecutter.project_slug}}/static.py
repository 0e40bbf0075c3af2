"""WhiteNoise, serving content-hashed static files with a one-year immutable cache."""

from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    # WhiteNoise's default is ten years; one year is the longest lifetime HTTP caches are
    # required to honour (RFC 9111 treats anything longer as one year anyway).
    FOREVER = 365 * 24 * 60 * 60
