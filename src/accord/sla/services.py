"""Writes for the SLA: publish versions, run the clocks on handed-over leads, and alert on them.

The handoff calls `open_clocks` when it assigns a lead, `record_touch` for every call, email
or meeting, `record_decision` on accept or reject, `pause_clocks`/`resume_clocks` when the
lead waits on something the SLA says pauses it, and `close_clocks` when the lead leaves the
queue. `check_clocks` runs on the worker every few seconds (config/schedule.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone

from accord.accounts.models import Team, User
from accord.capture.models import Contact
from accord.core.permissions import Action, Role, require
from accord.lifecycle.models import LeadFeedback
from accord.notifications import events
from accord.notifications.models import Notification
from accord.notifications.services import notify, publish_events
from accord.sla import handover_rollup, periods, reports, rollup, selectors
from accord.sla.document import LEAD_FIELDS, SlaDocument, parse_sla
from accord.sla.domain import ClockSpec, calendar_from_json, calendar_to_json
from accord.sla.models import Handover, SlaClock, SlaVersion

DEFAULT_SLA = Path(__file__).with_name("default_sla.yaml")
CHECK_BATCH = 200
SQLITE_WRITER_GAP = 0.15  # seconds


# -- versions -----------------------------------------------------------------------------


@transaction.atomic
def publish_sla_version(*, source: str, by: User | None = None, note: str = "",
                        effective_from: datetime | None = None) -> SlaVersion:
    """Validate a document and store it as the next version, in force from now (or a later moment).

    Raises core.yamldoc.InvalidDocument (with lines) and stores nothing when it is invalid.
    """
    if by is not None:
        require(by, Action.EDIT_SLA)
    document = parse_sla(source)
    latest = SlaVersion.objects.select_for_update().aggregate(top=Max("version"))["top"] or 0
    return SlaVersion.objects.create(
        version=latest + 1, source=source, document=document.model_dump(mode="json"),
        effective_from=effective_from or timezone.now(), note=note[:500], created_by=by,
    )


def sla_in_force(at: datetime | None = None) -> tuple[SlaVersion, SlaDocument]:
    """Return the version in force and its document, publishing the shipped default the first time."""
    at = at or timezone.now()
    # Before the first version took effect, the first version governs: a lead assigned
    # yesterday and processed today must not conjure up a second "first" agreement.
    version = selectors.version_in_force(at) or selectors.first_version()
    if version is None:
        # Back-date the shipped default so a clock opened "now" always finds it in force.
        version = publish_sla_version(source=DEFAULT_SLA.read_text(encoding="utf-8"),
                                      note="Shipped default", effective_from=min(at, timezone.now()))
    return version, SlaDocument.model_validate(version.document)


# -- clocks -------------------------------------------------------------------------------


def _spec(clock: SlaClock) -> ClockSpec:
    return ClockSpec(
        started_at=clock.started_at, budget=timedelta(seconds=clock.budget_seconds),
        working=clock.basis == SlaClock.Basis.WORKING, calendar=calendar_from_json(clock.calendar),
        paused=timedelta(seconds=clock.paused_seconds),
    )


@transaction.atomic
def open_clocks(*, assignment, tier: str | None = None, at: datetime | None = None) -> list[SlaClock]:
    """Start the first-touch, decision and attempts clocks for an assignment, in the owner's working time.

    Idempotent: calling again for the same assignment returns its clocks. Clocks of an earlier
    assignment of the same lead are cancelled ("reassigned").
    """
    return open_clocks_for(assignments=[(assignment, tier)], at=at)


# No savepoint when nested: the handoff opens clocks inside its own transaction, which a
# failure rolls back whole; the savepoint and its release were two statements a new lead.
@transaction.atomic(savepoint=False)
def open_clocks_for(*, assignments: Sequence[tuple[Any, str | None]],
                    at: datetime | None = None,
                    in_force: tuple[SlaVersion, SlaDocument] | None = None,
                    owners: dict[int, User] | None = None) -> list[SlaClock]:
    """Open the clocks of many (assignment, tier) pairs as `open_clocks` does, in a fixed number of queries.

    For a routing batch of thousands of new MQLs: one read of the leads' open clocks, one
    cancel of earlier owners' clocks per moment (only when there are some), one read of the
    owners, one bulk insert. Each lead must appear once. `in_force` is `sla_in_force(at)` and
    `owners` the owners by id, with their team, if the caller has them already.
    """
    if not assignments:
        return []
    # One read serves both questions: which assignments have their clocks already (a retry),
    # and whether an earlier owner's clocks are still open. A new lead has neither.
    open_now = list(SlaClock.objects.filter(SlaClock.OPEN, contact_id__in={a.contact_id for a, _ in assignments}))
    ours = {a.pk for a, _ in assignments}
    existing = [clock for clock in open_now if clock.assignment_id in ours]
    done = {clock.assignment_id for clock in existing}
    todo = [(a, tier, at or a.assigned_at or timezone.now()) for a, tier in assignments if a.pk not in done]
    by_moment: dict[datetime, list[int]] = {}
    for assignment, _, moment in todo:
        by_moment.setdefault(moment, []).append(assignment.contact_id)
    earlier_leads = {clock.contact_id for clock in open_now if clock.assignment_id not in ours}
    for moment, contact_ids in by_moment.items():
        if not earlier_leads.intersection(contact_ids):
            continue
        earlier = SlaClock.objects.filter(SlaClock.OPEN, contact_id__in=contact_ids)
        with rollup.tracked(earlier):
            earlier.update(cancelled_at=moment, cancel_reason="reassigned", reassign_requested_at=None)
    wanted = {a.owner_id for a, _, _ in todo}
    if owners is None or not wanted <= owners.keys():
        owners = User.objects.select_related("team").in_bulk(wanted)
    agreements = {moment: in_force if in_force is not None and moment == at else sla_in_force(moment)
                  for moment in by_moment}
    calendars: dict[tuple, tuple] = {}
    clocks = []
    for assignment, tier, moment in todo:
        version, document = agreements[moment]
        clocks += new_clocks(assignment=assignment, tier=tier, at=moment, version=version, document=document,
                             owner=owners[assignment.owner_id], calendars=calendars)
    return existing + SlaClock.objects.bulk_create(clocks)


def new_clocks(*, assignment, tier: str | None, at: datetime, version: SlaVersion, document: SlaDocument,
               owner: User, calendars: dict) -> list[SlaClock]:
    """Return an assignment's three clocks, unsaved, as `version` promises them on the owner's calendar.

    `calendars` caches each (version, team, zone)'s calendar across calls.
    """
    team = owner.team
    zone = (team.timezone if team else "") or owner.timezone or "UTC"
    key = (version.pk, team.name if team else None, zone)
    if key not in calendars:
        calendar = document.calendar_for(team_name=key[1], team_timezone=zone)
        calendars[key] = (calendar, calendar_to_json(calendar))
    calendar, frozen = calendars[key]
    tier = document.tier(tier)
    plans = [
        (SlaClock.Kind.FIRST_TOUCH, document.first_touch_budget(tier), True, 0),
        (SlaClock.Kind.DECISION, document.decision_budget, True, 0),
        # "K attempts over D days" counts calendar days: reps' follow-up cadences do.
        (SlaClock.Kind.ATTEMPTS, document.attempts_budget, False, document.sales.attempts.minimum),
    ]
    clocks = []
    for kind, budget, working, attempts in plans:
        spec = ClockSpec(started_at=at, budget=budget, working=working, calendar=calendar)
        clocks.append(SlaClock(
            contact_id=assignment.contact_id, assignment=assignment, owner=owner, kind=kind,
            tier=tier, sla_version=version,
            basis=SlaClock.Basis.WORKING if working else SlaClock.Basis.CALENDAR,
            calendar=frozen, budget_seconds=int(budget.total_seconds()), started_at=at,
            due_at=spec.due_at(), warn_at=spec.warn_at(document.warn_at),
            attempts_required=attempts,
        ))
    return clocks


@transaction.atomic
def record_touch(*, contact_id: int, at: datetime) -> int:
    """Count a touch (call, email, meeting) on the lead: it meets first touch and counts an attempt.

    Call it once per activity, in the transaction that records the activity. Return the number
    of clocks met.
    """
    with rollup.tracked(SlaClock.objects.filter(SlaClock.OPEN, contact_id=contact_id)):
        met = SlaClock.objects.filter(
            SlaClock.OPEN, contact_id=contact_id, kind=SlaClock.Kind.FIRST_TOUCH,
        ).update(met_at=at)
        attempts = SlaClock.objects.filter(SlaClock.OPEN, contact_id=contact_id, kind=SlaClock.Kind.ATTEMPTS)
        attempts.update(attempts_done=F("attempts_done") + 1)
        met += attempts.filter(attempts_done__gte=F("attempts_required")).update(met_at=at)
    return met


def record_decision(*, contact_id: int, at: datetime) -> int:
    """Meet the decision clock: sales accepted or rejected the lead. Return the number of clocks met."""
    clocks = SlaClock.objects.filter(SlaClock.OPEN, contact_id=contact_id, kind=SlaClock.Kind.DECISION)
    with rollup.tracked(clocks):
        return clocks.update(met_at=at)


def count_verdict(*, feedback: LeadFeedback) -> None:
    """Count sales' verdict toward marketing's acceptance rate, in the transaction that recorded it.

    The handoff calls it beside `record_decision` for every verdict it records (a changed
    verdict is a second one): marketing's side reads the daily rollup, not the verdicts.
    """
    handover_rollup.count_verdict(decision=feedback.decision, at=feedback.created_at)


def close_clocks(*, contact_id: int, at: datetime, reason: str,
                 kinds: list[str] | None = None) -> int:
    """Cancel a lead's open clocks (reassigned, rejected, recycled, converted). Return how many."""
    clocks = SlaClock.objects.filter(SlaClock.OPEN, contact_id=contact_id)
    if kinds:
        clocks = clocks.filter(kind__in=kinds)
    with rollup.tracked(clocks):
        return clocks.update(cancelled_at=at, cancel_reason=reason[:200], reassign_requested_at=None)


def pause_clocks(*, contact_id: int, at: datetime) -> int:
    """Stop a lead's running clocks, e.g. while it waits on the customer. Return how many."""
    return SlaClock.objects.filter(
        SlaClock.OPEN, contact_id=contact_id, paused_since__isnull=True, breached_at__isnull=True,
    ).update(paused_since=at)


@transaction.atomic
def resume_clocks(*, contact_id: int, at: datetime) -> list[SlaClock]:
    """Restart a lead's paused clocks, moving their warn and due times by the time spent paused."""
    clocks = list(SlaClock.objects.select_for_update().select_related("sla_version").filter(
        SlaClock.OPEN, contact_id=contact_id, paused_since__isnull=False,
    ))
    for clock in clocks:
        spec = _spec(clock)
        paused = spec.paused + spec.elapsed(clock.paused_since, max(at, clock.paused_since))
        spec = ClockSpec(started_at=spec.started_at, budget=spec.budget, working=spec.working,
                         calendar=spec.calendar, paused=paused)
        share = clock.sla_version.document.get("warn_at", 0.75)
        clock.paused_seconds = int(paused.total_seconds())
        clock.paused_since = None
        clock.due_at = spec.due_at()
        clock.warn_at = spec.warn_at(share)
        clock.save(update_fields=["paused_seconds", "paused_since", "due_at", "warn_at"])
    return clocks


@transaction.atomic
def lead_status_changed(*, contact_id: int, at: datetime, stage: str | None,
                        waiting_on_customer: bool = False) -> str:
    """Pause or resume a lead's clocks as its SLA says for its new stage or waiting state.

    The handoff calls this whenever a lead's stage or waiting-on-customer flag changes; the
    clocks' own SLA version decides. Return "paused", "resumed" or "unchanged".
    """
    clock = (SlaClock.objects.filter(SlaClock.OPEN, contact_id=contact_id)
             .select_related("sla_version").first())
    if clock is None:
        return "unchanged"
    document = SlaDocument.model_validate(clock.sla_version.document)
    if document.stops_clocks(stage=stage, waiting_on_customer=waiting_on_customer):
        return "paused" if pause_clocks(contact_id=contact_id, at=at) else "unchanged"
    return "resumed" if resume_clocks(contact_id=contact_id, at=at) else "unchanged"


def mark_reassigned(*, clock_id: int) -> None:
    """Clear a breach's reassignment request once the lead has a new owner."""
    SlaClock.objects.filter(pk=clock_id).update(reassign_requested_at=None)


# -- the checker --------------------------------------------------------------------------


@dataclass
class CheckResult:
    warned: int = 0
    breached: int = 0
    notifications: int = 0
    passes: int = 0


class _Managers:
    """Who hears of a breach: the owner's team's manager and its sales managers, else the revops admins."""

    def __init__(self) -> None:
        self._by_team: dict[int | None, list[User]] = {}

    def for_team(self, team_id: int | None) -> list[User]:
        if team_id not in self._by_team:
            people = User.objects.filter(is_active=True)
            managers = list(people.filter(
                Q(team_id=team_id, role=Role.SALES_MANAGER) | Q(managed_teams__id=team_id)
            ).distinct()) if team_id is not None else []
            # No manager must not mean a silent breach.
            self._by_team[team_id] = managers or list(people.filter(role=Role.REVOPS_ADMIN))
        return self._by_team[team_id]


def _lead_url(contact_id: int) -> str:
    return reverse("contact", kwargs={"contact_id": contact_id})


def _claim(query: Q, *, order: str, limit: int) -> list[SlaClock]:
    # skip_locked lets two workers share a backlog on PostgreSQL; SQLite serialises writers
    # (BEGIN IMMEDIATE) and ignores the clause.
    ids = list(
        SlaClock.objects.select_for_update(skip_locked=True).filter(query)
        .order_by(order)
        .values_list("id", flat=True)[:limit]
    )
    # The lead's current score (scoring's ContactScore) rides the same query, for the events.
    return list(SlaClock.objects.filter(id__in=ids).select_related("owner", "contact__current_score",
                                                                   "sla_version"))


def _score(contact: Contact) -> int:
    """Return the contact's current score, 0 without a ContactScore row (read with the clock)."""
    current = getattr(contact, "current_score", None)
    return current.total if current is not None else 0


def _contact_name(clock: SlaClock) -> str:
    contact = clock.contact
    return (f"{contact.first_name} {contact.last_name}".strip() or contact.email or f"lead #{contact.pk}")


def _clock_events(event_type: str, clocks: list[SlaClock], now: datetime) -> list[events.DomainEvent]:
    """Build one sla.* event per clock, keyed by its lead so they reach subscribers in order with lead.* events."""
    return [
        events.lead_event(
            event_type, lead={**{field: getattr(clock.contact, field) for field in
                                 ("id", "email", "first_name", "last_name", "account_id",
                                  "lifecycle_stage", "owner_id")}, "score": _score(clock.contact)},
            by=events.actor(system="sla"), occurred_at=now,
            clock={"id": clock.pk, "kind": clock.kind, "tier": clock.tier, "owner_id": clock.owner_id,
                   "due_at": clock.due_at.isoformat(), "warn_at": clock.warn_at.isoformat(),
                   "sla_version": clock.sla_version.version},
        )
        for clock in clocks
    ]


def _breach_batch(now: datetime, limit: int, managers: _Managers, result: CheckResult) -> int:
    with transaction.atomic():
        clocks = _claim(Q(breached_at__isnull=True, met_at__isnull=True, cancelled_at__isnull=True,
                          paused_since__isnull=True, due_at__lte=now), order="due_at", limit=limit)
        reassign = []
        for clock in clocks:
            what = clock.get_kind_display().lower()
            title = f"SLA breached: {what} for {_contact_name(clock)}"
            body = f"Due {clock.due_at:%Y-%m-%d %H:%M} UTC under SLA v{clock.sla_version.version}."
            url = _lead_url(clock.contact_id)
            recipients = {clock.owner_id: clock.owner}
            for manager in managers.for_team(clock.owner.team_id):
                recipients.setdefault(manager.pk, manager)
            for person in recipients.values():
                sent = notify(recipient=person, kind=Notification.Kind.SLA_BREACH, title=title,
                              body=body, url=url,
                              dedupe_key=f"sla:breach:{clock.pk}:{person.pk}")
                result.notifications += sent is not None
            if clock.sla_version.document.get("on_breach") == "alert_and_reassign":
                reassign.append(clock.pk)
        breached = SlaClock.objects.filter(id__in=[c.pk for c in clocks])
        with rollup.tracked(breached):
            breached.update(breached_at=now)
        # One batch, one publish: a few statements however many clocks broke at once.
        publish_events(events=_clock_events("sla.breached", clocks, now))
        # The reassignment itself belongs to the handoff's routing, which sits above the SLA:
        # it reads `selectors.clocks_awaiting_reassignment()` and routes the lead again.
        SlaClock.objects.filter(id__in=reassign).update(reassign_requested_at=now)
    result.breached += len(clocks)
    return len(clocks)


def _warning_batch(now: datetime, limit: int, result: CheckResult) -> int:
    with transaction.atomic():
        clocks = _claim(Q(warned_at__isnull=True, breached_at__isnull=True, met_at__isnull=True,
                          cancelled_at__isnull=True, paused_since__isnull=True, warn_at__lte=now), order="warn_at",
                        limit=limit)
        for clock in clocks:
            what = clock.get_kind_display().lower()
            sent = notify(
                recipient=clock.owner, kind=Notification.Kind.SLA_WARNING,
                title=f"SLA due soon: {what} for {_contact_name(clock)}",
                body=f"Due {clock.due_at:%Y-%m-%d %H:%M} UTC.", url=_lead_url(clock.contact_id),
                dedupe_key=f"sla:warning:{clock.pk}",
            )
            result.notifications += sent is not None
        SlaClock.objects.filter(id__in=[c.pk for c in clocks]).update(warned_at=now)
        publish_events(events=_clock_events("sla.warning", clocks, now))
    result.warned += len(clocks)
    return len(clocks)


def check_clocks(*, now: datetime | None = None, batch_size: int = CHECK_BATCH,
                 max_batches: int = 1000) -> CheckResult:
    """Alert on every clock past its breach or warn time, in bounded batches, each its own transaction.

    A batch stamps its clocks in the transaction that writes their notifications, so a worker
    killed mid-batch leaves that batch for the next pass, and a rerun sends nothing twice.
    Breaches go first: a clock that is past both gets one breach, not a late warning as well.
    """
    result = CheckResult()
    managers = _Managers()
    for _ in range(max_batches):
        result.passes += 1
        if _breach_batch(now or timezone.now(), batch_size, managers, result) < batch_size:
            break
        _let_other_writers_in()
    for _ in range(max_batches):
        result.passes += 1
        if _warning_batch(now or timezone.now(), batch_size, result) < batch_size:
            break
        _let_other_writers_in()
    return result


def _let_other_writers_in() -> None:
    # SQLite has one writer at a time, and a waiting writer polls with backoff of up to 100 ms:
    # batches committed back to back would starve web requests and the main worker until their
    # 30 s busy timeout fails them ("database is locked"). PostgreSQL locks rows, not the file.
    if connection.vendor == "sqlite":
        time.sleep(SQLITE_WRITER_GAP)


# -- marketing's side ---------------------------------------------------------------------

# How each required field of the SLA document is read on a contact.
_FIELD_COLUMNS = {"account": "account_id"}
HANDOVER_COLUMNS = tuple(_FIELD_COLUMNS.get(name, name) for name in LEAD_FIELDS)


def record_handovers(*, contact_ids: Sequence[int], at: datetime,
                     in_force: tuple[SlaVersion, SlaDocument] | None = None) -> int:
    """Record leads handed to sales (they became MQLs) with the required fields each lacked. Return how many.

    The handoff calls it once per sweep, after routing, in the same transaction: one read of
    the contacts, one bulk insert. A lead recorded at the same moment before is skipped, so a
    retried sweep counts nobody twice. `in_force` is `sla_in_force(at)` if the caller has it already.
    """
    if not contact_ids:
        return 0
    version, document = in_force or sla_in_force(at)
    rows = Contact.objects.filter(pk__in=list(contact_ids)).values("pk", "owner_id", "owner__team_id",
                                                                   *HANDOVER_COLUMNS)
    handovers = [new_handover(contact=row, at=at, version=version, document=document) for row in rows]
    inserted = _insert_new(handovers)
    handover_rollup.count_handovers(inserted)
    return len(inserted)


_HANDOVER_FIELDS = ("contact", "at", "sla_version", "owner", "team", "missing_fields", "complete")
INSERT_ROWS = 500


def _insert_new(handovers: list[Handover]) -> list[Handover]:
    """Insert the handovers (all at one moment) not recorded before; return those inserted.

    `bulk_create(ignore_conflicts=True)` cannot tell which rows a conflict skipped, and the
    rollup must count only the new ones: `ON CONFLICT DO NOTHING RETURNING` names them.
    """
    fields = [Handover._meta.get_field(name) for name in _HANDOVER_FIELDS]
    table = connection.ops.quote_name(Handover._meta.db_table)
    columns = ", ".join(field.column for field in fields)
    new: set[int] = set()
    for start in range(0, len(handovers), INSERT_ROWS):
        chunk = handovers[start:start + INSERT_ROWS]
        values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(chunk))
        params = [field.get_db_prep_save(getattr(handover, field.attname), connection)
                  for handover in chunk for field in fields]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608 - names are ours
                           "ON CONFLICT (contact_id, at) DO NOTHING RETURNING contact_id", params)
            new.update(contact_id for (contact_id,) in cursor.fetchall())
    return [handover for handover in handovers if handover.contact_id in new]


def new_handover(*, contact: dict, at: datetime, version: SlaVersion, document: SlaDocument) -> Handover:
    """Return an unsaved handover of a contact (a `values()` row with HANDOVER_COLUMNS) under `document`."""
    required = document.marketing.required_fields
    missing = [name for name in required if contact[_FIELD_COLUMNS.get(name, name)] in (None, "")]
    return Handover(contact_id=contact["pk"], at=at, sla_version=version, owner_id=contact["owner_id"],
                    team_id=contact["owner__team_id"], missing_fields=missing, complete=not missing)


# Pacing below this share of what the commitment expected by today warns marketing.
PACING_WARN_SHARE = 0.8
# Too early in a month to read a pace (days begun), and too few decisions to read a rate.
PACING_MIN_DAYS = 3
ACCEPTANCE_MIN_DECISIONS = 10


def _marketing_managers() -> list[User]:
    """Who answers for marketing's side: managers of marketing teams, else marketers, else revops admins."""
    people = User.objects.filter(is_active=True)
    managers = list(people.filter(managed_teams__function=Team.Function.MARKETING).distinct())
    return managers or list(people.filter(role=Role.MARKETING)) or list(people.filter(role=Role.REVOPS_ADMIN))


def _tell(people: list[User], *, kind: str, title: str, body: str, key: str) -> int:
    url = reverse("sla-compliance-marketing")
    return sum(notify(recipient=person, kind=kind, title=title, body=body, url=url,
                      dedupe_key=f"{key}:{person.pk}") is not None for person in people)


def check_commitments(*, now: datetime | None = None) -> dict:
    """Warn marketing's managers when MQLs fall behind pace or sales accept too few this month,
    and alert them once a month is over if it missed the commitment. Each at most once per month.
    """
    today = timezone.localdate(now or timezone.now())
    sent = {"pacing": 0, "acceptance": 0, "missed": 0}
    # Handovers are recorded from the release that measures them on: a month that began before
    # the first one was not measured, and must not be judged as if marketing had sent nobody.
    since = reports.handovers_recorded_since()
    month = periods.named("this_month", today)
    if since is None or since > reports.bounds(month)[0]:
        return sent
    people = _marketing_managers()
    current = reports.marketing_commitments(period=month, today=today)
    tag = f"{month.start:%Y-%m}"
    if (current.pacing is not None and current.pacing < PACING_WARN_SHARE
            and month.elapsed_days(today) >= PACING_MIN_DAYS):
        sent["pacing"] = _tell(
            people, kind=Notification.Kind.SLA_WARNING, key=f"sla:mql-pacing:{tag}",
            title=f"MQLs behind the SLA: {current.handed_over} of {current.expected_to_date:.0f} expected by today",
            body=f"{current.pacing:.0%} of the pace to {current.committed:.0f} MQLs in {month.label} "
                 f"(SLA v{current.version}).")
    decisions = current.accepted + current.rejected
    if decisions >= ACCEPTANCE_MIN_DECISIONS and current.acceptance_below_minimum:
        sent["acceptance"] = _tell(
            people, kind=Notification.Kind.SLA_WARNING, key=f"sla:acceptance:{tag}",
            title=f"Sales accepted {current.acceptance_rate:.0%} of MQLs, under the SLA's "
                  f"{current.min_acceptance_rate:.0%}",
            body=f"{current.accepted} accepted and {current.rejected} rejected so far in {month.label}.")
    last = periods.named("last_month", today)
    if since > reports.bounds(last)[0]:
        return sent
    previous = reports.marketing_commitments(period=last, today=today)
    if previous.committed and previous.handed_over < previous.committed:
        sent["missed"] = _tell(
            people, kind=Notification.Kind.SLA_BREACH, key=f"sla:mql-missed:{last.start:%Y-%m}",
            title=f"MQL commitment missed in {last.label}: {previous.handed_over} of {previous.committed:.0f}",
            body=f"Acceptance by sales was {previous.acceptance_rate:.0%}." if previous.acceptance_rate is not None
            else "Sales gave no decisions that month.")
    return sent
