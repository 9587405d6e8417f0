#!/bin/sh
# Start or stop a throwaway PostgreSQL cluster on a free 127.0.0.1 port.
#   start BIN_DIR       prints `export ACCORD_PG_URL=… ACCORD_PG_DIR=…` for eval
#   stop  BIN_DIR DIR   stops the cluster and deletes its folder
# ACCORD_PG_FSYNC=on starts it with fsync on (PostgreSQL's default), for benchmarks whose
# figures must include the cost of a durable commit.
set -eu
action=$1
bin=$2

as_owner() {
    # initdb refuses to run as root; run it as the postgres user when we are root.
    if [ "$(id -u)" = "0" ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    dir=$(mktemp -d /tmp/accord-pg.XXXXXX)
    [ "$(id -u)" = "0" ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off by default: the cluster is thrown away, and it roughly halves the suite's time.
    sync_flag="-F"
    [ "${ACCORD_PG_FSYNC:-off}" = "on" ] && sync_flag=""
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir $sync_flag -c max_connections=100" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "export ACCORD_PG_URL=postgresql://postgres@127.0.0.1:$port/postgres ACCORD_PG_DIR=$dir"
    ;;
stop)
    dir=$3
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
esac
