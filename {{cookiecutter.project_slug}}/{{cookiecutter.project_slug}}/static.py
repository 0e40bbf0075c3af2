"""WhiteNoise, serving content-hashed static files for settings.STATIC_HASHED_MAX_AGE."""

from pathlib import Path

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    # WhiteNoise's lifetime of the files it marks immutable (the content-hashed ones).
    FOREVER = settings.STATIC_HASHED_MAX_AGE

    def __call__(self, request):
        # Started before collectstatic ran (readiness says so): look again, so that the files
        # are served once they are there, without a restart.
        if not self.files and self.static_root and Path(self.static_root).is_dir():
            self.add_files(self.static_root, prefix=self.static_prefix)
        return super().__call__(request)
