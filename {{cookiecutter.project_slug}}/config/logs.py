"""LOGGING: everything to stdout, as text or as one JSON object per line."""

import logging
import logging.config

from pythonjsonlogger.core import RESERVED_ATTRS

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class OneLineWarning(logging.Filter):
    """A record as a WARNING without its traceback. For a rejected Host header, which Django
    logs at ERROR with the DisallowedHost traceback: a request of a scanner, answered 400,
    not a fault of this site. Dropped when its logger's level is above WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not logging.getLogger(record.name).isEnabledFor(logging.WARNING):
            return False
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = record.stack_info = None
        return True


def configure(logging_settings: dict) -> None:
    """settings.LOGGING_CONFIG: LOGGING, with Python's warnings (a library's, say) sent through
    it as lines of the `py.warnings` logger, instead of as plain text on stderr."""
    logging.captureWarnings(True)
    logging.config.dictConfig(logging_settings)


def logging_settings(env) -> dict:
    if env["DJANGO_LOG_FORMAT"] == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": TEXT_FORMAT,
            # Django's `request` extra would be written whole, its query string unmasked (the
            # access log has the request, masked: config/access_log.py).
            "reserved_attrs": [*RESERVED_ATTRS, "request"],
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"one_line_warning": {"()": "config.logs.OneLineWarning"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "default",
            }
        },
        "root": {"handlers": ["stdout"], "level": env["DJANGO_LOG_LEVEL"]},
        "loggers": {"django.security.DisallowedHost": {"filters": ["one_line_warning"]}},
    }
