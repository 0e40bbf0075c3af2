"""`manage.py startapp`, writing an app that passes this project's lint (ruff check and ruff
format): Django's own app template, which imports what it does not use, is the fallback
only when `--template` names it."""

from pathlib import Path

from django.core.management.commands.startapp import Command as StartAppCommand

APP_TEMPLATE = Path(__file__).resolve().parent.parent / "app_template"


class Command(StartAppCommand):
    help = f"{StartAppCommand.help} By default from {APP_TEMPLATE.name}/, lint-clean."

    def handle(self, **options):
        options["template"] = options.get("template") or str(APP_TEMPLATE)
        super().handle(**options)
