"""Benchmark capture over HTTP against a real `accord serve` (gunicorn, WSGI, threaded workers).

(a) Batch ingestion: POST /api/v1/events/batch in batches of 1,000 from a few client threads,
    then count the stored touchpoints (no loss, no duplicates). Target: 20,000 events/s.
(b) Single capture: the public form endpoint at a fixed request rate; p50/p99 latency, errors,
    and the stored count afterwards. Target: p99 under 50 ms at 200 requests/s, no error, none lost.

    .venv/bin/python bench/bench_capture.py --batches 100 --seconds 0   # (a) only, fresh SQLite
    .venv/bin/python bench/bench_capture.py --batches 0 --seconds 30    # (b) only, fresh SQLite
    .venv/bin/python bench/bench_capture.py --database-url "$ACCORD_PG_URL" --port 8772   # both, PostgreSQL

Each figure is printed with the load average (the machine is shared: read p99 against it) and
where the CPU went per request: the web server's (its process group's, from /proc, user and
system), PostgreSQL's (the postmaster and every process it forked: backends, WAL writer,
checkpointer), and the load generator's own; on PostgreSQL also the transactions and WAL flushes
per request (how many commits each flush covered). Loopback only; the server runs on its own port
with a temporary data dir and is stopped at the end.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HOST = "127.0.0.1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; a fresh SQLite file if left out")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers; `accord serve`'s default if 0")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker; `accord serve`'s default if 0")
    parser.add_argument("--batches", type=int, default=100, help="batches of 1,000 in (a); 0 skips (a)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent connections in (a)")
    parser.add_argument("--contacts", type=int, default=20000, help="distinct people across the events")
    parser.add_argument("--rate", type=int, default=200, help="requests per second in (b)")
    parser.add_argument("--seconds", type=int, default=30, help="duration of (b); 0 skips (b)")
    args = parser.parse_args()

    data_dir = setup_django(args.database_url, prefix="accord-bench-capture-")
    token, key = seed()
    database = "PostgreSQL" if args.database_url else f"SQLite ({data_dir})"
    print(f"database: {database}; gunicorn workers: {args.workers or 'default'} x {args.threads or 'default'} threads; port {args.port}; "
          f"load average {_load()}")

    server = _serve(args.port, args.workers, args.threads, data_dir)
    try:
        _wait_ready(args.port)
        # Warm every worker (first requests import and compile), then measure. `--key=`: a key
        # may start with "-", which argparse would take for an option of its own.
        _loadgen(args.port, "open", f"--key={key}", "--rate", "50", "--seconds", "2")
        log = data_dir / "server.log"
        if args.batches:
            _batch_run(args, token, server.pid, log)
        if args.seconds:
            _single_run(args, key, server.pid, log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    return 0


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _cpu(*, group: int = 0, parent: int = 0) -> tuple[float, float]:
    """Return the (user, system) CPU seconds used so far by a process group, or a process and its children."""
    user = system = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid, pgrp = int(stat.parent.name), int(fields[1]), int(fields[2])
        if (group and pgrp == group) or (parent and parent in (pid, ppid)):
            user, system = user + int(fields[11]), system + int(fields[12])
    ticks = os.sysconf("SC_CLK_TCK")
    return user / ticks, system / ticks


class _Meter:
    """Measure where a run's CPU went: the web server, PostgreSQL, the load generator."""

    def __init__(self, server: int) -> None:
        from django.db import connection

        self.server, self.postmaster = server, 0
        self.postgres = connection.vendor == "postgresql"
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
            self.postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        self.start = self._sample()

    def _sample(self) -> dict[str, float]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the load generator, once reaped
        web_user, web_system = _cpu(group=self.server)
        sample = {"web_user": web_user, "web_system": web_system,
                  "loadgen": children.ru_utime + children.ru_stime}
        if self.postgres:
            from django.db import connection

            sample["postgres"] = sum(_cpu(parent=self.postmaster))
            with connection.cursor() as cursor:
                cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
                sample["commits"] = cursor.fetchone()[0]
                cursor.execute("SELECT wal_sync, wal_bytes FROM pg_stat_wal")
                sample["wal_syncs"], sample["wal_bytes"] = map(float, cursor.fetchone())
        return sample

    def report(self, count: int, unit: str, *, loadgen_cpu: float | None = None) -> str:
        """Return the CPU per request since the meter started, one field each.

        `loadgen_cpu`, when the load generator measured it, is its CPU while sending: its
        process's total also holds the building of the requests before the clock started.
        """
        end = self._sample()
        used = {name: end[name] - self.start[name] for name in end}
        if loadgen_cpu is not None:
            used["loadgen"] = loadgen_cpu
        web = used["web_user"] + used["web_system"]
        text = (f"server CPU {web / count * 1000:.2f} ms a {unit} ({used['web_system'] / count * 1000:.2f} of it "
                f"system)")
        if self.postgres:
            # The bench's own two statements a sample are among the commits; noise against thousands.
            text += (f", PostgreSQL CPU {used['postgres'] / count * 1000:.2f} ms a {unit}, "
                     f"{used['commits'] / count:.2f} transactions, {used['wal_syncs'] / count:.2f} WAL flushes and "
                     f"{used['wal_bytes'] / count / 1024:,.0f} KB of WAL a {unit}")
        return text + f", load generator CPU {used['loadgen'] / count * 1000:.2f} ms a {unit}"


def _loadgen(port: int, *argv: str) -> dict:
    """Run the load generator in its own process and return its results."""
    command = [sys.executable, str(Path(__file__).with_name("loadgen.py")), argv[0], "--port", str(port),
               "--run", uuid.uuid4().hex[:8], *argv[1:]]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    result["run"] = command[command.index("--run") + 1]
    return result


def setup_django(database_url: str, *, prefix: str) -> Path:
    """Point Accord at a fresh data dir (and PostgreSQL when given), set Django up, migrate."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    # Deleted at exit: each run's database and server log, a few MB to hundreds, are not reread.
    atexit.register(shutil.rmtree, data_dir, True)
    os.environ["ACCORD_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-" + uuid.uuid4().hex)
    if database_url:
        os.environ["ACCORD_DATABASE_URL"] = database_url
    else:
        os.environ.pop("ACCORD_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def seed() -> tuple[str, str]:
    from accord.accounts.models import User
    from accord.accounts.services import issue_api_token
    from accord.capture.models import Campaign, CaptureSource
    from accord.core.permissions import Role

    user = User.objects.create(username=f"bench-{uuid.uuid4().hex[:8]}", role=Role.MARKETING)
    _, token = issue_api_token(user=user, name="bench")
    for n in range(5):
        Campaign.objects.get_or_create(
            utm_campaign=f"bench-c{n}", defaults={"name": f"Bench {n}", "channel": "paid_search"}
        )
    source = CaptureSource.objects.create(
        name="Bench form", rate_limit_per_minute=1_000_000, ip_rate_limit_per_minute=1_000_000
    )
    return token, source.public_key


def _serve(port: int, workers: int, threads: int, data_dir: Path) -> subprocess.Popen:
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    command = [sys.executable, "-m", "accord.cli", "serve", "--host", HOST, "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def _server_times(log: Path, start: int, path: str) -> str:
    """Return the percentiles of the time gunicorn spent on each POST to `path` logged after `start`.

    The access log's last field (accord.config.gunicorn): from the request read to the answer
    written, so the client's latency less this is time queued in front of the workers.
    """
    with log.open("rb") as handle:
        handle.seek(start)
        lines = handle.read().decode(errors="replace").splitlines()
    times = sorted(int(line.rsplit(" ", 1)[1]) / 1000 for line in lines if f'"POST {path}' in line)
    if not times:
        return "server-side times: none logged"
    return (f"server-side time p50 {times[len(times) // 2]:.1f} ms, p90 {times[int(len(times) * 0.9)]:.1f} ms, "
            f"p99 {times[min(len(times) - 1, int(len(times) * 0.99))]:.1f} ms, max {times[-1]:.1f} ms")


def _batch_run(args, token: str, server: int, log: Path) -> None:
    from accord.capture.models import Touchpoint

    start = log.stat().st_size
    meter = _Meter(server)
    result = _loadgen(args.port, "closed", "--token", token, "--clients", str(args.clients),
                      "--batches", str(args.batches), "--contacts", str(args.contacts))
    cpu = meter.report(result["batches"], "batch", loadgen_cpu=result["cpu"])
    sent, run = result["events"], result["run"]
    stored = Touchpoint.objects.filter(external_id__startswith=f"{run}-").count()
    distinct = Touchpoint.objects.filter(external_id__startswith=f"{run}-").values("external_id").distinct().count()
    errors = sum(count for status, count in result["statuses"].items() if status != "200")
    print(
        f"(a) batch ingestion: {sent:,} events in {result['batches']} batches of 1,000, {args.clients} clients: "
        f"{result['elapsed']:.2f} s = {sent / result['elapsed']:,.0f} events/s; batch p50 {result['p50_ms']:.0f} ms, "
        f"max {result['max_ms']:.0f} ms; {cpu}; "
        f"non-200 answers: {errors}; stored {stored:,} (distinct ids {distinct:,}; lost {sent - stored:,}, "
        f"duplicated {stored - distinct:,}); {_server_times(log, start, '/api/v1/events/batch')}; "
        f"load average {_load()}"
    )


def _single_run(args, key: str, server: int, log: Path) -> None:
    from accord.capture.models import Touchpoint

    start = log.stat().st_size
    meter = _Meter(server)
    result = _loadgen(args.port, "open", f"--key={key}", "--rate", str(args.rate), "--seconds", str(args.seconds))
    cpu = meter.report(result["requests"], "post")
    total, run = result["requests"], result["run"]
    stored = Touchpoint.objects.filter(anonymous_id__startswith=f"{run}-").count()
    errors = sum(count for status, count in result["statuses"].items() if status != "201")
    print(
        f"(b) single capture offered at {args.rate}/s for {args.seconds} s (open loop, latency from the scheduled "
        f"send): {total:,} requests in {result['elapsed']:.1f} s; p50 {result['p50_ms']:.1f} ms, "
        f"p90 {result['p90_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms; "
        f"{cpu}; errors {errors}; late sends {result['late_sends']}; "
        f"stored {stored:,} touchpoints (lost {total - stored:,}); {_server_times(log, start, '/capture/')}; "
        f"load average {_load()}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
