"""Benchmark the contacts CSV import: a generated HubSpot-style file into SQLite and PostgreSQL.

    .venv/bin/python bench/bench_import.py [--rows 1000000] [--postgres-url URL] [--workdir DIR]

Generates a deterministic contacts export (seeded: the same file every time) in a temporary
folder, imports it into a fresh SQLite database and, when --postgres-url or
ACCORD_BENCH_PG_URL is given, into a fresh PostgreSQL database created next to the given one;
then imports it a second time, which must report every row unchanged. Prints wall time,
rows/s, CPU per row (this process and the child that reads the file; PostgreSQL's backend
and its whole cluster apart), the fast path's phases and peak RSS per run, with `uptime`
before and after. Each database runs in its own process, so its settings and its peak
memory are its own. A file already in --workdir is reused. --tracemalloc adds the Python heap's peak (and slows the run).
"""

from __future__ import annotations

import argparse
import atexit
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Job Title", "Phone Number", "Company Name",
    "Lifecycle Stage", "Lead Status", "Contact owner", "Original Source", "Create Date",
    "Country/Region",
]
FIRST = ["Ada", "Bob", "Chen", "Dana", "Emil", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kofi",
         "Lea", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Vik",
         "Wen", "Xavier", "Yara", "Zoe", "José", "Zoë", "Björn", "Siân"]
LAST = ["Smith", "Jones", "Müller", "Garcia", "Chen", "Okafor", "Rossi", "Dubois", "Kowalski",
        "Silva", "Tanaka", "Nguyen", "Ivanova", "Haddad", "O'Brien", "Johansson", "Patel",
        "Kim", "Novak", "Santos"]
TITLES = ["CEO", "CTO", "VP Marketing", "Marketing Manager", "Head of Sales", "Engineer",
          "Analyst", "Director of Operations", "Procurement Lead", "Student", ""]
STAGES = ["subscriber", "lead", "lead", "lead", "marketingqualifiedlead", "salesqualifiedlead",
          "opportunity", "customer", "evangelist", "other"]
STATUSES = ["", "NEW", "OPEN", "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING"]
SOURCES = ["ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
           "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL"]
COUNTRIES = ["United States", "US", "Germany", "United Kingdom", "France", "Canada", "Brazil",
             "India", "Australia", "Netherlands", ""]
FREE = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "gmx.de", "web.de"]
OWNERS = 20
COMPANIES = 50_000


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write a deterministic HubSpot contacts export with `rows` distinct people."""
    rnd = random.Random(seed)
    companies = [(f"Company {n} {rnd.choice(['Inc', 'GmbH', 'Ltd', 'SA', 'LLC'])}", f"company{n}.example")
                 for n in range(COMPANIES)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            company, domain = companies[rnd.randrange(COMPANIES)]
            if rnd.random() < 0.15:
                domain, company = rnd.choice(FREE), ("" if rnd.random() < 0.5 else company)
            local = f"{first}.{last}".lower().replace("'", "").encode("ascii", "ignore").decode()
            created = f"20{rnd.randint(22, 25)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} " \
                      f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}"
            writer.writerow([
                100_000 + n, first, last, f"{local}.{n}@{domain}", rnd.choice(TITLES),
                f"+1 555 {rnd.randint(1000000, 9999999)}", company, rnd.choice(STAGES),
                rnd.choice(STATUSES), f"owner{rnd.randrange(OWNERS)}@northwind.example" if rnd.random() < 0.7 else "",
                rnd.choice(SOURCES), created, rnd.choice(COUNTRIES),
            ])


def run_one(database: str, csv_path: Path, data_dir: Path, pg_url: str | None, trace: bool) -> dict:
    """Import the file twice into a fresh database in this process; return the figures."""
    os.environ["ACCORD_DATA_DIR"] = str(data_dir)
    os.environ["ACCORD_DATABASE_URL"] = pg_url or ""
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accord.accounts.models import User
    from accord.capture.models import Account, Contact
    from accord.imports.services import import_file
    from accord.lifecycle.models import StageTransition

    User.objects.bulk_create([
        User(username=f"owner{n}", email=f"owner{n}@northwind.example") for n in range(OWNERS)
    ])
    if trace:
        import tracemalloc

        tracemalloc.start()
    runs = []
    for label in ("first import", "re-import"):
        started, server_started = time.perf_counter(), _server_cpu_seconds()
        cluster_started, wal_started = _cluster_cpu_seconds(), _wal_bytes()
        own_started, cpu_started = time.process_time(), _cpu_seconds()
        summary = import_file(kind="contacts", path=csv_path, report_path=data_dir / "errors.csv")
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
        own = time.process_time() - own_started
        server = _server_cpu_seconds()
        cluster, wal = _cluster_cpu_seconds(), _wal_bytes()
        run = {
            "database": database, "run": label, "rows": summary.rows, "seconds": round(seconds, 2),
            "rows_per_s": round(summary.rows / seconds), "cpu_seconds": round(cpu, 1),
            # On a shared machine wall time measures the neighbours too; the import's CPU time
            # (both threads, and the child process that reads the file) does not.
            # PostgreSQL's own CPU is not in it.
            "rows_per_cpu_s": round(summary.rows / cpu), "cpu_us_per_row": round(cpu / summary.rows * 1e6, 1),
            # On an idle machine the busier of the two processes sets the pace.
            "writer_us_per_row": round(own / summary.rows * 1e6, 1),
            "reader_us_per_row": round((cpu - own) / summary.rows * 1e6, 1),
            # The PostgreSQL backend's own CPU, when the server runs on this machine.
            "server_cpu_us_per_row": (round((server - server_started) / summary.rows * 1e6, 1)
                                      if server is not None and server_started is not None else None),
            # Every process of the cluster: the builders of indexes and keys, WAL writer, autovacuum.
            "cluster_cpu_us_per_row": (round((cluster - cluster_started) / summary.rows * 1e6, 1)
                                       if cluster is not None and cluster_started is not None else None),
            "wal_bytes_per_row": round((wal - wal_started) / summary.rows) if wal is not None else None,
            "created": summary.created,
            "updated": summary.updated, "unchanged": summary.unchanged, "rejected": summary.rejected,
            # ru_maxrss is in KiB on Linux: the process's peak so far (both runs for the re-import).
            # The reading child's peak counts too: both are resident at once.
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "child_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            # Load averages as the run ends: on a shared machine, the figure's context.
            "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        }
        phases = summary.phases
        if phases is not None:
            rows = max(summary.rows, 1)
            run["phases"] = {
                "fast_rows": phases.fast_rows, "per_row_rows": phases.per_row_rows,
                # CPU µs per row of the file: the reading thread's parse and checks, the
                # per-row path's rows, and the staging and set-based writes.
                "read_check_us": round(phases.read_check / rows * 1e6, 1),
                "per_row_us": round(phases.per_row / rows * 1e6, 1),
                "write_us": round(phases.write / rows * 1e6, 1),
                "index_rebuild_s": {name: round(seconds, 2) for name, seconds in phases.extra.items()},
                "rebuild_wall_s": round(phases.bulk.rebuilt_wall, 1) if phases.bulk is not None else 0.0,
            }
        if trace:
            run["python_heap_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
            tracemalloc.reset_peak()
        runs.append(run)
    runs[0]["contacts"] = Contact.objects.count()
    runs[0]["accounts"] = Account.objects.count()
    runs[0]["transitions"] = StageTransition.objects.count()
    return {"runs": runs}


def _server_cpu_seconds() -> float | None:
    """Return the CPU time of this connection's PostgreSQL backend, if it runs on this machine."""
    pid = _postgresql_value("SELECT pg_backend_pid()")
    if pid is None:
        return None
    try:
        fields = _proc_stat(pid)
    except OSError:
        return None
    # utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cluster_cpu_seconds() -> float | None:
    """Return the CPU time of the whole PostgreSQL cluster, if it runs on this machine.

    The postmaster's own time, its finished children's (the connections that build indexes
    and validate keys after a bulk load, autovacuum workers) and its live children's (this
    connection's backend, the WAL writer, the checkpointer).
    """
    pid = _postgresql_value("SELECT pg_backend_pid()")
    if pid is None:
        return None
    try:
        postmaster = int(_proc_stat(pid)[1])
        own = _proc_stat(postmaster)
        total = sum(int(value) for value in own[11:15])
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = _proc_stat(int(entry.name))
                except OSError:
                    continue
                if int(fields[1]) == postmaster:
                    total += int(fields[11]) + int(fields[12])
    except OSError:
        return None
    return total / os.sysconf("SC_CLK_TCK")


def _wal_bytes() -> int | None:
    """Return the position in PostgreSQL's write-ahead log, in bytes (None on SQLite)."""
    position = _postgresql_value("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
    return None if position is None else int(position)


def _postgresql_value(sql: str):
    """Return the one value `sql` selects on PostgreSQL; None on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _proc_stat(pid: int) -> list[str]:
    # The fields after the command name: state is [0], ppid [1], utime [11], stime [12],
    # cutime [13], cstime [14].
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _cpu_seconds() -> float:
    """Return this process's CPU time plus that of its finished children (the file's reader)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _fresh_postgres(url: str) -> tuple[str, str]:
    import psycopg

    name = f"accord_bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name, name


def _drop_postgres(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", default=os.environ.get("ACCORD_BENCH_PG_URL"))
    parser.add_argument("--workdir", type=Path, help="keep the generated file here and reuse it")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the Python heap's peak")
    parser.add_argument("--one", nargs=4, metavar=("DB", "CSV", "DATA_DIR", "PG_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        database, csv_path, data_dir, pg_url = args.one
        result = run_one(database, Path(csv_path), Path(data_dir), pg_url if pg_url != "-" else None, args.tracemalloc)
        print(json.dumps(result))
        return 0

    workdir = args.workdir
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="accord-bench-import-"))
        atexit.register(shutil.rmtree, workdir, True)
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / f"contacts-{args.rows}.csv"
    if not csv_path.exists():
        started = time.perf_counter()
        generate(csv_path, args.rows)
        print(f"generated {csv_path} ({csv_path.stat().st_size / 2**20:.0f} MiB) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    targets = [] if args.skip_sqlite else [("sqlite", "-")]
    if args.postgres_url:
        targets.append(("postgresql", args.postgres_url))
    for database, url in targets:
        print(f"before {database}: {_uptime()} on {os.cpu_count()} CPUs", flush=True)
        data_dir = Path(tempfile.mkdtemp(prefix=f"accord-bench-{database}-", dir=workdir))
        name = None
        if url != "-":
            url, name = _fresh_postgres(url)
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--one", database, str(csv_path), str(data_dir), url,
                 *(["--tracemalloc"] if args.tracemalloc else [])],
                capture_output=True, text=True, check=True,
            )
        except subprocess.CalledProcessError as error:
            print(error.stdout, error.stderr, file=sys.stderr)
            return 1
        finally:
            # The generated CSV stays in a given --workdir for the next run; the database does not.
            shutil.rmtree(data_dir, ignore_errors=True)
            if name:
                _drop_postgres(args.postgres_url, name)
        for run in json.loads(done.stdout.strip().splitlines()[-1])["runs"]:
            extra = f", Python heap peak {run['python_heap_peak_mb']} MB" if "python_heap_peak_mb" in run else ""
            print(
                f"{run['database']:<10} {run['run']:<12} {run['rows']:>9,} rows in {run['seconds']:>6.1f} s"
                f" = {run['rows_per_s']:>7,} rows/s; CPU {run['cpu_seconds']} s = {run['cpu_us_per_row']} µs per row"
                f" (writer {run['writer_us_per_row']}, reading child {run['reader_us_per_row']};"
                f" {run['rows_per_cpu_s']:,} rows per CPU s)"
                + (f", PostgreSQL server {run['server_cpu_us_per_row']} µs per row"
                   f" (whole cluster {run['cluster_cpu_us_per_row']}), WAL {run['wal_bytes_per_row']} bytes per row"
                   if run.get("server_cpu_us_per_row") is not None else "")
                + f"; created {run['created']:,}, updated {run['updated']:,},"
                f" unchanged {run['unchanged']:,}, rejected {run['rejected']:,}; peak RSS {run['peak_rss_mb']} MB"
                f" (reading child {run['child_peak_rss_mb']} MB, mostly pages shared with the parent){extra};"
                f" load average {run['load']}",
                flush=True,
            )
            if "phases" in run:
                phases = run["phases"]
                rebuilt = phases["index_rebuild_s"]
                print(f"{'':<10} {'':<12} fast path {phases['fast_rows']:,} rows, per-row path"
                      f" {phases['per_row_rows']:,}; CPU µs per row: read and check {phases['read_check_us']},"
                      f" per-row path {phases['per_row_us']}, write {phases['write_us']}"
                      + (f"; indexes and keys restored in {phases['rebuild_wall_s']} s wall, each ("
                         + ", ".join(f"{name} {seconds}" for name, seconds in rebuilt.items()) + ")"
                         if rebuilt else ""), flush=True)
            if "contacts" in run:
                print(f"{'':<10} {'':<12} in the database: {run['contacts']:,} contacts, "
                      f"{run['accounts']:,} accounts, {run['transitions']:,} stage transitions", flush=True)
    print(f"after: {_uptime()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
