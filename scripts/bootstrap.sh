#!/bin/sh
# Create .venv with a Python 3.12+ and install the locked dependencies into it.
# Needs only a python3.12+ (on PATH or in pyenv) and network access to PyPI.
set -eu
cd "$(dirname "$0")/.."

is_modern() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
    if [ -n "${ACCORD_PYTHON:-}" ] && is_modern "$ACCORD_PYTHON"; then
        echo "$ACCORD_PYTHON"; return 0
    fi
    for candidate in python3.14 python3.13 python3.12 python3 python; do
        if path=$(command -v "$candidate" 2>/dev/null) && is_modern "$path"; then
            echo "$path"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        for version in $(pyenv versions --bare 2>/dev/null | sort -r -V); do
            path="$(pyenv root)/versions/$version/bin/python3"
            if [ -x "$path" ] && is_modern "$path"; then
                echo "$path"; return 0
            fi
        done
    fi
    return 1
}

if [ -x .venv/bin/python ] && is_modern .venv/bin/python && [ -x .venv/bin/uv ]; then
    :
else
    if ! PYTHON=$(find_python); then
        echo "accord: no Python 3.12 or newer found (looked on PATH and in pyenv); install one or set ACCORD_PYTHON=/path/to/python3.12" >&2
        exit 1
    fi
    rm -rf .venv
    echo "accord: creating .venv with $PYTHON" >&2
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi

# uv installs exactly what uv.lock pins (and fails if pyproject.toml and the lock disagree).
# It compiles the bytecode too, and so does compileall for Accord's own sources (skipping files
# already compiled): uv leaves that to the first import, which never saves it where
# PYTHONDONTWRITEBYTECODE is set (as in many containers), so every `accord serve` compiled
# scikit-learn, scipy and Django anew, about two thirds of its start.
UV_PROJECT_ENVIRONMENT=.venv UV_PYTHON=.venv/bin/python UV_PYTHON_DOWNLOADS=never \
UV_SYSTEM_CERTS=${UV_SYSTEM_CERTS:-1} .venv/bin/uv sync --locked --quiet --compile-bytecode
.venv/bin/python -m compileall -q src
