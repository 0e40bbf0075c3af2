"""LOGGING: everything to stdout, as text or as one JSON object per line."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_settings(env) -> dict:
    if env["DJANGO_LOG_FORMAT"] == "json":
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
        "root": {"handlers": ["stdout"], "level": env["DJANGO_LOG_LEVEL"]},
    }
