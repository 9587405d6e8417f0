"""Background entry points for the handoff."""

from __future__ import annotations

from django.tasks import task

from accord.handoff import services


@task()
def sweep_new_leads() -> dict:
    """Evaluate contacts that are new or newly active since the last sweep (safe to run twice)."""
    return services.sweep_new_leads()


@task()
def reassign_breached_leads() -> dict:
    """Route again the leads whose SLA breach asks for it (safe to run twice)."""
    return services.reassign_breached_leads()
