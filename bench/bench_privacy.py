"""Benchmark a data-subject request on one heavy contact: the streamed export and the erasure.

    .venv/bin/python -m bench.bench_privacy [--touchpoints 5000 50000] [--workdir DIR]

For each size, a fresh SQLite database holds one contact with that many touchpoints (and as
many score rows, one per ten touchpoints) beside a thousand other contacts. Prints the export's
seconds, bytes and the Python heap's peak while streaming (tracemalloc: rows stream from the
database cursor, so the peak stays flat as the touchpoints grow), then the erasure's seconds
and the rows it changed. Record `uptime`'s load average with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path


def _setup(data_dir: Path) -> None:
    os.environ["ACCORD_DATA_DIR"] = str(data_dir)
    os.environ["ACCORD_DATABASE_URL"] = ""
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"
    import django

    django.setup()


def run(touchpoints: int, workdir: Path) -> dict:
    _setup(workdir / f"data-{touchpoints}")
    from django.core.management import call_command
    from django.urls import reverse

    from accord.accounts.models import User
    from accord.capture.models import Contact, Touchpoint
    from accord.privacy import services
    from accord.scoring.models import LeadScore

    call_command("migrate", verbosity=0)
    admin = User.objects.create_user(username="bench-admin", role="revops_admin")
    Contact.objects.bulk_create([Contact(email=f"other{n}@bench.example") for n in range(1000)])
    person = Contact.objects.create(email="dana@bench.example", first_name="Dana", last_name="Reyes")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    Touchpoint.objects.bulk_create([
        Touchpoint(contact=person, channel="organic_search", kind="page_view", occurred_at=start + timedelta(minutes=n),
                   url=f"https://www.example.com/page/{n}?email=dana@bench.example", anonymous_id="anon-dana",
                   utm_source="google")
        for n in range(touchpoints)
    ], batch_size=5000)
    LeadScore.objects.bulk_create([
        LeadScore(contact=person, total=n % 100, fit=10, engagement=n % 90, computed_at=start + timedelta(hours=n),
                  explanation={"summary": "VP at a 51–200 software company", "up": [], "down": []})
        for n in range(touchpoints // 10)
    ], batch_size=5000)

    # A serving process has its URLconf loaded; import it before measuring, as it would be.
    reverse("contact", args=[person.pk])
    started = time.perf_counter()
    size = sum(len(piece.encode()) for piece in services.export_personal_data(contact_id=person.pk, by=admin))
    export_seconds = time.perf_counter() - started
    # Again, traced: tracemalloc slows every allocation, so it gets a pass of its own.
    tracemalloc.start()
    for _ in services.export_personal_data(contact_id=person.pk, by=admin):
        pass
    heap_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    started = time.perf_counter()
    erasure = services.erase_contact(contact_id=person.pk, by=admin, confirm="erase", reason="bench")
    erase_seconds = time.perf_counter() - started
    return {
        "touchpoints": touchpoints,
        "export_seconds": round(export_seconds, 2),
        "export_mb": round(size / 2**20, 1),
        "export_heap_peak_mb": round(heap_peak / 2**20, 1),
        "erase_seconds": round(erase_seconds, 2),
        "erased_touchpoints": erasure.counts["touchpoints"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touchpoints", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-privacy-") as scratch:
        workdir = args.workdir or Path(scratch)
        for size in args.touchpoints:
            # One process per size: Django is set up once per process, on that size's database.
            pid = os.fork()
            if pid == 0:
                print(json.dumps(run(size, workdir)), flush=True)
                os._exit(0)
            os.waitpid(pid, 0)
    print(json.dumps({"load_average_at_start": [round(value, 2) for value in load],
                      "load_average_at_end": [round(value, 2) for value in os.getloadavg()]}))


if __name__ == "__main__":
    main()
