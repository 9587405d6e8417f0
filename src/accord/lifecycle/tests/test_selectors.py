"""Reads on the lifecycle: entry dates, loads, and the queue's scope and order."""

from datetime import UTC, datetime

import pytest

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.lifecycle import selectors
from accord.lifecycle.tests.factories import StageTransitionFactory

pytestmark = pytest.mark.django_db


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 9, tzinfo=UTC)


def test_stage_entry_dates_give_the_first_entry_into_each_stage():
    contact = ContactFactory()
    StageTransitionFactory(contact=contact, from_stage="lead", to_stage="mql", occurred_at=at(2))
    StageTransitionFactory(contact=contact, from_stage="mql", to_stage="nurture", occurred_at=at(3))
    StageTransitionFactory(contact=contact, from_stage="nurture", to_stage="mql", occurred_at=at(9))
    other = ContactFactory()

    entries = selectors.stage_entry_dates(contact_ids=[contact.pk, other.pk])

    assert entries == {contact.pk: {"mql": at(2), "nurture": at(3)}, other.pk: {}}


def test_open_loads_count_only_mql_sal_and_sql_leads():
    rep, idle = UserFactory(), UserFactory()
    for stage in (S.MQL, S.SAL, S.SQL, S.NURTURE, S.CUSTOMER):
        ContactFactory(owner=rep, lifecycle_stage=stage)

    assert selectors.open_loads(user_ids=[rep.pk, idle.pk]) == {rep.pk: 3, idle.pk: 0}


def test_the_queue_shows_a_rep_only_their_own_open_leads_by_score_then_recency():
    rep = UserFactory(role=Role.SALES_REP)
    low = ContactFactory(owner=rep, lifecycle_stage=S.MQL, score=60, stage_changed_at=at(5))
    high = ContactFactory(owner=rep, lifecycle_stage=S.MQL, score=90, stage_changed_at=at(1))
    newer = ContactFactory(owner=rep, lifecycle_stage=S.MQL, score=60, stage_changed_at=at(8))
    ContactFactory(owner=rep, lifecycle_stage=S.NURTURE, score=99)
    ContactFactory(owner=UserFactory(), lifecycle_stage=S.MQL, score=99)
    ContactFactory(lifecycle_stage=S.MQL, score=99)

    assert list(selectors.lead_queue(user=rep, view="new")) == [high, newer, low]


def test_the_queue_shows_a_manager_the_team_and_the_unassigned():
    team = TeamFactory()
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    mine = ContactFactory(owner=UserFactory(team=team), lifecycle_stage=S.SAL)
    waiting = ContactFactory(lifecycle_stage=S.MQL)
    ContactFactory(owner=UserFactory(), lifecycle_stage=S.MQL)

    assert set(selectors.lead_queue(user=manager, view="all")) == {mine, waiting}
    assert list(selectors.lead_queue(user=manager, view="working")) == [mine]
