"""Benchmark how long `accord serve` takes from the command to its first answered page.

Starts `accord serve --workers 2` on its own port against the data folder in use (so the
migration check finds nothing to do, as on every start but an upgrade's), polls /login/ until it
answers, and prints the wall time, the CPU time of the whole process tree (the command, the
gunicorn master, its workers: the figure that load on a shared machine moves least) and the load
average; then stops the server. Run it after `sh scripts/bootstrap.sh`, which compiles the
bytecode; `--no-bytecode` reads none (an empty PYTHONPYCACHEPREFIX), as a start did before.

    .venv/bin/python bench/bench_serve_start.py --runs 3
    .venv/bin/python bench/bench_serve_start.py --runs 2 --no-bytecode
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tree_cpu_seconds(pid: int) -> float:
    """Return the user and system CPU of `pid` and its descendants (and their reaped children)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
    todo, total = [pid], 0
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])
        todo.extend(child for child, parent in parents.items() if parent == current)
    return total / os.sysconf("SC_CLK_TCK")


def one_start(*, bytecode: bool) -> tuple[float, float]:
    port = free_port()
    env = dict(os.environ)
    empty = None
    if not bytecode:
        empty = tempfile.TemporaryDirectory()
        env["PYTHONPYCACHEPREFIX"] = empty.name
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.monotonic()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/accord"), "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/login/", timeout=5) as response:
                    response.read()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"accord serve exited with {server.returncode} before answering") from None
                time.sleep(0.05)
        return time.monotonic() - started, tree_cpu_seconds(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        if empty is not None:
            empty.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-bytecode", action="store_true", help="read no compiled bytecode")
    args = parser.parse_args()
    for run in range(1, args.runs + 1):
        wall, cpu = one_start(bytecode=not args.no_bytecode)
        load = os.getloadavg()[0]
        print(f"start {run}: answered after {wall:.1f} s, {cpu:.1f} s of CPU (load average {load:.2f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
