"""Background entry points: load by id, call a service."""

from __future__ import annotations

from django.tasks import task


@task()
def send_delivery(*, delivery_id: int, attempts: int) -> str:
    from accord.notifications import services

    return services.send_delivery(delivery_id=delivery_id, attempts=attempts)


@task()
def sweep_deliveries() -> dict[str, int]:
    """Retry what is due and recover abandoned claims; run every 10 seconds."""
    from accord.notifications import services

    return services.sweep()


@task()
def send_digests() -> dict[str, int]:
    """Send today's digests once the digest hour has come; run every hour."""
    from django.conf import settings
    from django.utils import timezone

    from accord.notifications import services

    now = timezone.now()
    if timezone.localtime(now).hour < settings.ACCORD_DIGEST_HOUR:
        return {"digests": 0}
    return services.send_digests(now)
