"""LOGGING: everything to stdout, as text or as one JSON object per line."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_settings(level: int, json: bool) -> dict:
    if json:
        formatter = {"()": "pythonjsonlogger.json.JsonFormatter", "format": TEXT_FORMAT}
    else:
        formatter = {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "default",
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
    }
