"""The periodic tasks `accord worker` runs, and how often.

Each line is one task; config.scheduler puts it on the `periodic` queue at most once per
interval, however many workers run. A task here must be idempotent and finish well within
its interval (bounded batches): a slow pass only delays the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.tasks import Task

from accord.handoff import tasks as handoff_tasks
from accord.notifications import tasks as notification_tasks
from accord.privacy import tasks as privacy_tasks
from accord.sla import tasks as sla_tasks


@dataclass(frozen=True)
class Periodic:
    name: str  # stable: the schedule's row in the database is keyed by it
    task: Task
    every: timedelta


SCHEDULE: tuple[Periodic, ...] = (
    # Breaches must be alerted within 60 s of their due time: a 15 s cadence leaves room for a
    # slow pass and for the queue.
    Periodic("sla.check_clocks", sla_tasks.check_clocks, timedelta(seconds=15)),
    # Marketing's side: pace and acceptance move with each sweep, and each alert goes once a month.
    Periodic("sla.check_commitments", sla_tasks.check_commitments, timedelta(hours=1)),
    # A merge can drop a handover that marketing's rollup counted; capture cannot tell the SLA.
    Periodic("sla.reconcile_handover_rollup", sla_tasks.reconcile_handover_rollup, timedelta(hours=1)),
    # Retries that fell due, and deliveries a killed worker left claimed: without this sweep a
    # failed send would never be tried again.
    Periodic("notifications.sweep_deliveries", notification_tasks.sweep_deliveries,
             timedelta(seconds=10)),
    # Hourly: send_digests itself waits for ACCORD_DIGEST_HOUR and sends once per person a day.
    Periodic("notifications.send_digests", notification_tasks.send_digests, timedelta(hours=1)),
    # A breach that says "reassign" is answered within a pass of the checker.
    Periodic("handoff.reassign_breached_leads", handoff_tasks.reassign_breached_leads, timedelta(seconds=15)),
    # New contacts and touchpoints reach sales within about a minute (plus the sweep's 2-minute lag
    # for rows whose transaction may still be open).
    Periodic("handoff.sweep_new_leads", handoff_tasks.sweep_new_leads, timedelta(seconds=60)),
    # Uploads, error reports and exports hold personal data: kept ACCORD_FILE_RETENTION_DAYS, not forever.
    Periodic("privacy.purge_expired_files", privacy_tasks.purge_expired_files, timedelta(hours=1)),
)
