"""Measure SQLite's own floor for a contacts import: plain SQL, no parsing, no Python per row.

    .venv/bin/python bench/bench_sqlite_floor.py [--rows 1000000] [--threads 0]

Migrates a fresh SQLite database in a temporary folder (the app's schema and connection
PRAGMAs), drops every index the migrations made on `capture_contact`,
`lifecycle_stagetransition` and `lifecycle_leadassignment`, and fills an attached scratch
database with synthetic rows shaped like bench_import.py's file (50,000 companies, 20 owners,
70% of contacts owned; not timed). Then it times what any import must do at least: copying
the contacts, their first stage transitions and their owner assignments into the app's tables
with `INSERT … SELECT`, and building each index again, one at a time, as a bulk load does.
Prints each step's wall and CPU time and the rows/s this floor allows, with `uptime`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TABLES = ("capture_contact", "lifecycle_stagetransition", "lifecycle_leadassignment")
OWNERS = 20
COMPANIES = 50_000
STAGES = ("subscriber", "lead", "lead", "lead", "mql", "sql", "opportunity", "customer", "disqualified", "nurture")
SOURCES = ("content_seo", "paid_search", "email", "organic_social", "referral", "", "direct", "paid_social")
COUNTRIES = ("US", "DE", "GB", "FR", "CA", "BR", "IN", "AU", "NL", "")


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _pick(values: tuple[str, ...], seed: str) -> str:
    """Return an SQL expression choosing one of `values` by an integer expression."""
    cases = " ".join(f"WHEN {n} THEN '{value}'" for n, value in enumerate(values))
    return f"CASE ({seed}) % {len(values)} {cases} END"


def _timed(cursor, sql: str) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    cursor.execute("BEGIN IMMEDIATE")
    cursor.execute(sql)
    cursor.execute("COMMIT")
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=0, help="PRAGMA threads while building indexes")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="accord-bench-sqlite-floor-"))
    os.environ["ACCORD_DATA_DIR"] = str(workdir)
    os.environ["ACCORD_DATABASE_URL"] = ""
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from accord.accounts.models import User
    from accord.capture.models import Account

    started = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection
    # Autocommit at the driver, so each timed step is exactly one BEGIN … COMMIT.
    raw.isolation_level = None
    cursor = raw.cursor()
    (version,) = cursor.execute("SELECT sqlite_version()").fetchone()
    # The import's settings (imports/bulk.py): a 256 MiB page cache, no fsync per commit.
    cursor.execute("PRAGMA cache_size = -262144")
    cursor.execute("PRAGMA synchronous = NORMAL")
    indexes = cursor.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({', '.join('?' * len(TABLES))}) ORDER BY tbl_name, name",
        TABLES,
    ).fetchall()
    for name, _, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    n = args.rows
    first_user = User.objects.bulk_create(
        [User(username=f"owner{k}", email=f"owner{k}@northwind.example") for k in range(OWNERS)]
    )[0].pk
    first_account = Account.objects.bulk_create(
        [Account(name=f"Company {k}", domain=f"company{k}.example") for k in range(COMPANIES)], batch_size=5000
    )[0].pk
    cursor.execute(f"ATTACH DATABASE '{workdir / 'source.sqlite3'}' AS src")
    cursor.execute(
        "CREATE TABLE src.contact AS WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)"
        " SELECT i AS id, 'person.' || i || '@company' || (i % 50000) || '.example' AS email,"
        f" {_pick(('Ada', 'Bob', 'Chen', 'Dana', 'Emil', 'Fatima', 'Gus', 'Hana'), 'i * 7')} AS first_name,"
        f" {_pick(('Smith', 'Jones', 'Müller', 'Garcia', 'Okafor', 'Rossi', 'Dubois'), 'i * 13')} AS last_name,"
        " '+1 555 ' || (1000000 + i * 7919 % 8999999) AS phone,"
        f" {_pick(('CEO', 'CTO', 'VP Marketing', 'Engineer', 'Analyst', ''), 'i * 3')} AS title,"
        f" CASE WHEN i % 7 = 0 THEN NULL ELSE {first_account} + (i * 31) % {COMPANIES} END AS account_id,"
        f" CASE WHEN i % 10 < 7 THEN {first_user} + i % {OWNERS} ELSE NULL END AS owner_id,"
        f" {_pick(STAGES, 'i * 17')} AS lifecycle_stage,"
        f" {_pick(SOURCES, 'i * 11')} AS lead_source,"
        f" {_pick(COUNTRIES, 'i * 5')} AS country,"
        " 100000 + i AS external_id,"
        " datetime('2022-01-01', '+' || (i * 7919 % 125000000) || ' seconds') AS created_at FROM k",
        [n],
    )
    print(f"SQLite {version}, {n:,} synthetic contacts prepared in {time.perf_counter() - started:.1f} s"
          f" (not timed); {_uptime()}", flush=True)

    steps = [
        ("insert contacts", (
            "INSERT INTO capture_contact (id, email, first_name, last_name, phone, title, seniority, account_id,"
            " owner_id, lifecycle_stage, stage_changed_at, lead_source, original_campaign_id, country, region,"
            " external_id, created_at, updated_at) SELECT id, email, first_name, last_name, phone, title,"
            " '', account_id, owner_id, lifecycle_stage, created_at, lead_source, NULL, country, '', external_id,"
            " created_at, '2026-11-27 00:00:00' FROM src.contact ORDER BY id"
        )),
        ("insert stage transitions", (
            "INSERT INTO lifecycle_stagetransition (contact_id, from_stage, to_stage, occurred_at, by_user_id,"
            " by_rule, reason) SELECT id, '', lifecycle_stage, created_at, NULL, 'import', 'Imported'"
            " FROM src.contact ORDER BY id"
        )),
        ("insert owner assignments", (
            "INSERT INTO lifecycle_leadassignment (contact_id, owner_id, assigned_at, assigned_by_id, rule, reason)"
            " SELECT id, owner_id, '2026-11-27 00:00:00', NULL, 'import', 'Imported' FROM src.contact"
            " WHERE owner_id IS NOT NULL ORDER BY id"
        )),
    ]
    total_wall = total_cpu = 0.0
    for label, sql in steps:
        wall, cpu = _timed(cursor, sql)
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        print(f"{label:<78} {wall:6.2f} s wall, {cpu:6.2f} s CPU", flush=True)
    inserted = total_wall
    cursor.execute(f"PRAGMA threads = {args.threads}")
    for name, table, sql in indexes:
        wall, cpu = _timed(cursor, sql)
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        print(f"index {table + '.' + name:<72} {wall:6.2f} s wall, {cpu:6.2f} s CPU", flush=True)
    print(f"inserts {inserted:.2f} s, {len(indexes)} indexes {total_wall - inserted:.2f} s (PRAGMA threads ="
          f" {args.threads}); total {total_wall:.2f} s wall, {total_cpu:.2f} s CPU: at most"
          f" {n / total_wall:,.0f} rows/s before any parsing, checking or matching", flush=True)
    print(f"after: {_uptime()}", flush=True)
    connection.close()
    shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
