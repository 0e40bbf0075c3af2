#!/usr/bin/env bash
# Runs the template's whole test suite: bash tests/run.sh [pytest arguments]
#
# Finds a Python >= 3.12 (Django 6 needs it), installs the pinned tooling into .venv with uv
# (uv itself comes from PyPI when it is not on the PATH), then runs pytest.
# PostgreSQL tests need TEST_DATABASE_URL (postgres://user:password@host:port, a role that may
# create databases); without it they are skipped, except in CI, where they fail.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidate
  # On the PATH first, then pyenv's versions (newest first; pyenv itself need not be set up).
  for candidate in python3.13 python3.12 python3.14 python3 \
      $(ls -d "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if ! PYTHON=$(find_python); then
  echo "ERROR: no Python >= 3.12 found (looked for python3.12/3.13/3.14 on the PATH and under" \
       "~/.pyenv/versions). Django 6 needs 3.12 or newer: install one, then run this again." >&2
  exit 1
fi

UV=$(command -v uv || true)
if [ -z "$UV" ]; then
  # A private copy of uv, pinned, from PyPI.
  if [ ! -x .tools/bin/uv ]; then
    echo "uv is not on the PATH: installing uv 0.13.9 into .tools/"
    "$PYTHON" -m venv .tools
    .tools/bin/pip install --quiet uv==0.13.9
  fi
  UV=.tools/bin/uv
fi

export UV_PYTHON_DOWNLOADS=never
echo "Python: $PYTHON ($("$PYTHON" --version)); uv: $("$UV" --version)"
"$UV" sync --locked --python "$PYTHON" --quiet
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
