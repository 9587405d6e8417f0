#!/bin/sh
# Time the README's demo command on a clean clone: from `git clone` to the first page served.
#   sh bench/clean_clone_demo.sh [PORT]
# Prints the seconds until http://127.0.0.1:PORT/login/ answers 200, then stops the demo.
set -eu
port=${1:-8000}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/accord-clean-clone.XXXXXX)
start=$(date +%s.%N)
git clone -q "$repo" "$work/accord"
cd "$work/accord"
sh scripts/demo.sh --port "$port" >"$work/demo.log" 2>&1 &
demo_pid=$!
until curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/login/" 2>/dev/null | grep -q 200; do
    if ! kill -0 "$demo_pid" 2>/dev/null; then
        cat "$work/demo.log" >&2
        echo "the demo exited before serving" >&2
        exit 1
    fi
    sleep 0.2
done
end=$(date +%s.%N)
printf 'clean clone to first page: %.1f s (load average: %s)\n' \
    "$(echo "$end - $start" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
grep -E "Demo|contacts" "$work/demo.log" | tail -2 || true
pkill -TERM -P "$demo_pid" 2>/dev/null || true
kill "$demo_pid" 2>/dev/null || true
sleep 2
pkill -f "$work/accord" 2>/dev/null || true
rm -rf "$work"
