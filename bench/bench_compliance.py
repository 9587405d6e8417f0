"""Benchmark the compliance reports on a year of rollup rows and handovers at the 1M-contact scale.

Seeds 200 reps in 8 teams, a `ComplianceDaily` row per rep, day and clock kind for a year
(219,000 rows, as the services would leave them) and 150,000 handovers (a year of MQLs from a
million contacts) with sales' verdicts on about 70 % of them, then times each report's selector (the pages and the API call the same
ones), then what marketing's handover rollup costs its writers and its check.

    .venv/bin/python bench/bench_compliance.py                                  # fresh SQLite data dir
    .venv/bin/python bench/bench_compliance.py --database-url "$ACCORD_PG_URL"
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; a fresh SQLite file if left out")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--handovers", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="accord-bench-compliance-"))
    atexit.register(shutil.rmtree, data_dir, True)
    os.environ["ACCORD_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-" + uuid.uuid4().hex)
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
    _seed(args)
    _time_reports(args)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _seed(args) -> None:
    from django.db import transaction
    from django.utils import timezone

    from accord.accounts.models import Team, User
    from accord.capture.models import Contact
    from accord.core.permissions import Role
    from accord.lifecycle.models import LeadFeedback
    from accord.sla import compliance, handover_rollup, rollup, services
    from accord.sla.models import Handover, SlaClock

    started = time.perf_counter()
    version, _ = services.sla_in_force(timezone.now() - timedelta(days=args.days + 1))
    teams = [Team.objects.create(name=f"Sales {n}", function=Team.Function.SALES) for n in range(8)]
    User.objects.bulk_create(User(username=f"rep-{n}", role=Role.SALES_REP, team=teams[n % len(teams)])
                             for n in range(args.reps))
    reps = list(User.objects.filter(role=Role.SALES_REP).values_list("pk", "team_id"))
    rng = random.Random(7)
    today = timezone.localdate()
    deltas, owners = {}, {}
    for back in range(args.days):
        day = today - timedelta(days=back)
        for rep_id, team_id in reps:
            for kind in SlaClock.Kind:
                vector = [0] * (len(compliance.COUNTERS) + compliance.BUCKETS)
                for _ in range(rng.randint(1, 6)):
                    outcome = rng.choices(["met_on_time", "met_late", "breached", "cancelled"], [70, 15, 10, 5])[0]
                    vector[compliance.COUNTERS.index(outcome)] += 1
                    if outcome.startswith("met"):
                        vector[len(compliance.COUNTERS) + compliance.bucket_of(rng.lognormvariate(8, 1.2))] += 1
                key = (day, rep_id, kind.value, version.pk)
                deltas[key], owners[key] = vector, team_id
    with transaction.atomic():
        rollup.add(deltas, owners)
    now = timezone.now()
    batch = 10_000
    for start in range(0, args.handovers, batch):
        with transaction.atomic():
            contacts = Contact.objects.bulk_create(
                Contact(email=f"lead-{n}@bench.example") for n in range(start, min(args.handovers, start + batch)))
            handovers = Handover.objects.bulk_create(
                Handover(contact=c, at=now - timedelta(minutes=rng.randint(0, args.days * 1440)),
                         sla_version=version, missing_fields=missing, complete=not missing)
                for c in contacts for missing in [[] if rng.random() < 0.8 else rng.sample(MISSABLE, rng.randint(1, 2))])
            # Sales decide on about 70 % of them within two days, accepting about two in three.
            LeadFeedback.objects.bulk_create(
                LeadFeedback(contact_id=h.contact_id, decision=decision, reason="" if decision == "accept" else "not_ready",
                             created_at=min(now, h.at + timedelta(minutes=rng.randint(5, 2880))), handed_over_at=h.at)
                for h in handovers if rng.random() < 0.7
                for decision in [rng.choices(["accept", "reject"], [65, 35])[0]])
    verdicts = LeadFeedback.objects.count()
    print(f"seeded {len(deltas):,} rollup rows, {args.handovers:,} handovers and {verdicts:,} verdicts in "
          f"{time.perf_counter() - started:.1f} s")
    # Written behind the services' back, as the demo and imports do: count them as they would.
    started = time.perf_counter()
    days = handover_rollup.rebuild()
    print(f"handover rollup rebuilt ({days:,} days) in {time.perf_counter() - started:.2f} s")


MISSABLE = ["phone", "title", "first_name", "account"]


def _timed(label: str, repeat: int, call) -> None:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    print(f"{label:<48} median {statistics.median(times):8.1f} ms   max {max(times):8.1f} ms")


def _time_reports(args) -> None:
    from django.utils import timezone

    from accord.accounts.models import User
    from accord.core.permissions import Role
    from accord.sla import periods, reports

    admin = User.objects.create(username="bench-admin", role=Role.REVOPS_ADMIN)
    today = timezone.localdate()
    quarter, month = periods.named("this_quarter", today), periods.named("last_month", today)
    year = periods.parse("custom", today, start=(today - timedelta(days=364)).isoformat(), end=today.isoformat())
    for label, period in (("last month", month), ("this quarter", quarter), ("a year", year)):
        for group in ("rep", "team"):
            _timed(f"sales compliance, {label}, per {group}", args.repeat,
                   lambda p=period, g=group: reports.sales_compliance(visible_to=admin, period=p, group=g))
    _timed("trend, 12 weeks", args.repeat, lambda: reports.compliance_trend(
        visible_to=admin, periods=periods.trend("week", today, 12)))
    _timed("trend, 6 months", args.repeat, lambda: reports.compliance_trend(
        visible_to=admin, periods=periods.trend("month", today, 6)))
    _timed("by SLA version (all time)", args.repeat, lambda: reports.compliance_by_version(visible_to=admin))
    _timed("marketing commitments, last month", args.repeat,
           lambda: reports.marketing_commitments(period=month, today=today))
    _timed("marketing commitments, this quarter", args.repeat,
           lambda: reports.marketing_commitments(period=quarter, today=today))
    _timed("marketing commitments, a year", args.repeat,
           lambda: reports.marketing_commitments(period=year, today=today))
    _time_handover_writes(args)


def _time_handover_writes(args) -> None:
    """Time what the rollup adds to the writers: a sweep's handovers, one verdict, and the check."""
    from django.db import transaction
    from django.utils import timezone

    from accord.capture.models import Contact
    from accord.lifecycle.models import LeadFeedback
    from accord.sla import handover_rollup, services

    contacts = list(Contact.objects.bulk_create(Contact(email=f"new-{n}@bench.example") for n in range(args.repeat)))
    times = []
    for contact in contacts:
        started = time.perf_counter()
        with transaction.atomic():
            services.record_handovers(contact_ids=[contact.pk], at=timezone.now())
        times.append((time.perf_counter() - started) * 1000)
    print(f"{'record_handovers, one lead, with the rollup':<48} median {statistics.median(times):8.1f} ms")
    times = []
    for contact in contacts:
        started = time.perf_counter()
        with transaction.atomic():
            feedback = LeadFeedback.objects.create(contact=contact, decision="accept", created_at=timezone.now())
            services.count_verdict(feedback=feedback)
        times.append((time.perf_counter() - started) * 1000)
    print(f"{'a verdict and its count in the rollup':<48} median {statistics.median(times):8.1f} ms")
    started = time.perf_counter()
    wrong = handover_rollup.differences()
    print(f"handover rollup check: {len(wrong)} days differ, {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    raise SystemExit(main())
