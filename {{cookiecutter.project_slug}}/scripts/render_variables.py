"""Render README.md's table of environment variables and .env.example from config/variables.py.

    python scripts/render_variables.py           # rewrite both
    python scripts/render_variables.py --check   # only compare: exit 1 if either is stale

Run it after changing a declaration; the tests run --check. Standard library only: the
generator runs it before any dependency is installed.
"""

import argparse
import sys
import textwrap
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from config.variables import SECTIONS, VARIABLES  # noqa: E402

README = PROJECT_DIR / "README.md"
ENV_EXAMPLE = PROJECT_DIR / ".env.example"
BEGIN = "<!-- variables: rendered from config/variables.py by scripts/render_variables.py -->"
END = "<!-- end of variables -->"
ENV_EXAMPLE_HEADER = """\
# The environment for running this project on your machine. The generator copied this file
# to .env, with fresh secrets; .env is never committed. The real environment always wins over
# .env: in production, set real environment variables. Each variable the project reads is
# here, with what it does: commented out at its default, unless a local run needs another
# value. Rendered from config/variables.py by scripts/render_variables.py: edit the
# declarations there, not this file.
"""
WIDTH = 99
COMMAND = "python scripts/render_variables.py"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _link(used_in: str) -> str:
    return f"[{used_in}]({used_in})" if (PROJECT_DIR / used_in).exists() else used_in


def readme_table() -> str:
    rows = [
        "| Variable | Default | Accepts | What it does | Used in |",
        "|---|---|---|---|---|",
    ]
    for variable in VARIABLES:
        literal = variable.literal_default
        cells = [
            f"`{variable.name}`",
            _cell(f"`{literal}`" if literal else variable.default_text),
            _cell(variable.kind.accepts + _from_file(variable)),
            _cell(variable.meaning),
            _link(variable.used_in),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _from_file(variable) -> str:
    if not variable.file_variable:
        return ""
    return f"; or in a file named by `{variable.file_variable}` (Docker, Kubernetes secrets)"


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="# ", subsequent_indent="# ")


def env_example() -> str:
    lines = [ENV_EXAMPLE_HEADER.rstrip("\n")]
    for section in SECTIONS:
        variables = [variable for variable in section.variables if variable.env_file]
        if not variables:
            continue
        lines += ["", f"# --- {section.title} ({section.used_in})"]
        for variable in variables:
            computed = f" Default: {variable.shown_default}." if variable.shown_default else ""
            lines += ["", *_comment(variable.meaning + computed)]
            if variable.example:
                lines += [
                    *_comment(variable.example.why),
                    f"{variable.name}={variable.example.value}",
                ]
            else:
                lines.append(f"# {variable.name}={variable.literal_default or ''}")
    return "\n".join(lines) + "\n"


def readme(current: str) -> str:
    """README.md with the text between its two markers replaced by the table."""
    before, begin, rest = current.partition(BEGIN)
    _, end, after = rest.partition(END)
    if not (begin and end):
        raise SystemExit(f"README.md must hold the lines {BEGIN!r} and {END!r}")
    return f"{before}{BEGIN}\n{readme_table()}\n{END}{after}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    check = parser.parse_args().check
    rendered = {README: readme(README.read_text(encoding="utf-8")), ENV_EXAMPLE: env_example()}
    stale = [
        path
        for path, text in rendered.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    for path in stale:
        if check:
            print(f"{path.name} differs from config/variables.py: run {COMMAND}", file=sys.stderr)
        else:
            path.write_text(rendered[path], encoding="utf-8")
            print(f"wrote {path.name}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
