"""Background entry points for the SLA."""

from __future__ import annotations

from dataclasses import asdict

from django.tasks import task

from accord.sla import handover_rollup, services


@task()
def check_clocks() -> dict:
    """Warn and alert on every clock that is due; config/schedule.py runs it every few seconds."""
    return asdict(services.check_clocks())


@task()
def check_commitments() -> dict:
    """Warn marketing on pace and acceptance, and alert on a missed month; config/schedule.py runs it hourly."""
    return services.check_commitments()


@task()
def reconcile_handover_rollup() -> dict:
    """Recount marketing's rollup on the days contact merges touched; config/schedule.py runs it hourly."""
    return handover_rollup.reconcile_merges()
