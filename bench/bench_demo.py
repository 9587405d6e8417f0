"""Time the demo loader on a fresh SQLite file and print rows per second.

    .venv/bin/python bench/bench_demo.py --scale 1
    .venv/bin/python bench/bench_demo.py --scale 0.1 --seed 2 --as-of 2026-05-20

The database lives in a temporary folder that is deleted afterwards; migrations run
before the clock starts, so the figure is the load alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import date


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 5, 20))
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="accord-bench-demo-")
    os.environ["ACCORD_DATA_DIR"] = folder
    os.environ["ACCORD_DATABASE_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from accord.core.models import Job
        from accord.demo.services import JOB_KIND, load_demo

        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        load_demo(seed=args.seed, scale=args.scale, as_of=args.as_of, progress=args.progress)
        seconds = time.perf_counter() - started
        counts = Job.objects.get(kind=JOB_KIND).result
        rows = sum(counts.values())
        size = os.path.getsize(os.path.join(folder, "accord.sqlite3")) / 1e6
        print(f"demo load, scale {args.scale:g}, seed {args.seed}, as of {args.as_of}, SQLite")
        for label, count in sorted(counts.items(), key=lambda item: -item[1]):
            print(f"  {label:<36} {count:>10,}")
        print(f"  {'total rows':<36} {rows:>10,}")
        print(f"{seconds:.1f} s, {rows / seconds:,.0f} rows/s, database {size:.0f} MB (before WAL checkpoint)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
