"""Reads for the SLA: which version was in force, and each lead's clocks with the time they have left."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accord.core.errors import NotFound
from accord.core.permissions import owner_scope
from accord.sla.domain import ClockSpec, calendar_from_json, working_until
from accord.sla.models import Handover, SlaClock, SlaVersion


def version_in_force(at: datetime | None = None) -> SlaVersion | None:
    """Return the version that governed the moment `at` (now by default): the latest in force by then."""
    return (SlaVersion.objects.filter(effective_from__lte=at or timezone.now())
            .select_related("created_by").order_by("-effective_from", "-version").first())


def first_version() -> SlaVersion | None:
    return SlaVersion.objects.select_related("created_by").order_by("version").first()


def versions() -> list[SlaVersion]:
    return list(versions_queryset())


def versions_queryset() -> QuerySet[SlaVersion]:
    """Return every version, newest first, for paging (the SLA is readable by every role)."""
    return SlaVersion.objects.select_related("created_by").order_by("-version")


def version(*, number: int) -> SlaVersion | None:
    return SlaVersion.objects.select_related("created_by").filter(version=number).first()


def version_or_404(*, number: int) -> SlaVersion:
    """Return one version, or raise NotFound."""
    found = version(number=number)
    if found is None:
        raise NotFound(f"No SLA version {number}.")
    return found


def latest_version() -> SlaVersion | None:
    return SlaVersion.objects.select_related("created_by").order_by("-version").first()


@dataclass(frozen=True)
class ClockView:
    """A clock as a countdown shows it: time left in its own (working) time, and its state."""

    id: int
    contact_id: int
    kind: str
    label: str
    state: str  # running | warning | breached | paused | met | cancelled
    due_at: datetime
    warn_at: datetime
    remaining_seconds: int
    budget_seconds: int
    warn_share: float
    working: bool
    attempts_done: int
    attempts_required: int
    # Until when a countdown may tick on the page: the end of the current working interval,
    # None when the clock stands still now (outside working hours, paused, closed).
    ticks_until: datetime | None

    @property
    def remaining_text(self) -> str:
        """Return the time left as people read it ("3h 05m", "overdue 12m"), before the script runs."""
        left = abs(self.remaining_seconds)
        hours, minutes = divmod(left // 60, 60)
        text = f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
        return f"overdue {text}" if self.remaining_seconds < 0 else text

    @property
    def warn_below_seconds(self) -> int:
        """Return the time left under which the countdown shows amber."""
        return round(self.budget_seconds * (1 - self.warn_share))


def _state(clock: SlaClock, now: datetime) -> str:
    if clock.cancelled_at:
        return "cancelled"
    if clock.met_at:
        return "met"
    if clock.breached_at or (clock.due_at <= now and not clock.paused_since):
        return "breached"
    if clock.paused_since:
        return "paused"
    if clock.warned_at or clock.warn_at <= now:
        return "warning"
    return "running"


def clock_view(clock: SlaClock, now: datetime) -> ClockView:
    spec = ClockSpec(
        started_at=clock.started_at, budget=timedelta(seconds=clock.budget_seconds),
        working=clock.basis == SlaClock.Basis.WORKING, calendar=calendar_from_json(clock.calendar),
        paused=timedelta(seconds=clock.paused_seconds),
    )
    until = clock.met_at or clock.cancelled_at or clock.paused_since or now
    if until is not now:
        ticks_until = None
    elif spec.working:
        ticks_until = working_until(now, spec.calendar)
    else:
        ticks_until = now + timedelta(days=365)
    return ClockView(
        id=clock.pk, contact_id=clock.contact_id, kind=clock.kind, label=clock.get_kind_display(),
        state=_state(clock, now), due_at=clock.due_at, warn_at=clock.warn_at,
        remaining_seconds=int(spec.remaining(until).total_seconds()),
        budget_seconds=clock.budget_seconds,
        warn_share=1 - (clock.due_at - clock.warn_at) / (clock.due_at - clock.started_at)
        if clock.due_at > clock.started_at else 0.75,
        working=spec.working, attempts_done=clock.attempts_done,
        attempts_required=clock.attempts_required, ticks_until=ticks_until,
    )


def clocks_for(*, contact_ids: Iterable[int], visible_to, now: datetime | None = None,
               include_closed: bool = False) -> dict[int, list[ClockView]]:
    """Return each visible lead's clocks (open ones by default), soonest due first, for countdowns.

    One query whatever the number of leads: a queue page calls it once for its page of leads.
    """
    now = now or timezone.now()
    clocks = SlaClock.objects.filter(contact_id__in=list(contact_ids)).filter(
        owner_scope(visible_to, field="contact__owner") | owner_scope(visible_to, field="owner")
    )
    if not include_closed:
        clocks = clocks.filter(SlaClock.OPEN)
    result: dict[int, list[ClockView]] = {}
    for clock in clocks.order_by("due_at", "id"):
        result.setdefault(clock.contact_id, []).append(clock_view(clock, now))
    return result


def running_clocks(*, visible_to, now: datetime | None = None, limit: int = 20) -> list[tuple[SlaClock, ClockView]]:
    """Return the viewer's open clocks that are running, soonest due first (a rep's own, a manager's team's)."""
    now = now or timezone.now()
    clocks = (SlaClock.objects.filter(SlaClock.OPEN, paused_since__isnull=True)
              .filter(owner_scope(visible_to, field="owner"))
              .select_related("contact", "owner").order_by("due_at", "id")[:limit])
    return [(clock, clock_view(clock, now)) for clock in clocks]


def clocks_awaiting_reassignment(*, limit: int = 100) -> list[SlaClock]:
    """Return breached clocks whose SLA says to reassign the lead, oldest first (the handoff routes them)."""
    return list(SlaClock.objects.filter(SlaClock.OPEN, reassign_requested_at__isnull=False)
                .select_related("contact", "owner").order_by("reassign_requested_at")[:limit])


def may_recycle(*, contact_id: int, at: datetime | None = None) -> bool:
    """Tell whether the lead had its minimum attempts over the agreed days, so it may go back to nurture."""
    at = at or timezone.now()
    clock = (SlaClock.objects.filter(contact_id=contact_id, kind=SlaClock.Kind.ATTEMPTS,
                                     cancelled_at__isnull=True).order_by("-started_at").first())
    if clock is None:
        return True  # no SLA clock ran on it: nothing was promised
    return clock.attempts_done >= clock.attempts_required and clock.due_at <= at


@dataclass(frozen=True)
class HandoverView:
    """A lead's latest handover, as a rep reads it: when, under which SLA, and what it lacked."""

    at: datetime
    sla_version: int
    missing: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing


def latest_handover(*, contact_id: int) -> HandoverView | None:
    """Return the lead's latest handover to sales with the required fields it lacked, or None."""
    handover = (Handover.objects.filter(contact_id=contact_id).select_related("sla_version")
                .only("at", "missing_fields", "sla_version__version").first())
    if handover is None:
        return None
    # Field names as the SLA document writes them ("first_name"), worded for a person.
    missing = [str(name).replace("_", " ") for name in handover.missing_fields]
    return HandoverView(at=handover.at, sla_version=handover.sla_version.version, missing=missing)
