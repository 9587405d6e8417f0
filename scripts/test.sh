#!/bin/sh
# Set everything up and run the whole suite: lint, import rules, then the tests on
# SQLite and, where PostgreSQL's binaries are installed, on a throwaway cluster.
set -eu
cd "$(dirname "$0")/.."
sh scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== lint (ruff) and app boundaries (import-linter)"
ruff check --quiet src tests bench conftest.py
lint-imports --no-cache >/dev/null && echo "import contracts kept"

echo "== tests on SQLite"
ACCORD_DATABASE_URL= pytest "$@"

pg_bin=""
if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    pg_bin=$(dirname "$(command -v pg_ctl)")
else
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/pg_ctl" ] && pg_bin="$dir"
    done
fi
if [ -z "$pg_bin" ]; then
    if [ "${ACCORD_REQUIRE_POSTGRES:-0}" = "1" ]; then
        echo "PostgreSQL binaries (initdb, pg_ctl) not found, and ACCORD_REQUIRE_POSTGRES=1" >&2
        exit 1
    fi
    echo "== PostgreSQL binaries not found: skipped the PostgreSQL run"
    exit 0
fi

echo "== tests on PostgreSQL ($pg_bin)"
eval "$(sh scripts/pg-throwaway.sh start "$pg_bin")"
trap 'sh scripts/pg-throwaway.sh stop "$pg_bin" "$ACCORD_PG_DIR"' EXIT INT TERM
ACCORD_DATABASE_URL="$ACCORD_PG_URL" ACCORD_SECRET_KEY=test-only-secret pytest "$@"
