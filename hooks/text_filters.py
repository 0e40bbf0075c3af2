"""Jinja2 filters that write a free-text answer (a project name, a description, an author)
into a generated file, escaped for that file's syntax. Answers may hold quotes, apostrophes,
backslashes, braces, `&`, `<`, any letter and emoji; answers.py refuses only what no file
could hold on one line.

HTML needs no filter of its own: Jinja's `|e` escapes it.
"""

import re

from jinja2 import Environment
from jinja2.ext import Extension

# ASCII punctuation that CommonMark may read as markup anywhere in a line.
MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>&|~!])")
# What makes the start of a line a heading or a list: a mark, or the dot of "1." or "1)".
MARKDOWN_LINE_START = re.compile(r"^(\s*(?:\d+(?=[.)]))?)([#+=.)-])")


def toml_string(value: object) -> str:
    """A TOML basic string, quotes included."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def python_string(value: object) -> str:
    """A Python string literal, quotes included, quoted as ruff format would: double quotes
    unless single ones need fewer escapes."""
    text = str(value).replace("\\", "\\\\")
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + text.replace(quote, "\\" + quote) + quote


def markdown_text(value: object) -> str:
    """Text that CommonMark shows as typed, inside a line or at its start."""
    escaped = MARKDOWN_INLINE.sub(r"\\\1", str(value))
    return MARKDOWN_LINE_START.sub(r"\1\\\2", escaped)


class TextFilters(Extension):
    """Add the filters above, by their names."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        for function in (toml_string, python_string, markdown_text):
            environment.filters[function.__name__] = function
