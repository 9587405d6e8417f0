"""Benchmark the SLA checker: 10,000 live clocks falling due over the next minutes, the real worker.

Seeds a sales floor (teams, reps, managers), 10,000 handed-over leads and one first-touch clock
each, with due times spread evenly over the next few minutes (warn times at 75 % of each clock),
then starts `accord worker` exactly as deployed (its scheduler enqueues the checker every 15 s)
and waits until every clock has been breached. Prints, for every breach, the delay from its
due time to its alert row existing (p50, p99, max), and the checker's cost per pass.

    .venv/bin/python bench/bench_sla.py                                  # fresh SQLite data dir
    .venv/bin/python bench/bench_sla.py --database-url "$ACCORD_PG_URL"
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; a fresh SQLite file if left out")
    parser.add_argument("--clocks", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=4.0, help="due times spread over this many minutes")
    parser.add_argument("--lead-seconds", type=float, default=45.0,
                        help="the first clock falls due this long after seeding (worker start-up is excluded)")
    parser.add_argument("--reps", type=int, default=60)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="accord-bench-sla-"))
    atexit.register(shutil.rmtree, data_dir, True)
    os.environ["ACCORD_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-" + uuid.uuid4().hex)
    os.environ["ACCORD_TASKS_IMMEDIATE"] = "false"
    if args.database_url:
        os.environ["ACCORD_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("ACCORD_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"database: {'PostgreSQL' if args.database_url else f'SQLite ({data_dir})'}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    first_due = _seed(args)
    _idle_pass_cost()
    first_due = _start_the_clocks_now(args, first_due)

    log = (data_dir / "worker.log").open("w")
    worker = subprocess.Popen([sys.executable, "-m", "accord.cli", "worker"],
                              env=os.environ.copy(), stdout=log, stderr=log)
    try:
        _wait_until_all_breached(args, first_due)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    _report(args)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _seed(args):
    from django.utils import timezone

    from accord.accounts.models import Team, User
    from accord.capture.models import Contact
    from accord.core.permissions import Role
    from accord.sla import services
    from accord.sla.models import SlaClock

    started = time.perf_counter()
    version, _ = services.sla_in_force()
    teams = [Team.objects.create(name=f"Sales {n}", function=Team.Function.SALES) for n in range(6)]
    for team in teams:
        User.objects.create(username=f"manager-{team.pk}", role=Role.SALES_MANAGER, team=team)
    reps = User.objects.bulk_create(
        User(username=f"rep-{n}", role=Role.SALES_REP, team=teams[n % len(teams)]) for n in range(args.reps)
    )
    reps = list(User.objects.filter(role=Role.SALES_REP))
    contacts = Contact.objects.bulk_create(
        (Contact(email=f"lead{n}@bench.example", first_name="Lead", last_name=str(n),
                 owner=reps[n % len(reps)], lifecycle_stage="mql") for n in range(args.clocks)),
        batch_size=2000,
    )
    now = timezone.now()
    first_due = now + timedelta(seconds=args.lead_seconds)
    spread = timedelta(minutes=args.minutes)
    clocks = []
    for n, contact in enumerate(contacts):
        due = first_due + spread * n / max(args.clocks - 1, 1)
        budget = due - now
        clocks.append(SlaClock(
            contact=contact, owner_id=contact.owner_id, kind=SlaClock.Kind.FIRST_TOUCH, tier="hot",
            sla_version=version, basis=SlaClock.Basis.CALENDAR, budget_seconds=int(budget.total_seconds()),
            started_at=now, due_at=due, warn_at=now + budget * 0.75,
        ))
    SlaClock.objects.bulk_create(clocks, batch_size=2000)
    print(f"seeded {args.clocks:,} live clocks for {len(reps)} reps in {len(teams)} teams in "
          f"{time.perf_counter() - started:.1f} s; due from +{args.lead_seconds:.0f} s over {args.minutes:g} min")
    return first_due


def _start_the_clocks_now(args, first_due):
    """Shift every clock so the first falls due `lead_seconds` from now: seeding time must not eat the lead."""
    from django.db.models import F
    from django.utils import timezone

    from accord.sla.models import SlaClock

    shift = timezone.now() + timedelta(seconds=args.lead_seconds) - first_due
    SlaClock.objects.update(started_at=F("started_at") + shift, due_at=F("due_at") + shift,
                            warn_at=F("warn_at") + shift)
    return first_due + shift


def _idle_pass_cost():
    from django.utils import timezone

    from accord.sla import services

    # Nothing is due yet: this is what every 15-second pass costs on a quiet day.
    costs = []
    for _ in range(20):
        started = time.perf_counter()
        services.check_clocks(now=timezone.now() - timedelta(hours=1))
        costs.append(time.perf_counter() - started)
    print(f"checker pass with nothing due (10,000 live clocks): median {1000 * statistics.median(costs):.1f} ms, "
          f"max {1000 * max(costs):.1f} ms")


def _wait_until_all_breached(args, first_due):
    from django.utils import timezone

    from accord.sla.models import SlaClock

    deadline = first_due + timedelta(minutes=args.minutes) + timedelta(minutes=3)
    while timezone.now() < deadline:
        left = SlaClock.objects.filter(breached_at__isnull=True).count()
        if not left:
            return
        time.sleep(2)
    print(f"gave up: {SlaClock.objects.filter(breached_at__isnull=True).count():,} clocks never breached")


def _percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _report(args):
    from django_tasks_db.models import DBTaskResult

    from accord.notifications.models import Notification
    from accord.sla.models import SlaClock

    due = dict(SlaClock.objects.values_list("id", "due_at"))
    last_alert: dict[int, float] = {}
    for key, created in Notification.objects.filter(kind=Notification.Kind.SLA_BREACH).values_list(
        "dedupe_key", "created_at"
    ).iterator():
        clock_id = int(key.split(":")[2])
        delay = (created - due[clock_id]).total_seconds()
        last_alert[clock_id] = max(last_alert.get(clock_id, delay), delay)
    delays = list(last_alert.values())
    warnings = Notification.objects.filter(kind=Notification.Kind.SLA_WARNING).count()
    breaches = Notification.objects.filter(kind=Notification.Kind.SLA_BREACH).count()
    keys = Notification.objects.values("dedupe_key").distinct().count()
    print(f"breached clocks alerted: {len(delays):,}/{len(due):,}; breach alerts {breaches:,}, warnings "
          f"{warnings:,}, duplicates {breaches + warnings - keys}")
    if delays:
        print(f"due → alert row (last recipient): p50 {_percentile(delays, 0.5):.1f} s, "
              f"p99 {_percentile(delays, 0.99):.1f} s, max {max(delays):.1f} s")
    runs = DBTaskResult.objects.filter(task_path="accord.sla.tasks.check_clocks", status="SUCCESSFUL")
    costs, loads = [], []
    for started, finished, value in runs.values_list("started_at", "finished_at", "return_value"):
        costs.append((finished - started).total_seconds())
        loads.append((value or {}).get("breached", 0) + (value or {}).get("warned", 0))
    if costs:
        busy = [c for c, n in zip(costs, loads, strict=True) if n]
        print(f"checker passes: {len(costs)}; per pass median {1000 * statistics.median(costs):.0f} ms, "
              f"max {1000 * max(costs):.0f} ms; passes with alerts: {len(busy)}, "
              f"{statistics.mean(n for n in loads if n):.0f} clocks each on average")


if __name__ == "__main__":
    sys.exit(main())
