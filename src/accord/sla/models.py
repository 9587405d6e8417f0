"""The accord itself: each version of the two-way marketing–sales agreement, kept forever."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

from accord.sla import compliance
from accord.sla.document import LEAD_FIELDS


class SlaVersion(models.Model):
    """One published version of the SLA document; reports name the version that was in force."""

    version = models.PositiveIntegerField(unique=True)
    # The document as written (YAML), and as parsed and validated (JSON) for the clocks.
    source = models.TextField()
    document = models.JSONField()
    effective_from = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        indexes = [models.Index(fields=["effective_from"], name="sla_effective")]

    def __str__(self) -> str:
        return f"SLA v{self.version}"


class SlaClock(models.Model):
    """One commitment on one handed-over lead, running in its team's working time.

    `due_at` and `warn_at` are absolute instants computed when the clock opens or resumes, so
    the checker finds what is due with an index range scan instead of doing calendar maths
    per row. A paused clock keeps its instants but is skipped until it resumes.
    """

    class Kind(models.TextChoices):
        FIRST_TOUCH = "first_touch", "First touch"
        DECISION = "decision", "Accept or reject"
        ATTEMPTS = "attempts", "Attempts before recycling"

    class Basis(models.TextChoices):
        WORKING = "working", "Working time"
        CALENDAR = "calendar", "Calendar time"

    contact = models.ForeignKey("capture.Contact", on_delete=models.CASCADE, related_name="sla_clocks")
    assignment = models.ForeignKey(
        "lifecycle.LeadAssignment", null=True, blank=True, on_delete=models.SET_NULL, related_name="sla_clocks"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    tier = models.CharField(max_length=32, blank=True)
    sla_version = models.ForeignKey(SlaVersion, on_delete=models.PROTECT, related_name="clocks")
    basis = models.CharField(max_length=8, choices=Basis.choices, default=Basis.WORKING)
    # The calendar the clock runs on, frozen at opening: a later edit of the SLA or the team's
    # time zone applies to new clocks, never silently to promises already made.
    calendar = models.JSONField(default=dict)
    budget_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    warn_at = models.DateTimeField()
    paused_since = models.DateTimeField(null=True, blank=True)
    # Time spent paused, in the clock's basis (working seconds for working-time clocks).
    paused_seconds = models.PositiveIntegerField(default=0)
    attempts_required = models.PositiveSmallIntegerField(default=0)
    attempts_done = models.PositiveSmallIntegerField(default=0)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # Set at breach when the SLA says to reassign; cleared by whoever reassigns the lead.
    reassign_requested_at = models.DateTimeField(null=True, blank=True)

    OPEN = models.Q(met_at__isnull=True, cancelled_at__isnull=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The checker's two reads: partial indexes hold only the clocks still to fire.
            models.Index(
                fields=["warn_at"], name="slaclock_warn_due",
                condition=models.Q(warned_at__isnull=True, breached_at__isnull=True, met_at__isnull=True,
                                   cancelled_at__isnull=True, paused_since__isnull=True),
            ),
            models.Index(
                fields=["due_at"], name="slaclock_breach_due",
                condition=models.Q(breached_at__isnull=True, met_at__isnull=True,
                                   cancelled_at__isnull=True, paused_since__isnull=True),
            ),
            models.Index(fields=["contact", "kind"], name="slaclock_contact_kind"),
            # Queues and the "clocks running now" list: open clocks only, whatever the history.
            models.Index(fields=["owner", "due_at"], name="slaclock_owner_open_due",
                         condition=models.Q(met_at__isnull=True, cancelled_at__isnull=True)),
            models.Index(fields=["due_at"], name="slaclock_open_due",
                         condition=models.Q(met_at__isnull=True, cancelled_at__isnull=True)),
            models.Index(
                fields=["reassign_requested_at"], name="slaclock_reassign",
                condition=models.Q(reassign_requested_at__isnull=False),
            ),
            # Compliance drill-downs: the clocks that fell due in a period, all of them or one owner's.
            models.Index(fields=["due_at", "kind"], name="slaclock_due_kind"),
            models.Index(fields=["owner", "due_at"], name="slaclock_owner_due"),
        ]
        constraints = [
            # One open clock of a kind per lead: a retried handoff must not start a second one.
            models.UniqueConstraint(
                fields=["contact", "kind"], name="slaclock_one_open_per_kind",
                condition=models.Q(met_at__isnull=True, cancelled_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for contact {self.contact_id}"

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None


def _histogram_fields() -> dict[str, models.Field]:
    return {f"h{index:02d}": models.IntegerField(default=0) for index in range(compliance.BUCKETS)}


# The response-time histogram as plain columns: one SUM per column reads any period's
# median and p90 in the same aggregate query as the counts, on SQLite and PostgreSQL alike.
ResponseHistogram = type("ResponseHistogram", (models.Model,), {
    "__module__": __name__, "__doc__": "Counts of response times per log-spaced bucket (sla.compliance).",
    "Meta": type("Meta", (), {"abstract": True}), **_histogram_fields(),
})
HISTOGRAM_COLUMNS = tuple(f"h{index:02d}" for index in range(compliance.BUCKETS))


class ComplianceCounts(ResponseHistogram):
    """Settled clocks of one owner, clock kind and SLA version: the counters every rollup grain keeps."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The owner's team when the row was first written: reports group by the team the work was done in.
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sla_version = models.ForeignKey(SlaVersion, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=SlaClock.Kind.choices)
    met_on_time = models.IntegerField(default=0)
    met_late = models.IntegerField(default=0)
    breached = models.IntegerField(default=0)  # past due unmet: still open, or closed after the due time
    cancelled = models.IntegerField(default=0)  # closed before the due time: not counted as due
    attempts = models.IntegerField(default=0)  # attempts logged on the settled clocks

    class Meta:
        abstract = True


class ComplianceDaily(ComplianceCounts):
    """Settled clocks per day they fell due, owner, SLA version and kind: what compliance reports read.

    Written by the SLA services in the transaction that settles a clock (met, breached,
    cancelled), as additions to the counters; `accord sla rollup --rebuild` recomputes it
    from the clocks. Counters may move between columns (a breached clock met later goes from
    `breached` to `met_late`), so they are plain integers.
    """

    day = models.DateField()  # the day the clock fell due, in the site's time zone

    class Meta:
        ordering = ["day", "owner_id", "kind"]
        verbose_name_plural = "compliance days"
        constraints = [
            # The upsert's conflict target: one row per owner, day, kind and version.
            models.UniqueConstraint(fields=["owner", "day", "kind", "sla_version"], name="compliance_one_row"),
        ]
        indexes = [
            models.Index(fields=["day"], name="compliance_day"),
            models.Index(fields=["team", "day"], name="compliance_team_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} owner {self.owner_id}"


def _coarse_meta(grain: str, plural: str) -> type:
    # One row per owner, start, kind, version *and the team of the daily rows it adds up*: a rep
    # who changes team mid-month has a row for each, so team reports read the same from any grain.
    # COALESCE makes "no team" one key (NULLs are distinct in a unique index).
    return type("Meta", (), {
        "ordering": ["start", "owner_id", "kind"],
        "verbose_name_plural": plural,
        "constraints": [models.UniqueConstraint(
            "owner", "start", "kind", "sla_version", Coalesce("team", 0), name=f"compliance_{grain}_one_row")],
        "indexes": [models.Index(fields=["start"], name=f"compliance_{grain}_start"),
                    models.Index(fields=["team", "start"], name=f"compliance_{grain}_team")],
    })


class ComplianceWeekly(ComplianceCounts):
    """The daily rows summed per week (Monday first): a period's whole weeks read 7× fewer rows.

    Kept by sla.rollup in the transaction that writes the daily rows (one more upsert), from the teams those rows hold.
    """

    start = models.DateField()  # the Monday
    Meta = _coarse_meta("week", "compliance weeks")

    def __str__(self) -> str:
        return f"week of {self.start} {self.kind} owner {self.owner_id}"


class ComplianceMonthly(ComplianceCounts):
    """The daily rows summed per calendar month: a year's report reads ~30× fewer rows than daily."""

    start = models.DateField()  # the first of the month
    Meta = _coarse_meta("month", "compliance months")

    def __str__(self) -> str:
        return f"{self.start:%B %Y} {self.kind} owner {self.owner_id}"


class Handover(models.Model):
    """One lead handed from marketing to sales (it became an MQL), under the SLA version in force then.

    Marketing's side of the SLA is measured on these: MQLs against the commitment, and whether
    each lead carried every field the SLA requires.
    """

    contact = models.ForeignKey("capture.Contact", on_delete=models.CASCADE, related_name="sla_handovers")
    at = models.DateTimeField()
    sla_version = models.ForeignKey(SlaVersion, on_delete=models.PROTECT, related_name="handovers")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The SLA's required fields the lead lacked when it was handed over (empty: complete).
    missing_fields = models.JSONField(default=list, blank=True)
    complete = models.BooleanField()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            # A retried sweep must not count a lead twice.
            models.UniqueConstraint(fields=["contact", "at"], name="handover_once"),
        ]
        indexes = [models.Index(fields=["at"], name="handover_at")]

    def __str__(self) -> str:
        return f"handover of contact {self.contact_id} at {self.at:%Y-%m-%d %H:%M}"


def _missing_fields() -> dict[str, models.Field]:
    return {f"missing_{name}": models.IntegerField(default=0) for name in LEAD_FIELDS}


# One counter per field the SLA may require, so a period's "missing how often" is a plain SUM.
MissingCounts = type("MissingCounts", (models.Model,), {
    "__module__": __name__, "__doc__": "Handovers that lacked each field the SLA may require (document.LEAD_FIELDS).",
    "Meta": type("Meta", (), {"abstract": True}), **_missing_fields(),
})
MISSING_COLUMNS = tuple(f"missing_{name}" for name in LEAD_FIELDS)


class HandoverDaily(MissingCounts):
    """Marketing's side of the SLA per day (site time zone): what the commitments report reads.

    Handovers and their completeness count on the day of the handover; sales' verdicts on
    the day they were given (every verdict, as "decisions given in the period" reads). Kept
    by sla.handover_rollup in the transaction of each handover and verdict, as additions;
    `accord sla rollup --rebuild` recomputes it from the rows.
    """

    day = models.DateField(unique=True)
    handed_over = models.IntegerField(default=0)
    complete = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)

    class Meta:
        ordering = ["day"]
        verbose_name_plural = "handover days"

    def __str__(self) -> str:
        return f"{self.day}: {self.handed_over} handed over"


class MergeCursor(models.Model):
    """The last contact merge whose days the handover rollup was reconciled for (one row).

    capture records every merge (`ContactMerge`) but sits below the SLA, so it cannot tell the
    rollup about a handover a merge dropped; `handover_rollup.reconcile_merges` reads the merges
    after this cursor instead.
    """

    name = models.CharField(max_length=100, unique=True)
    last_merge_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: after merge {self.last_merge_id}"


class ScheduleEntry(models.Model):
    """When a periodic task (config/schedule.py) was last put on the queue.

    Every running worker ticks; the one whose conditional UPDATE moves `last_enqueued_at`
    enqueues, so a task goes on the queue at most once per interval however many run.
    """

    name = models.CharField(max_length=100, unique=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "schedule entries"

    def __str__(self) -> str:
        return self.name
