"""Jinja2 extension for Copier only: what cookiecutter gives a template and Copier does not.

- ``slugify``: the project_slug default, as cookiecutter's own filter makes it (python-slugify
  when it is installed, else the same rule for Latin letters: accents dropped, anything else
  between words becomes the separator).
- ``answer_problem``: the checks of answers.py, for copier.yml's validators, so that both tools
  refuse the same answers with the same words.

Copier loads it from this file (copier-template-extensions), with ``--trust``.
"""

import re
import sys
import unicodedata
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answers import CHECKS  # noqa: E402


def slugify(value: object, separator: str = "-") -> str:
    try:
        from slugify import slugify as python_slugify
    except ImportError:
        ascii_text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", separator, ascii_text.lower()).strip(separator)
    return python_slugify(str(value), separator=separator)


def answer_problem(value: object, name: str) -> str:
    """The line answers.py prints for a bad answer, or "" (which Copier takes as valid)."""
    problem = CHECKS[name](str(value))
    return f"{name}={value!r} {problem}" if problem else ""


class CopierQuestions(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["slugify"] = slugify
        environment.filters["answer_problem"] = answer_problem
