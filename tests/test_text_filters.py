"""hooks/text_filters.py: each filter's output, read back by the parser of its syntax (tomllib,
Python's own, ruff format, a CommonMark renderer), gives the answer exactly as typed."""

import ast
import html
import subprocess
import tomllib

import pytest
from markdown_it import MarkdownIt

from hooks.text_filters import markdown_text, python_string, toml_string
from support.generate import TOOLS_BIN

ANSWERS = [
    "My Project",
    'Läden "quoted" {braces}',
    "O'Brien's \\ back\\slash",
    '"both" \'quotes\' "more double"',
    "it's 'single' heavy ' \"",
    "<b>bold</b> & &amp; `code` *stars* _under_ [link](x) ~strike~ | pipe!",
    "- looks like a list",
    "+ also",
    "1. numbered",
    "12) numbered",
    "# heading",
    "🚀 emoji, Zoë, 東京, עברית",
    "tab\there",
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_toml_string_reads_back(answer):
    assert tomllib.loads(f"value = {toml_string(answer)}")["value"] == answer


@pytest.mark.parametrize("answer", ANSWERS)
def test_python_string_reads_back_and_is_as_ruff_formats_it(answer, tmp_path):
    literal = python_string(answer)
    assert ast.literal_eval(literal) == answer
    source = tmp_path / "name.py"
    source.write_text(f"NAME = {literal}\n", encoding="utf-8")
    check = subprocess.run(
        [str(TOOLS_BIN / "ruff"), "format", "--check", "--isolated", str(source)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize("line", ["# {}", "{}"])  # README.md's title and its first paragraph
def test_markdown_text_shows_as_typed(answer, line):
    rendered = MarkdownIt("commonmark").render(line.format(markdown_text(answer)))
    tag = "h1" if line.startswith("#") else "p"
    assert rendered.startswith(f"<{tag}>") and rendered.endswith(f"</{tag}>\n"), rendered
    text = rendered.removeprefix(f"<{tag}>").removesuffix(f"</{tag}>\n")
    assert "<" not in text, rendered  # no emphasis, code, link or HTML of its own
    assert html.unescape(text) == answer
