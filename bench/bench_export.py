"""Benchmark the contacts CSV export: rows per second and the Python heap's peak while writing.

    .venv/bin/python -m bench.bench_export [--rows 100000 400000] [--workdir DIR]

For each size, with a fresh SQLite database: one process loads a generated HubSpot-style
contacts file with the import engine (bench_import's generator, seeded); a second process runs
the export job's work (`web.exports.write_list_export`) as a marketer and prints seconds,
rows/s and its own peak RSS (which includes SQLite's page cache, up to 64 MB by the project's
settings); --heap adds the Python heap's peak, which stays flat across sizes: rows stream from
the database to the file.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def _setup(data_dir: Path) -> None:
    os.environ["ACCORD_DATA_DIR"] = str(data_dir)
    os.environ["ACCORD_DATABASE_URL"] = ""
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"
    import django

    django.setup()


def load(rows: int, workdir: Path) -> dict:
    _setup(workdir / f"data-{rows}")
    from django.core.management import call_command

    from accord.accounts.models import User
    from accord.imports.services import import_file
    from bench.bench_import import OWNERS, generate

    call_command("migrate", verbosity=0)
    # The owners the generated file names, as bench_import creates them.
    User.objects.bulk_create([
        User(username=f"owner{n}", email=f"owner{n}@northwind.example", role="sales_rep") for n in range(OWNERS)
    ])
    csv_path = workdir / f"contacts-{rows}.csv"
    generate(csv_path, rows)
    summary = import_file(kind="contacts", path=csv_path)
    User.objects.create_user(username="bench-marketer", role="marketing")
    return {"contacts": summary.created}


def export(rows: int, workdir: Path, heap: bool = False) -> dict:
    _setup(workdir / f"data-{rows}")
    from accord.accounts.models import User
    from accord.core.models import Job
    from accord.core.services import ProgressReporter
    from accord.web.exports import export_path, write_list_export

    marketer = User.objects.get(username="bench-marketer")
    job = Job.objects.create(
        kind="export.contacts", title="bench", created_by=marketer, params={"list": "contacts", "filters": {}}
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if heap:
        tracemalloc.start()
    started = time.perf_counter()
    result = write_list_export(job, ProgressReporter(job))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    heap_peak = tracemalloc.get_traced_memory()[1] if heap else 0
    return {
        "heap_peak_mb": round(heap_peak / 2**20, 1),
        "rows": result["rows"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(result["rows"] / seconds),
        "rss_before_mb": round(before / 1024),
        "rss_peak_mb": round(peak / 1024),
        "file_mb": round(export_path(job).stat().st_size / 2**20, 1),
    }


def _run(step: str, rows: int, workdir: Path, *extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_export", f"--{step}", str(rows), "--workdir", str(workdir), *extra],
        check=True, capture_output=True, text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000])
    parser.add_argument("--workdir", type=Path)
    parser.add_argument(
        "--heap", action="store_true", help="also trace the Python heap's peak (slows the export)"
    )
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--export", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    workdir = args.workdir
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="accord-bench-export-"))
        atexit.register(shutil.rmtree, workdir, True)
    if args.load:
        print(json.dumps(load(args.load, workdir)))
        return 0
    if args.export:
        print(json.dumps(export(args.export, workdir, heap=args.heap)))
        return 0
    for rows in args.rows:
        # Loading and exporting in separate processes: the export's peak memory is its own.
        loaded = _run("load", rows, workdir)
        load_average = " ".join(f"{figure:.2f}" for figure in os.getloadavg())
        figures = _run("export", rows, workdir, *(["--heap"] if args.heap else []))
        print(
            f"contacts export, SQLite: {figures['rows']:,} rows ({loaded['contacts']:,} loaded) in "
            f"{figures['seconds']} s ({figures['rows_per_s']:,} rows/s), peak RSS "
            f"{figures['rss_peak_mb']} MB ({figures['rss_before_mb']} MB before), file "
            f"{figures['file_mb']} MB"
            + (f", Python heap peak {figures['heap_peak_mb']} MB" if args.heap else "")
            + f"; load average {load_average}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
