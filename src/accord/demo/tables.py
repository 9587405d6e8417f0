"""The tables the demo writes and the ones a reset empties."""

from __future__ import annotations

from django.db import models

from accord.accounts.models import Team, User
from accord.capture.models import Account, Campaign, Contact, CostEntry, Touchpoint
from accord.collaboration.models import Comment, ContentAsset
from accord.deals.models import Deal, DealContact, DealStageChange, Pipeline, PipelineStage
from accord.handoff.models import SweepCursor
from accord.lifecycle.models import (
    Activity,
    FeedbackDaily,
    LeadAssignment,
    LeadFeedback,
    StageTransition,
)
from accord.notifications.models import Delivery, DeliveryAttempt, Digest, Event, Notification
from accord.planning.models import Goal
from accord.scoring.models import ContactScore, EngagementRollup, LeadScore, ScoreRun
from accord.sla.models import (
    ComplianceDaily,
    ComplianceMonthly,
    ComplianceWeekly,
    HandoverDaily,
    SlaClock,
)

InfluencingCampaign = Deal.influencing_campaigns.through

# Every table the demo fills, parents before children.
WRITTEN_MODELS: tuple[type[models.Model], ...] = (
    Team, User, Campaign, CostEntry, Pipeline, PipelineStage, Account, Contact, Deal,
    DealStageChange, DealContact, InfluencingCampaign, StageTransition, LeadAssignment,
    LeadFeedback, Activity, Touchpoint, Goal, ContentAsset,
)
# The high-volume tables (and the cost rows, a fixed three thousand whatever the scale),
# inserted without building model instances (services._insert_raw).
EVENT_MODELS = frozenset({Contact, Touchpoint, StageTransition, Activity, CostEntry})
# The CRM tables a reset empties, children first. A demo database is a sandbox: records
# added by hand sit among generated ones and go with them; logins other than the demo's stay.
# Outgoing deliveries and SLA clocks point at notifications and assignments, so they go first;
# the sweep's cursor goes too, so the next sweep starts after the new history, not inside it.
# Scores and the engagement rollup name contacts by id, and the next load reuses the ids.
# The SLA rollups count clocks (sales' compliance, per owner) and handovers and verdicts
# (marketing's), which all go, whoever owned them; the next load rebuilds them.
CLEARED_MODELS: tuple[type[models.Model], ...] = (
    DeliveryAttempt, Delivery, Digest, Event, SlaClock, SweepCursor, ContactScore, LeadScore, ScoreRun,
    EngagementRollup, HandoverDaily, ComplianceDaily, ComplianceWeekly, ComplianceMonthly,
    Activity, DealStageChange, DealContact, InfluencingCampaign, Deal, PipelineStage, Pipeline,
    FeedbackDaily, LeadFeedback, LeadAssignment, StageTransition, Touchpoint, CostEntry, ContentAsset, Comment,
    Notification, Goal, Contact, Campaign, Account,
)
