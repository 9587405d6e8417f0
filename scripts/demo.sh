#!/bin/sh
# Set everything up and run the demo on the embedded SQLite database.
set -eu
cd "$(dirname "$0")/.."
sh scripts/bootstrap.sh
exec .venv/bin/accord demo "$@"
