"""Copier's task (copier.yml): what cookiecutter's post-generation hook does, by the same code.

    python copier_task.py ANSWERS_JSON OPERATION

OPERATION is Copier's: "copy" for a new project; "update" while `copier update` renders the
template again (into temporary folders as well as the project), where nothing that makes a
project the user's own may happen (hooks/post_generation.py, rerendering).
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from post_generation import main  # noqa: E402

answers, operation = json.loads(sys.argv[1]), sys.argv[2]
main(answers, rerendering=operation != "copy")
