"""Jinja2 extension that tells the hook templates whether this is a re-render.

`cruft update` and `cruft diff` render the template again, into a temporary folder, to compare
it with the project; cookiecutter then runs the hooks there too. What makes a project the
user's own (its `.env` with fresh secrets, its virtualenv, the smoke test) must not happen
then: the comparison would carry new secrets into the project, and each update would spend
minutes installing dependencies into a folder about to be deleted. cruft has no flag for it,
but both commands render through one function of its own, which is on the call stack while
cookiecutter loads this extension (in-process, unlike the hooks themselves).
"""

import sys

from jinja2 import Environment
from jinja2.ext import Extension

# cruft's module that renders the template again for `cruft update` and `cruft diff`.
CRUFT_RERENDER_MODULE = "cruft._commands.utils.generate"


def cruft_is_rerendering() -> bool:
    frame = sys._getframe()
    while frame is not None:
        if frame.f_globals.get("__name__") == CRUFT_RERENDER_MODULE:
            return True
        frame = frame.f_back
    return False


class Rerender(Extension):
    """Add the ``rerendering`` global: True inside `cruft update` and `cruft diff`."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["rerendering"] = cruft_is_rerendering()
