"""Reads for the handoff: one lead as its viewer may see it, and the packet a rep gets with it.

The packet is what a rep needs to act on an MQL without opening five pages: why it is an
MQL (the score's explanation, top factors up and down), its recent touchpoints, the
campaign that brought it in, its account, and content worth sending at this stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from accord.capture.models import Contact
from accord.capture.selectors import contact_for, contacts_visible_to, with_scores
from accord.collaboration.models import ContentAsset
from accord.core.errors import NotFound
from accord.core.vocabulary import LifecycleStage
from accord.handoff.models import LeadWait
from accord.lifecycle import selectors as lifecycle_selectors
from accord.scoring.selectors import latest_score
from accord.sla.models import SlaClock

TOUCHPOINTS_IN_PACKET = 5
WAITING_VIEW = "waiting"
CONTENT_IN_PACKET = 3


def lead_for(*, user, contact_id: int) -> Contact:
    """Return a lead the user may see, or raise NotFound."""
    return contact_for(user=user, contact_id=contact_id)


def with_follow_up_due(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Annotate each contact with `follow_up_due`: the soonest due time of its running SLA clocks.

    A paused clock does not count (its due time moves when it resumes), nor a met or closed
    one; a lead with none is NULL. One correlated subquery that walks the
    slaclock_contact_kind index: at most three open clocks per lead.
    """
    due = (SlaClock.objects.filter(SlaClock.OPEN, contact=OuterRef("pk"), paused_since__isnull=True)
           .order_by("due_at").values("due_at")[:1])
    return contacts.annotate(follow_up_due=Subquery(due))


def with_waiting(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Annotate each contact with `waiting_since` and `waiting_note` from its open wait on the customer.

    Both are NULL when the lead is not waiting. Each is a lookup on the open-wait partial
    unique index: at most one row per lead.
    """
    open_wait = LeadWait.objects.filter(contact=OuterRef("pk"), ended_at__isnull=True)
    return contacts.annotate(waiting_since=Subquery(open_wait.values("started_at")[:1]),
                             waiting_note=Subquery(open_wait.values("note")[:1]))


def lead_queue(*, user, view: str = "all") -> QuerySet[Contact]:
    """Return the open leads the user may see, most urgent first: the soonest SLA deadline, then score, then the newest.

    The view "waiting" holds the open leads waiting on the customer.
    """
    leads = lifecycle_selectors.lead_queue(user=user, view="all" if view == WAITING_VIEW else view)
    if view == WAITING_VIEW:
        leads = leads.filter(Exists(LeadWait.objects.filter(contact=OuterRef("pk"), ended_at__isnull=True)))
    leads = with_waiting(with_follow_up_due(leads))
    return leads.order_by(F("follow_up_due").asc(nulls_last=True), *lifecycle_selectors.QUEUE_ORDER)


def lead_row(*, user, contact_id: int) -> Contact:
    """Return one lead as the queue shows it, with its follow-up deadline and wait, or raise NotFound."""
    lead = (with_waiting(with_follow_up_due(with_scores(contacts_visible_to(user=user)).filter(pk=contact_id)))
            .select_related("account", "owner", "original_campaign").first())
    if lead is None:
        raise NotFound(f"No contact {contact_id}.")
    return lead


@dataclass(frozen=True)
class Factor:
    text: str
    points: int


@dataclass(frozen=True)
class Explanation:
    """A score in words: the summary and the factors that pushed it up and down."""

    total: int
    fit: int | None = None
    engagement: int | None = None
    summary: str = ""
    up: list[Factor] = field(default_factory=list)
    down: list[Factor] = field(default_factory=list)
    predicted: str = ""
    computed_at: Any = None

    @property
    def recorded(self) -> bool:
        return self.computed_at is not None


def _factors(items: Any) -> list[Factor]:
    if not isinstance(items, list):
        return []
    return [Factor(str(item.get("text", item.get("factor", ""))), int(item.get("points", 0)))
            for item in items if isinstance(item, dict)]


def _likelihood(probability: float) -> str:
    """Word a probability as a percentage that never reads as a certainty it is not.

    Most leads' probabilities are a few percent or less: rounded, they read "0%" (never) or
    "100%" (certain), which a rep would take at its word.
    """
    percent = round(100 * probability)
    if percent < 1:
        return "under 1%"
    if percent > 99:
        return "over 99%"
    return f"{percent}%"


def score_explanation(*, contact: Contact) -> Explanation:
    """Return the contact's latest score with its explanation, worded for a person."""
    score = latest_score(contact_id=contact.pk)
    if score is None:
        # Lead pages read the contact through capture.selectors.contact_for, which annotates it.
        return Explanation(total=getattr(contact, "score", 0))
    data = score.explanation if isinstance(score.explanation, dict) else {}
    predictive = data.get("predictive")
    predicted = ""
    if isinstance(predictive, dict) and predictive.get("probability") is not None:
        predicted = (f"{_likelihood(float(predictive['probability']))} likely to reach SQL "
                     f"(model v{predictive.get('model_version')})")
    return Explanation(
        total=score.total, fit=score.fit, engagement=score.engagement, summary=str(data.get("summary", "")),
        up=_factors(data.get("up")), down=_factors(data.get("down")), predicted=predicted,
        computed_at=score.computed_at,
    )


def suggested_content(*, contact: Contact, limit: int = CONTENT_IN_PACKET) -> list[ContentAsset]:
    """Suggest content for the lead: its campaign's assets first, then assets for its buying stage.

    Stage MQL and SAL both want early-conversation material; an asset with no stage suits any.
    """
    stages = [LifecycleStage.MQL, LifecycleStage.SAL, ""]
    if contact.lifecycle_stage in (LifecycleStage.SQL, LifecycleStage.OPPORTUNITY):
        stages = [LifecycleStage.SQL, LifecycleStage.OPPORTUNITY, ""]
    match = Q(stage__in=stages)
    if contact.original_campaign_id:
        match |= Q(campaign_id=contact.original_campaign_id)
    assets = list(ContentAsset.objects.filter(match).order_by("title", "id")[:50])
    industry = (contact.account.industry if contact.account_id and contact.account else "") or ""

    def rank(asset: ContentAsset) -> tuple:
        # Same campaign beats same industry in the title beats merely the right stage.
        return (asset.campaign_id != contact.original_campaign_id or not contact.original_campaign_id,
                not (industry and industry.lower() in asset.title.lower()),
                asset.stage == "", asset.title.lower())

    return sorted(assets, key=rank)[:limit]


@dataclass(frozen=True)
class Packet:
    """Everything a rep is handed with a lead."""

    contact: Contact
    explanation: Explanation
    touchpoints: list
    content: list[ContentAsset]

    @property
    def campaign(self):
        return self.contact.original_campaign

    @property
    def account(self):
        return self.contact.account

    def as_text(self, *, url: str = "") -> str:
        """Word the packet for a notification body (in-app and email)."""
        c, e = self.contact, self.explanation
        lines = [f"{c} — {c.title or 'no title'}{f', {c.account}' if c.account_id else ''}",
                 f"Score {e.total}" + (f" (fit {e.fit}, engagement {e.engagement})" if e.fit is not None else ""),
                 ""]
        if e.summary:
            lines.append(e.summary)
        if e.up:
            lines.append("Why it is an MQL:")
            lines += [f"  + {f.text}" for f in e.up]
        if e.down:
            lines.append("Holding it back:")
            lines += [f"  − {f.text}" for f in e.down]
        if e.predicted:
            lines.append(e.predicted)
        if self.touchpoints:
            lines += ["", "Recent touchpoints:"]
            lines += [f"  {t.occurred_at:%d %b %H:%M} {t.get_kind_display()} ({t.get_channel_display()})"
                      f"{f' — {t.campaign}' if t.campaign_id else ''}" for t in self.touchpoints]
        if self.campaign:
            lines += ["", f"Campaign: {self.campaign}"]
        if self.account:
            a = self.account
            lines.append(f"Account: {a} ({', '.join(x for x in (a.get_industry_display(), a.size_band, a.get_region_display()) if x)})")
        if self.content:
            lines += ["", "Suggested content:"]
            lines += [f"  {asset.title}{f' <{asset.url}>' if asset.url else ''}" for asset in self.content]
        if url:
            lines += ["", f"Open the lead: {url}"]
        return "\n".join(lines)


def handoff_packet(*, contact: Contact) -> Packet:
    """Build the packet for a lead (the contact must come from a scoped read, or from routing)."""
    touchpoints = list(contact.touchpoints.select_related("campaign").order_by("-occurred_at", "-id")
                       [:TOUCHPOINTS_IN_PACKET])
    return Packet(contact=contact, explanation=score_explanation(contact=contact), touchpoints=touchpoints,
                  content=suggested_content(contact=contact))


def waits_of(*, contact: Contact, limit: int = 20) -> list[LeadWait]:
    """Return the lead's waits on the customer, newest first (the contact must come from a scoped read)."""
    return list(LeadWait.objects.filter(contact=contact).select_related("started_by", "ended_by")[:limit])
