"""Writes: SLA clocks and handovers for history recorded before the SLA measured it (the demo, imports).

`backfill_history` builds each clock-less assignment's clocks with `services.new_clocks` (the
versions, calendars and budgets a live handoff gets), settles them from what the
history says happened — the first call, email or meeting, the accept or reject, the K-th
attempt, a later reassignment or a move out of sales' queue — stamps the breaches and
warnings the checker would have sent (without sending them: the events are long past),
records a handover for every move to MQL, and rebuilds the compliance rollup.

Approximations, said in docs/sla.md: the tier is the SLA's default tier (the scores of the
day are not kept), pauses in nurture are not replayed, and a handover's missing fields are
read from the contact as it is now.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accord.accounts.models import User
from accord.capture.models import Contact
from accord.core.vocabulary import LifecycleStage as S
from accord.lifecycle.models import Activity, LeadAssignment, LeadFeedback, StageTransition
from accord.sla import handover_rollup, rollup, services
from accord.sla.document import SlaDocument
from accord.sla.models import Handover, SlaClock, SlaVersion

Progress = Callable[[int, int], None]
TOUCHES = (Activity.Kind.CALL, Activity.Kind.EMAIL, Activity.Kind.MEETING)
# Stages in which a handed-over lead is still sales' to work: leaving them settles its clocks.
QUEUE_STAGES = (S.MQL, S.SAL, S.SQL, S.NURTURE)
CHUNK = 2_000


def _first_at_or_after(times: list[datetime], start: datetime, end: datetime | None) -> datetime | None:
    index = bisect.bisect_left(times, start)
    if index < len(times) and (end is None or times[index] < end):
        return times[index]
    return None


def _settle(clock: SlaClock, *, touches: list[datetime], decisions: list[datetime],
            end: datetime | None, reason: str, now: datetime) -> None:
    """Set what happened to a clock between its start and `end` (its assignment's end, if any)."""
    start = clock.started_at
    if clock.kind == SlaClock.Kind.FIRST_TOUCH:
        clock.met_at = _first_at_or_after(touches, start, end)
    elif clock.kind == SlaClock.Kind.DECISION:
        clock.met_at = _first_at_or_after(decisions, start, end)
    else:
        first = bisect.bisect_left(touches, start)
        last = bisect.bisect_left(touches, end) if end is not None else len(touches)
        inside = touches[first:last]
        if len(inside) >= clock.attempts_required:
            clock.met_at = inside[clock.attempts_required - 1]
            clock.attempts_done = clock.attempts_required
        else:
            clock.attempts_done = len(inside)
    settled = clock.met_at or end or now
    if clock.met_at is None and end is not None and end <= now:
        clock.cancelled_at, clock.cancel_reason = end, reason
    if clock.due_at < settled and clock.due_at <= now:
        clock.breached_at = clock.due_at
    if clock.warn_at <= min(settled, now):
        clock.warned_at = clock.warn_at


def _window_ends(contact_ids: list[int]) -> tuple[dict[int, list], dict[int, list]]:
    """Return each lead's assignment times and its moves out of sales' queue, oldest first."""
    assigned: dict[int, list] = defaultdict(list)
    for contact_id, at in (LeadAssignment.objects.filter(contact_id__in=contact_ids)
                           .order_by("assigned_at").values_list("contact_id", "assigned_at")):
        assigned[contact_id].append(at)
    exits: dict[int, list] = defaultdict(list)
    for contact_id, stage, at in (StageTransition.objects.filter(contact_id__in=contact_ids)
                                  .exclude(to_stage__in=QUEUE_STAGES).order_by("occurred_at")
                                  .values_list("contact_id", "to_stage", "occurred_at")):
        exits[contact_id].append((at, stage))
    return assigned, exits


def _end_of(assigned_at: datetime, assignments: list, exits: list) -> tuple[datetime | None, str]:
    later = [at for at in assignments if at > assigned_at]
    moved = [(at, stage) for at, stage in exits if at > assigned_at]
    ends = []
    if later:
        ends.append((later[0], "reassigned"))
    if moved:
        ends.append((moved[0][0], f"moved to {S(moved[0][1]).label}"))
    return min(ends) if ends else (None, "")


def _times(model, field: str, contact_ids: list[int], **filters) -> dict[int, list[datetime]]:
    result: dict[int, list[datetime]] = defaultdict(list)
    for contact_id, at in (model.objects.filter(contact_id__in=contact_ids, **filters)
                           .order_by(field).values_list("contact_id", field)):
        result[contact_id].append(at)
    return result


class _Agreements:
    """Every SLA version by the moment it took effect, parsed once: which one governed a moment."""

    def __init__(self) -> None:
        versions = list(SlaVersion.objects.order_by("effective_from", "version"))
        self.starts = [version.effective_from for version in versions]
        self.items = [(version, SlaDocument.model_validate(version.document)) for version in versions]

    def at(self, moment: datetime) -> tuple[SlaVersion, SlaDocument]:
        # As services.sla_in_force: the latest in force by then, else the first.
        return self.items[max(0, bisect.bisect_right(self.starts, moment) - 1)]


def _clocks_for_chunk(assignments: list[LeadAssignment], agreements: _Agreements, now: datetime) -> int:
    contact_ids = sorted({a.contact_id for a in assignments})
    touches = _times(Activity, "occurred_at", contact_ids, kind__in=TOUCHES)
    decisions = _times(LeadFeedback, "created_at", contact_ids)
    assigned, exits = _window_ends(contact_ids)
    owners = User.objects.select_related("team").in_bulk({a.owner_id for a in assignments})
    calendars: dict = {}
    clocks = []
    for assignment in assignments:
        version, document = agreements.at(assignment.assigned_at)
        end, reason = _end_of(assignment.assigned_at, assigned[assignment.contact_id], exits[assignment.contact_id])
        for clock in services.new_clocks(assignment=assignment, tier=None, at=assignment.assigned_at,
                                         version=version, document=document, owner=owners[assignment.owner_id],
                                         calendars=calendars):
            _settle(clock, touches=touches[clock.contact_id], decisions=decisions[clock.contact_id],
                    end=end, reason=reason, now=now)
            clocks.append(clock)
    return len(SlaClock.objects.bulk_create(clocks, batch_size=1_000))


def _handovers(now: datetime, agreements: _Agreements) -> int:
    """Record a handover for every move to MQL that has none, with the fields the lead lacks now."""
    columns = {f"contact__{name}": name for name in ("owner_id", "owner__team_id", *services.HANDOVER_COLUMNS)}
    moves = (StageTransition.objects.filter(to_stage=S.MQL, occurred_at__lte=now)
             .filter(~Exists(Handover.objects.filter(contact_id=OuterRef("contact_id"), at=OuterRef("occurred_at"))))
             .values("contact_id", "occurred_at", *columns))
    handovers = []
    for move in moves.iterator(chunk_size=CHUNK):
        contact = {short: move[long] for long, short in columns.items()} | {"pk": move["contact_id"]}
        version, document = agreements.at(move["occurred_at"])
        handovers.append(services.new_handover(contact=contact, at=move["occurred_at"], version=version,
                                               document=document))
    return len(Handover.objects.bulk_create(handovers, batch_size=CHUNK, ignore_conflicts=True))


def backfill_history(*, now: datetime | None = None, progress: Progress | None = None) -> dict[str, int]:
    """Give the assignments of leads without clocks their clocks, and MQL moves their handovers, from
    the history; then rebuild the compliance and handover rollups. Idempotent: leads with clocks and moves with a
    handover are left alone.
    """
    now = now or timezone.now()
    # Only leads with no clock at all: opening an old assignment's clocks would cancel the
    # clocks a live handoff runs on the same lead.
    todo = (LeadAssignment.objects.filter(assigned_at__lte=now)
            .filter(~Exists(SlaClock.objects.filter(contact_id=OuterRef("contact_id"))))
            .filter(Exists(Contact.objects.filter(pk=OuterRef("contact_id")))))
    total = todo.count()
    firsts = [todo.order_by("assigned_at").values_list("assigned_at", flat=True).first(),
              StageTransition.objects.filter(to_stage=S.MQL).order_by("occurred_at")
              .values_list("occurred_at", flat=True).first()]
    if any(firsts):
        # The shipped default, back-dated to the start of the history, when no version exists yet.
        services.sla_in_force(min(moment for moment in firsts if moment))
    agreements = _Agreements()
    clocks = done = 0
    ids = list(todo.order_by("contact_id", "assigned_at").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic():
            chunk = list(LeadAssignment.objects.filter(pk__in=ids[start:start + CHUNK]))
            clocks += _clocks_for_chunk(chunk, agreements, now)
        done += len(chunk)
        if progress:
            progress(done, total)
    with transaction.atomic():
        handovers = _handovers(now, agreements)
    rows = rollup.rebuild()
    # The history's verdicts were loaded behind the services' back too: count them with the handovers.
    days = handover_rollup.rebuild()
    return {"assignments": total, "clocks": clocks, "handovers": handovers, "rollup_rows": rows,
            "handover_days": days}
