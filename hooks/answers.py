"""Check the cookiecutter answers before anything is generated.

Plain Python (no Jinja) so tests can import it; pre_gen_project.py hands the answers over and
post_gen_project.py reuses as_bool().
"""

import keyword
import re
import sys
import unicodedata
import zoneinfo
from collections.abc import Callable

PYTHON_VERSIONS = ("3.12", "3.13", "3.14")
DATABASES = ("postgresql", "sqlite")
CI_CHOICES = ("github", "gitlab", "none")

# A package named like one of these would shadow it: what the project imports, and the
# top-level modules and folders of the generated project itself.
THIRD_PARTY_MODULES = frozenset({
    "django", "gunicorn", "whitenoise", "environs", "dotenv", "marshmallow", "psycopg",
    "psycopg_pool", "dj_database_url", "dj_email_url", "brotli", "pytest", "pytest_django",
})  # fmt: skip
PROJECT_MODULES = frozenset({
    "config", "manage", "tests", "scripts", "static", "staticfiles", "templates", "media",
})  # fmt: skip

# sys.stdlib_module_names leaves out the "test" package, but it is there and would clash.
STDLIB_MODULES = sys.stdlib_module_names | {"test"}

SLUG_RE = re.compile(r"[a-z][a-z0-9_]*")
LABEL_RE = re.compile(r"[a-z0-9-]+")
# RFC 5322 dot-atom: what may stand before the @ without quoting.
LOCAL_PART_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")

# The same words cookiecutter's yes/no prompt accepts.
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "off"})

# Jinja's delimiters: cookiecutter renders an answer given with --no-input, from a replay or
# by a cruft update as a template, so one of these would be run, not written.
JINJA_DELIMITERS = ("{{", "{%", "{#")


def as_bool(value: bool | str) -> bool:
    """Read a yes/no answer: a bool from the prompt, or text from --no-input/extra_context."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def _unrepresentable(value: str) -> str | None:
    """Why a one-line answer cannot be written as typed, or None. Everything else (quotes,
    backslashes, braces, <, &, any letter or emoji) is escaped for each file it goes into."""
    for char in value:
        if char in "\r\n\u2028\u2029":
            return "must be one line: it contains a line break"
        if unicodedata.category(char) == "Cc" and char != "\t":
            return f"must not contain the control character U+{ord(char):04X}"
    for delimiter in JINJA_DELIMITERS:
        if delimiter in value:
            return (
                f"must not contain {delimiter!r}: cookiecutter would render it as a template"
                " (put a space between the two characters)"
            )
    return None


def _host_problem(host: str) -> str | None:
    """Why host is not a lowercase DNS name with a dot, or None."""
    if len(host) > 253:
        return f"is {len(host)} characters long; the limit is 253"
    if host != host.lower():
        return "has uppercase letters; use lowercase"
    labels = host.split(".")
    if "" in labels:
        return "has an empty label (a dot at the start or end, or two dots in a row)"
    for label in labels:
        if not label.isascii():
            return f"has a non-ASCII label {label!r}; use its xn-- (punycode) form"
        if not LABEL_RE.fullmatch(label):
            return f"has a label {label!r} with characters other than a-z, 0-9 and '-'"
        if len(label) > 63:
            return f"has a label longer than 63 characters ({len(label)})"
        if label.startswith("-") or label.endswith("-"):
            return f"has a label {label!r} that starts or ends with '-'"
    if len(labels) == 1:
        return "needs a dot, like example.com"
    return None


def check_project_slug(value: str) -> str | None:
    if not SLUG_RE.fullmatch(value):
        return "must be a lowercase Python identifier: a-z first, then only a-z, 0-9 or _"
    if len(value) > 50:
        return f"is {len(value)} characters long; the limit is 50"
    if keyword.iskeyword(value):
        return "is a Python keyword, so the package could not be imported"
    if value in STDLIB_MODULES:
        return "is a standard-library module name; the package would shadow it"
    if value in THIRD_PARTY_MODULES:
        return "is the name of a package the project imports; the package would shadow it"
    if value in PROJECT_MODULES:
        return "is already a top-level module or folder of the generated project"
    return None


def check_project_name(value: str) -> str | None:
    if not value.strip():
        return "must not be blank"
    if len(value) > 100:
        return f"is {len(value)} characters long; the limit is 100"
    return _unrepresentable(value)


def check_description(value: str) -> str | None:
    if len(value) > 200:
        return f"is {len(value)} characters long; the limit is 200"
    return _unrepresentable(value)


def check_author_name(value: str) -> str | None:
    if not value.strip():
        return "must not be blank"
    return _unrepresentable(value)


def check_author_email(value: str) -> str | None:
    if problem := _unrepresentable(value):
        return problem
    if any(char.isspace() for char in value):
        return "must not contain spaces"
    if value.count("@") != 1:
        return "must contain exactly one @, like you@example.com"
    local, domain = value.split("@")
    if not LOCAL_PART_RE.fullmatch(local):
        return "has an invalid part before the @ (letters, digits, dots and !#$%&'*+/=?^_`{|}~-)"
    # Mail domains are case-insensitive, so only the shape of the name is checked.
    problem = _host_problem(domain.lower())
    return f"has an invalid domain after the @ ({problem})" if problem else None


def check_domain_name(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if any(char.isspace() for char in value):
        return "must not contain spaces"
    if "://" in value:
        return "must not include a scheme like https://"
    if "@" in value:
        return "must not include a user name (user@)"
    if "/" in value:
        return "must not include a path (/...); give just the host name"
    if "?" in value or "#" in value:
        return "must not include a query or fragment (? or #)"
    if ":" in value:
        return "must not include a port (:8000); give just the host name"
    # The one dotless name worth allowing: local test deployments.
    return None if value == "localhost" else _host_problem(value)


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of: {', '.join(choices)}"

    return check


def check_time_zone(value: str) -> str | None:
    zones = zoneinfo.available_timezones()
    # No time zone database at all (Windows without tzdata): nothing to compare with, and
    # Django checks TIME_ZONE at startup anyway.
    if not zones or value in zones:
        return None
    for zone in zones:
        if zone.lower() == value.lower():
            return f"is not an IANA time zone name; did you mean {zone!r}?"
    return "is not an IANA time zone name, e.g. Europe/Paris or UTC"


def check_bool(value: str) -> str | None:
    try:
        as_bool(value)
    except ValueError:
        return "must be true or false (yes/no and 1/0 work too)"
    return None


CHECKS: dict[str, Callable[[str], str | None]] = {
    "project_name": check_project_name,
    "project_slug": check_project_slug,
    "description": check_description,
    "author_name": check_author_name,
    "author_email": check_author_email,
    "domain_name": check_domain_name,
    "python_version": _one_of(PYTHON_VERSIONS),
    "database": _one_of(DATABASES),
    "ci": _one_of(CI_CHOICES),
    "time_zone": check_time_zone,
    "run_smoke_test": check_bool,
}


def validate(answers: dict[str, str | bool]) -> list[str]:
    """One line per bad or missing answer, naming it and the rule; empty when all is well."""
    errors = []
    for key, check in CHECKS.items():
        if key not in answers:
            errors.append(f"{key} is missing")
            continue
        value = answers[key]
        # Templates render str(value) (True for a yes/no answer), so that text must be valid.
        problem = check(str(value))
        if problem:
            errors.append(f"{key}={value!r} {problem}")
    return errors


def main(answers: dict[str, str | bool]) -> None:
    """Print every problem to stderr and exit 1, or return quietly."""
    errors = validate(answers)
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    if errors:
        raise SystemExit(1)
