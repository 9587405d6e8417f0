"""Benchmark publishing domain events in bulk, as the handoff sweep and the SLA checker do.

Publishes `--events` lead events to `--subscribers` webhook subscriptions (each wanting them),
in one transaction, two ways: one `publish_event` call per event (what a naive emitter would
pay), and `publish_events` in batches of 200 (what the sweep and the checker pay). Prints the
SQL statements and the time each way, then the cost of a batch when nobody subscribed.

    .venv/bin/python bench/bench_events.py                          # fresh SQLite data dir
    .venv/bin/python bench/bench_events.py --database-url "$ACCORD_PG_URL"

Nothing is sent (no worker runs). Record `uptime`'s load average with every figure.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path

BATCH = 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; a fresh SQLite file if left out")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=3)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="accord-bench-events-"))
    atexit.register(shutil.rmtree, data_dir, True)
    os.environ.update({
        "ACCORD_DATA_DIR": str(data_dir), "ACCORD_DATABASE_URL": args.database_url,
        "ACCORD_TASKS_IMMEDIATE": "false", "DJANGO_SETTINGS_MODULE": "accord.config.settings",
    })
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-only")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from accord.notifications import events, services
    from accord.notifications.models import Delivery, Event, WebhookSubscription

    def lead(n: int) -> events.DomainEvent:
        record = {"id": n, "email": f"lead{n}@example.com", "first_name": "Ada", "last_name": "Lovelace",
                  "account_id": None, "score": 80, "lifecycle_stage": "mql", "owner_id": 1}
        return events.lead_event("lead.assigned", lead=record, by=events.actor(system="routing"),
                                 occurred_at=timezone.now(), rule="round_robin", reason="bench")

    def run(label: str, publish) -> None:
        Delivery.objects.all().delete()
        Event.objects.all().delete()
        batch = [lead(n) for n in range(args.events)]
        statements = 0

        def count(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            with transaction.atomic():
                publish(batch)
                published, publish_statements = time.perf_counter(), statements
            # Leaving the block commits and runs the on-commit enqueues (one task row per delivery).
            committed = time.perf_counter()
        print(f"{label:<32} publish {publish_statements:>5} statements {(published - started) * 1000:>6.0f} ms; "
              f"commit and enqueue {statements - publish_statements:>5} statements "
              f"{(committed - published) * 1000:>6.0f} ms "
              f"({Event.objects.count()} events, {Delivery.objects.count()} deliveries)")

    def one_by_one(batch):
        for event in batch:
            services.publish_event(event_type=event.event_type, record_key=event.record_key,
                                   payload=event.payload, at=event.occurred_at)

    def in_batches(batch):
        for start in range(0, len(batch), BATCH):
            services.publish_events(events=batch[start:start + BATCH])

    run("no subscriber, batches of 200", in_batches)
    for n in range(args.subscribers):
        WebhookSubscription.objects.create(name=f"bench {n}", url=f"https://hooks{n}.example/accord",
                                           secret="whsec_bench", event_types=["lead.*"], created_at=timezone.now())
    database = "postgresql" if args.database_url else "sqlite"
    print(f"{args.events} lead events to {args.subscribers} subscribers on {database}; "
          f"load average {os.getloadavg()[0]:.2f}")
    run("publish_event, one call each", one_by_one)
    run("publish_events, batches of 200", in_batches)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
