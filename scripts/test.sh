#!/bin/sh
# Set everything up and run the whole suite: lint, import rules, then the tests on
# SQLite and, where PostgreSQL's binaries are installed, on a throwaway cluster, the two
# side by side (ACCORD_TEST_SERIAL=1 runs one after the other). Arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
sh scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== lint (ruff) and app boundaries (import-linter)"
ruff check --quiet src tests bench conftest.py
lint-imports --no-cache >/dev/null && echo "import contracts kept"

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
    echo "== tests on SQLite (PostgreSQL binaries not found: no PostgreSQL run)"
    ACCORD_DATABASE_URL= exec pytest "$@"
fi

# Each run gets its own data folder (uploads, exports, error reports) and temporary folder
# (SQLite's test database), so the two never share a file and nothing is left behind.
work=$(mktemp -d /tmp/accord-test.XXXXXX)
mkdir -p "$work/sqlite/tmp" "$work/postgresql/tmp"
eval "$(sh scripts/pg-throwaway.sh start "$pg_bin")"
sqlite_pid=""
cleanup() {
    [ -n "$sqlite_pid" ] && kill "$sqlite_pid" 2>/dev/null
    sh scripts/pg-throwaway.sh stop "$pg_bin" "$ACCORD_PG_DIR"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

run_sqlite() {
    ACCORD_DATABASE_URL= ACCORD_DATA_DIR="$work/sqlite" TMPDIR="$work/sqlite/tmp" pytest "$@"
}
run_postgresql() {
    ACCORD_DATABASE_URL="$ACCORD_PG_URL" ACCORD_SECRET_KEY=test-only-secret ACCORD_DATA_DIR="$work/postgresql" TMPDIR="$work/postgresql/tmp" pytest "$@"
}

if [ "${ACCORD_TEST_SERIAL:-0}" = "1" ]; then
    echo "== tests on SQLite"
    run_sqlite "$@"
    echo "== tests on PostgreSQL ($pg_bin)"
    run_postgresql "$@"
    exit 0
fi

# Side by side: many tests wait on a worker process, a browser or a server, and each run
# mostly uses one core, so on two cores the whole suite takes about as long as its slower half.
# SQLite's output is kept and printed when both are done.
(set +e; run_sqlite "$@" >"$work/sqlite.log" 2>&1; echo $? >"$work/sqlite.rc") &
sqlite_pid=$!
echo "== tests on PostgreSQL ($pg_bin), with the SQLite run alongside"
set +e
run_postgresql "$@"
postgresql_rc=$?
wait "$sqlite_pid"
sqlite_pid=""
set -e
echo "== tests on SQLite"
cat "$work/sqlite.log"
sqlite_rc=$(cat "$work/sqlite.rc" 2>/dev/null || echo 1)
echo "== PostgreSQL: exit $postgresql_rc; SQLite: exit $sqlite_rc"
[ "$postgresql_rc" = "0" ] && [ "$sqlite_rc" = "0" ] && exit 0
exit 1
