"""Jinja2 extension that tells hook templates where this hooks folder is.

Cookiecutter renders each hook into a temporary file and runs it with the generated project
as its working directory, and its ``_repo_dir`` context value is relative to cookiecutter's
own working directory, so a hook cannot find this folder (and the logic in answers.py) by
itself. Cookiecutter imports this extension from the template (``_extensions`` in
cookiecutter.json), so ``__file__`` here is the real location: hooks render
``{{ hooks_dir }}`` and put it on ``sys.path``.
"""

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension


class TemplateLocation(Extension):
    """Add the ``hooks_dir`` global: the absolute path of this folder."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["hooks_dir"] = str(Path(__file__).resolve().parent)
