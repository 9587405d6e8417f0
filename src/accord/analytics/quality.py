"""Lead quality: how sales answered the leads marketing handed over, by campaign, channel, source, content.

Counted by handover cohort: a period's numbers are the MQLs handed over in it and the verdict
each has now (the latest, when sales accepted and rejected the same handover). Marketing,
revenue ops and executives read the rollup (`lifecycle.FeedbackDaily`: one indexed range of
days, never the feedback table); a manager's or rep's page counts the verdicts they may read
from the feedback rows themselves (a rep's own, a manager's team's), without handovers.
docs/closed-loop.md defines each dimension.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from accord.capture.models import Campaign
from accord.core.permissions import sees_everything
from accord.core.vocabulary import Channel, LifecycleStage
from accord.lifecycle import selectors as lifecycle
from accord.lifecycle.models import FeedbackDaily, LeadFeedback, StageTransition
from accord.sla import selectors as sla
from accord.sla.document import Marketing, SlaDocument

DIMENSIONS = {"campaign": "Campaign", "channel": "Channel", "source": "Source", "content": "Content"}
# The rollup's and the feedback table's column for each dimension.
COLUMNS = {"campaign": "campaign_id", "channel": "channel", "source": "source", "content": "content"}
NONE_LABEL = "(none)"
MAX_ROWS = 200


@dataclass
class QualityRow:
    """One campaign, channel, source or content, and what sales made of its handed-over leads."""

    key: str
    label: str
    handed_over: int | None = None
    accepted: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def pending(self) -> int | None:
        return None if self.handed_over is None else max(self.handed_over - self.decided, 0)

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


@dataclass
class QualityReport:
    dimension: str
    start: dt.date
    end: dt.date
    rows: list[QualityRow]
    total: QualityRow
    reasons: list[tuple[str, str]]  # (code, label) of the reasons that occur, most frequent first
    target_rate: float
    counts_handovers: bool
    truncated: bool = False


def period_bounds(start: dt.date, end: dt.date) -> tuple[datetime, datetime]:
    """Return the aware datetimes [start 00:00, the day after end 00:00) in the site's time zone."""
    zone = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + dt.timedelta(days=1), time.min, tzinfo=zone))


def target_acceptance_rate() -> float:
    """Return the SLA's minimum acceptance rate (marketing's commitment) in force now."""
    version = sla.version_in_force() or sla.first_version()
    if version is None:
        return Marketing.model_fields["min_acceptance_rate"].default
    return SlaDocument.model_validate(version.document).marketing.min_acceptance_rate


def labels(dimension: str, keys: list[str]) -> dict[str, str]:
    """Return how the report names each value of a dimension (campaign ids become names)."""
    if dimension == "campaign":
        ids = [int(k) for k in keys if k.isdigit() and k != "0"]
        names = dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name"))
        return {k: names.get(int(k), f"Campaign {k}") if k.isdigit() and k != "0" else NONE_LABEL for k in keys}
    if dimension == "channel":
        return {k: Channel(k).label if k in Channel.values else (k or NONE_LABEL) for k in keys}
    return {k: k or NONE_LABEL for k in keys}


def _key(value) -> str:
    return "" if value in (None, 0) else str(value)


def lead_quality(*, user, dimension: str, start: dt.date, end: dt.date) -> QualityReport:
    """Return handovers, verdicts, acceptance rate and rejection reasons per value of one dimension."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"{dimension!r} is not one of {', '.join(DIMENSIONS)}")
    column = COLUMNS[dimension]
    rows: dict[str, QualityRow] = {}

    def row(key: str) -> QualityRow:
        return rows.setdefault(key, QualityRow(key=key, label=key, handed_over=0 if everything else None))

    everything = sees_everything(user)
    if everything:
        counts = (FeedbackDaily.objects.filter(day__gte=start, day__lte=end)
                  .values(column, "kind", "reason").annotate(n=Sum("count")).order_by())
    else:
        low, high = period_bounds(start, end)
        counts = (lifecycle.feedback_visible_to(user=user)
                  .filter(is_current=True, handed_over_at__gte=low, handed_over_at__lt=high)
                  .values(column, "reason", kind=F("decision")).annotate(n=Count("id")).order_by())
    for item in counts:
        target = row(_key(item[column]))
        if item["kind"] == FeedbackDaily.Kind.HANDED_OVER:
            target.handed_over += item["n"]
        elif item["kind"] == FeedbackDaily.Kind.ACCEPT:
            target.accepted += item["n"]
        elif item["n"]:
            target.rejected += item["n"]
            target.reasons[item["reason"]] = target.reasons.get(item["reason"], 0) + item["n"]
    ordered = sorted(rows.values(), key=lambda r: (-(r.handed_over or 0), -r.decided, r.key))
    names_of = labels(dimension, [r.key for r in ordered[:MAX_ROWS]])
    for r in ordered:
        r.label = names_of.get(r.key, r.key or NONE_LABEL)
    total = QualityRow(key="", label="All", handed_over=sum(r.handed_over or 0 for r in ordered) if everything else None,
                       accepted=sum(r.accepted for r in ordered), rejected=sum(r.rejected for r in ordered))
    for r in ordered:
        for code, n in r.reasons.items():
            total.reasons[code] = total.reasons.get(code, 0) + n
    names = lifecycle.reason_labels()
    reasons = [(code, names.get(code, code)) for code, _ in sorted(total.reasons.items(), key=lambda kv: (-kv[1], kv[0]))]
    return QualityReport(dimension=dimension, start=start, end=end, rows=ordered[:MAX_ROWS], total=total,
                         reasons=reasons, target_rate=target_acceptance_rate(), counts_handovers=everything,
                         truncated=len(ordered) > MAX_ROWS)


def feedback_list(*, user, start: dt.date, end: dt.date, dimension: str = "", value: str | None = None,
                  decision: str = "", reason: str = "") -> QuerySet[LeadFeedback]:
    """Return the current verdicts on the period's handovers behind a number, newest handover first.

    `value` is the dimension's value as the report keys it ("" for none); walks the
    (dimension, handed_over_at) index, or (by_user, handed_over_at) for a rep.
    """
    low, high = period_bounds(start, end)
    rows = (lifecycle.feedback_visible_to(user=user)
            .filter(is_current=True, handed_over_at__gte=low, handed_over_at__lt=high))
    if dimension in COLUMNS and value is not None:
        if dimension == "campaign":
            rows = rows.filter(campaign__isnull=True) if value in ("", "0") else rows.filter(campaign_id=int(value))
        else:
            rows = rows.filter(**{COLUMNS[dimension]: value})
    if decision in LeadFeedback.Decision.values:
        rows = rows.filter(decision=decision)
    if reason:
        rows = rows.filter(reason=reason)
    return (lifecycle.with_reason_label(rows).select_related("contact", "by_user", "campaign")
            .order_by("-handed_over_at", "-id"))


def handover_list(*, user, start: dt.date, end: dt.date, dimension: str = "", value: str | None = None,
                  pending: bool = False) -> QuerySet[StageTransition]:
    """Return the period's handovers (moves to MQL) behind a "handed over" or "pending" number, newest first.

    Each row carries the verdict sales gave on it (`decision`: accept, reject, or None while
    pending). Only for those who see every handover, as the report counts them; anyone else
    gets none. Walks the (to_stage, occurred_at) index over the period; a dimension's value is
    matched on the origin the rollup counted the handover under.
    """
    if not sees_everything(user):
        return StageTransition.objects.none()
    low, high = period_bounds(start, end)
    rows = lifecycle.with_origin(StageTransition.objects.filter(
        to_stage=LifecycleStage.MQL, occurred_at__gte=low, occurred_at__lt=high))
    if dimension in COLUMNS and value is not None:
        if dimension == "campaign":
            # The report keys "no campaign" as "" and a campaign by its number.
            value = int(value) if value.isdigit() else (0 if value == "" else -1)
        rows = rows.alias(origin=lifecycle.origin_key(dimension)).filter(origin=value)
    verdict = (LeadFeedback.objects.filter(contact_id=OuterRef("contact_id"), handed_over_at=OuterRef("occurred_at"),
                                           is_current=True).order_by("-created_at", "-id"))
    rows = rows.annotate(decision=Subquery(verdict.values("decision")[:1]))
    if pending:
        rows = rows.filter(decision__isnull=True)
    return rows.select_related("contact", "contact__owner").order_by("-occurred_at", "-id")
