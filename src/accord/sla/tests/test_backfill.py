from datetime import UTC, datetime, timedelta

import pytest

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.lifecycle.models import LeadFeedback
from accord.lifecycle.tests.factories import (
    ActivityFactory,
    LeadFeedbackFactory,
    StageTransitionFactory,
)
from accord.sla import handover_rollup, rollup
from accord.sla.backfill import backfill_history
from accord.sla.models import MISSING_COLUMNS, Handover, SlaClock
from accord.sla.tests.factories import UTC_SLA as SLA
from accord.sla.tests.factories import LeadAssignmentFactory, SlaVersionFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def clocks_of(contact) -> dict[str, SlaClock]:
    return {clock.kind: clock for clock in SlaClock.objects.filter(contact=contact)}


def test_history_gets_settled_clocks_handovers_and_a_rollup_that_agrees_with_them():
    SlaVersionFactory(source=SLA, effective_from=datetime(2025, 1, 1, tzinfo=UTC))
    rep = UserFactory(role=Role.SALES_REP, team=TeamFactory(name="Sales EU"))
    worked = ContactFactory(owner=rep)
    LeadAssignmentFactory(contact=worked, owner=rep, assigned_at=MONDAY)
    StageTransitionFactory(contact=worked, from_stage="lead", to_stage="mql", occurred_at=MONDAY)
    ActivityFactory(contact=worked, user=rep, kind="call", occurred_at=MONDAY + timedelta(hours=2))
    ActivityFactory(contact=worked, user=rep, kind="note", occurred_at=MONDAY + timedelta(hours=3))
    ActivityFactory(contact=worked, user=rep, kind="email", occurred_at=MONDAY + timedelta(days=1))
    LeadFeedbackFactory(contact=worked, decision=LeadFeedback.Decision.ACCEPT, created_at=MONDAY + timedelta(hours=5))
    ignored = ContactFactory(owner=rep)
    LeadAssignmentFactory(contact=ignored, owner=rep, assigned_at=MONDAY)
    other = UserFactory(role=Role.SALES_REP, team=rep.team)
    LeadAssignmentFactory(contact=ignored, owner=other, assigned_at=MONDAY + timedelta(days=3))

    result = backfill_history(now=NOW)
    again = backfill_history(now=NOW)

    assert (result["assignments"], result["clocks"], result["handovers"]) == (3, 9, 1)
    assert (again["assignments"], again["clocks"], again["handovers"]) == (0, 0, 0)
    clocks = clocks_of(worked)
    assert clocks["first_touch"].met_at == MONDAY + timedelta(hours=2) and clocks["first_touch"].breached_at is None
    assert clocks["decision"].met_at == MONDAY + timedelta(hours=5)
    assert (clocks["attempts"].met_at, clocks["attempts"].attempts_done) == (MONDAY + timedelta(days=1), 2)
    first, second = (SlaClock.objects.filter(contact=ignored, kind="first_touch").order_by("started_at"))
    # never touched: breached at its due time, then closed when the lead went to someone else
    assert (first.breached_at, first.cancelled_at, first.cancel_reason) == (
        MONDAY + timedelta(hours=4), MONDAY + timedelta(days=3), "reassigned")
    assert second.is_open and second.breached_at == second.due_at and second.warned_at == second.warn_at
    assert Handover.objects.get().contact == worked
    assert rollup.differences() == []
    # The handover (of a lead with no account) and the verdict loaded with the history, both on Monday.
    assert Handover.objects.get().missing_fields == ["account"]
    missing_account = [int(column == "missing_account") for column in MISSING_COLUMNS]
    assert handover_rollup.stored() == {MONDAY.date(): [1, 0, 1, 0, *missing_account]}
