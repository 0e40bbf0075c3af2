"""How config/variables.py declares a variable, and how the environment is read.

A declaration says what a variable accepts (in words, for the docs and the error messages), its
default and its meaning; environs parses the values. read() checks every variable at once, so
one bad value or many, start-up stops with one line per bad variable, naming it and what it
accepts.
"""

import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

# Parses one variable with environs: (environs.Env, name) -> value; raises ValueError.
Parser = Callable[[Any, str], Any]
# A rule between variables: (its value, every value) -> what was expected, or None.
Rule = Callable[[Any, "Resolver"], "str | None"]


@dataclass(frozen=True)
class Kind:
    """What a variable accepts, in words, and its parser. Without one, read() leaves the
    variable alone: another program reads it (Docker Compose, gunicorn itself), or, for
    ENV_FILE, it is read before all the others."""

    accepts: str
    parse: Parser | None = None


class Example(NamedTuple):
    """A value .env.example sets, and why."""

    value: str
    why: str


@dataclass(frozen=True)
class Variable:
    name: str
    kind: Kind
    default: Any  # a value, or a function of the other values (a Resolver)
    meaning: str  # one line: README.md's table and .env.example show it
    shown_default: str = ""  # the default in words, when it is computed
    example: Example | None = None  # else .env.example shows the default, commented out
    secret: bool = False  # its value never appears in a message
    rule: Rule | None = None
    used_in: str = ""  # where its value is used; its section's file unless set
    env_file: bool = True  # False: read from the real environment only

    @property
    def file_variable(self) -> str | None:
        """NAME_FILE for a secret: the path of a file holding its value, as Docker's and
        Kubernetes' secrets are mounted."""
        return f"{self.name}_FILE" if self.secret and self.kind.parse else None

    @property
    def literal_default(self) -> str | None:
        """The default as it would be written in .env ("" for none); None when computed."""
        if self.shown_default:
            return None
        if isinstance(self.default, bool):
            return str(self.default).lower()
        if isinstance(self.default, list):
            return ",".join(self.default)
        return "" if self.default is None else str(self.default)

    @property
    def default_text(self) -> str:
        """The default for the docs: in words when computed, "empty" when there is none."""
        return self.shown_default or self.literal_default or "empty"


@dataclass(frozen=True)
class Section:
    title: str
    used_in: str  # the file that uses these values
    variables: tuple[Variable, ...]

    def __post_init__(self) -> None:
        # Each variable says where it is used: here, unless it says otherwise.
        stamped = tuple(replace(v, used_in=v.used_in or self.used_in) for v in self.variables)
        object.__setattr__(self, "variables", stamped)


class InvalidEnvironment(Exception):
    """Bad values: `lines` holds one line for each bad variable."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines

    def report(self, program: str) -> str:
        """The lines as `program` prints them before it exits, each naming it: as JSON objects
        when the logs are JSON (DJANGO_LOG_FORMAT, as given: it may be one of the bad values),
        so that a log collector reads every line."""
        if os.environ.get("DJANGO_LOG_FORMAT", "").strip().lower() == "json":
            fields = {"levelname": "CRITICAL", "name": program}
            return "\n".join(json.dumps({**fields, "message": line}) for line in self.lines)
        return "\n".join(f"{program}: {line}" for line in self.lines)


class Values(dict):
    """Every value by variable name; `given` names the variables the environment set."""

    def __init__(self, values: Mapping[str, Any], given: frozenset[str]):
        super().__init__(values)
        self.given = given


# --- Kinds ------------------------------------------------------------------------------------


def integer(low: int, high: int) -> Kind:
    return Kind(
        f"an integer from {low} to {high}", _in_range(lambda env, name: env.int(name), low, high)
    )


def number(low: float, high: float) -> Kind:
    return Kind(
        f"a number from {low:g} to {high:g}",
        _in_range(lambda env, name: env.float(name), low, high),
    )


def _in_range(parse: Parser, low: float, high: float) -> Parser:
    def parse_in_range(env, name: str):
        value = parse(env, name)
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range")
        return value

    return parse_in_range


def choice(*choices: str) -> Kind:
    """One of `choices`, in any case."""

    def parse(env, name: str) -> str:
        value = env.str(name).strip().lower()
        if value not in choices:
            raise ValueError(f"{value!r} is not a choice")
        return value

    return Kind("one of " + ", ".join(choices), parse)


def words(accepts: str, check: Callable[[str], bool] = bool) -> Kind:
    """Text that `check` accepts."""

    def parse(env, name: str) -> str:
        value = env.str(name).strip()
        if not check(value):
            raise ValueError("refused")
        return value

    return Kind(accepts, parse)


def listing(accepts: str, check: Callable[[str], bool] = bool) -> Kind:
    """Comma-separated items, each of which `check` accepts."""

    def parse(env, name: str) -> list[str]:
        items = [item for item in env.list(name, subcast=str.strip) if item]
        if not all(check(item) for item in items):
            raise ValueError("an item is refused")
        return items

    return Kind(accepts, parse)


BOOLEAN = Kind("true or false (or yes/no, on/off, 1/0)", lambda env, name: env.bool(name))
PATH = Kind("a path", lambda env, name: env.path(name))
LOG_LEVEL = Kind("debug, info, warning, error or critical", lambda env, name: env.log_level(name))


# --- Reading ----------------------------------------------------------------------------------


class Resolver(Mapping):
    """The values while they are read: a given value, else its default, computed on first use
    (so a default may use any other value, declared before or after it)."""

    def __init__(self, variables: dict[str, Variable], given: dict[str, Any]):
        self.variables = variables
        self.given = given
        self._defaults: dict[str, Any] = {}
        self._computing: list[str] = []

    def __getitem__(self, name: str) -> Any:
        if name in self.given:
            return self.given[name]
        if name not in self._defaults:
            if name in self._computing:
                raise RuntimeError(f"defaults computed from each other: {self._computing}")
            self._computing.append(name)
            default = self.variables[name].default
            self._defaults[name] = default(self) if callable(default) else default
            self._computing.pop()
        return self._defaults[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)


def read(sections: tuple[Section, ...], env_file: str) -> Values:
    """Every variable with a parser: from the real environment, else from `env_file` (none
    when empty), else its default; an empty value counts as unset."""
    from environs import Env  # imported here: the docs render with the standard library only

    env = Env()
    if env_file:
        try:  # recurse=False: that file only; a missing one is fine
            env.read_env(env_file, recurse=False)
        except (OSError, ValueError) as error:  # a folder, unreadable, not UTF-8
            # Alone: what the file would have set is unknown, so the other lines would mislead.
            line = f"ENV_FILE={env_file!r} cannot be read: {_reason(error)}"
            raise InvalidEnvironment([line]) from None
    problems = []
    variables = {v.name: v for section in sections for v in section.variables if v.kind.parse}
    for variable in variables.values():
        problems += _read_from_file(env, variable)
    raw = {name: env.str(name, "").strip() for name in variables}
    given, bad = {}, set()
    for name, variable in variables.items():
        if raw[name]:
            try:
                given[name] = variable.kind.parse(env, name)
            except ValueError:  # environs' errors are ValueErrors too
                bad.add(name)
                problems.append(_invalid(variable, raw[name], f"expected {variable.kind.accepts}"))
    values = Resolver(variables, given)
    for name, variable in variables.items():
        if variable.rule and name not in bad and (broken := variable.rule(values[name], values)):
            problems.append(_invalid(variable, raw[name], broken))
    if problems:
        raise InvalidEnvironment(problems)
    return Values({name: values[name] for name in variables}, frozenset(given))


def _read_from_file(env, variable: Variable) -> list[str]:
    """A secret named by its NAME_FILE: the file's content becomes NAME, for the parsers and
    for Django. Both set to different values is refused: which one wins would be a guess."""
    path = env.str(variable.file_variable, "").strip() if variable.file_variable else ""
    if not path:
        return []
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        return [f"{variable.file_variable}={path!r} cannot be read: {_reason(error)}"]
    if env.str(variable.name, "").strip() not in ("", value):  # equal: an earlier read set it
        return [f"{variable.name} and {variable.file_variable} are both set: set one of them"]
    os.environ[variable.name] = value
    return []


def _reason(error: Exception) -> str:
    """Why a file cannot be read, without its path again: "Permission denied"."""
    return getattr(error, "strerror", None) or str(error)


def _invalid(variable: Variable, raw: str, expected: str) -> str:
    if not raw:
        return f"{variable.name} is not set: {expected}"
    if variable.secret:
        return f"{variable.name} is invalid (its value is not shown): {expected}"
    return f"{variable.name}={raw!r} is invalid: {expected}"
