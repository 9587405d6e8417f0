from datetime import UTC, datetime, timedelta

import pytest

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.sla import rollup, services
from accord.sla.compliance import COUNTERS, bucket_of
from accord.sla.models import HISTOGRAM_COLUMNS, ComplianceDaily, SlaClock
from accord.sla.tests.factories import UTC_SLA as SLA
from accord.sla.tests.factories import LeadAssignmentFactory, SlaVersionFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def stored() -> dict:
    return {(row.day, row.owner_id, row.kind, row.sla_version_id):
            [getattr(row, name) for name in (*COUNTERS, *HISTOGRAM_COLUMNS)]
            for row in ComplianceDaily.objects.all()}


def totals(kind: str) -> dict[str, int]:
    rows = ComplianceDaily.objects.filter(kind=kind)
    return {name: sum(getattr(row, name) for row in rows) for name in COUNTERS}


def lead(owner, at=MONDAY, tier="hot"):
    assignment = LeadAssignmentFactory(owner=owner, contact=ContactFactory(owner=owner), assigned_at=at)
    services.open_clocks(assignment=assignment, tier=tier)
    return assignment.contact_id


@pytest.fixture
def rep():
    SlaVersionFactory(source=SLA)
    return UserFactory(role=Role.SALES_REP, team=TeamFactory(name="Sales EU"))


def test_the_rollup_equals_a_recomputation_from_the_clocks_after_met_late_breached_and_cancelled_clocks(rep):
    # given leads whose clocks end every way a clock can
    on_time, late_after_alert, late_before_alert, lifted, breached_then_closed, reassigned = (
        lead(rep) for _ in range(6))
    services.record_touch(contact_id=on_time, at=MONDAY + timedelta(minutes=30))
    services.record_touch(contact_id=on_time, at=MONDAY + timedelta(hours=2))  # the second attempt
    services.record_decision(contact_id=on_time, at=MONDAY + timedelta(hours=3))
    services.record_touch(contact_id=late_before_alert, at=MONDAY + timedelta(hours=1, minutes=10))
    services.close_clocks(contact_id=lifted, at=MONDAY + timedelta(minutes=20), reason="rejected")
    services.check_clocks(now=MONDAY + timedelta(hours=1, minutes=30))
    services.record_touch(contact_id=late_after_alert, at=MONDAY + timedelta(hours=2))
    services.close_clocks(contact_id=breached_then_closed, at=MONDAY + timedelta(hours=4), reason="recycled")
    other = UserFactory(role=Role.SALES_REP, team=rep.team)
    services.open_clocks(assignment=LeadAssignmentFactory(
        owner=other, contact_id=reassigned, assigned_at=MONDAY + timedelta(hours=5)))

    # then the rollup kept as the clocks changed is exactly the one recomputed from them
    recomputed, _ = rollup.recompute()
    assert stored() == {key: vector for key, vector in recomputed.items()}
    assert totals(SlaClock.Kind.FIRST_TOUCH) == {
        "met_on_time": 1, "met_late": 2, "breached": 2, "cancelled": 1, "attempts": 0}
    # the two late leads' decision and attempts clocks still run: they count nowhere yet
    assert totals(SlaClock.Kind.DECISION) == {
        "met_on_time": 1, "met_late": 0, "breached": 0, "cancelled": 3, "attempts": 0}
    assert totals(SlaClock.Kind.ATTEMPTS) == {
        "met_on_time": 1, "met_late": 0, "breached": 0, "cancelled": 3, "attempts": 2}


def test_the_response_time_is_counted_in_working_time_in_its_bucket(rep):
    friday_late = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    contact_id = lead(rep, at=friday_late, tier="warm")

    # met on Monday at 10:00: 30 working minutes on Friday and 60 on Monday
    services.record_touch(contact_id=contact_id, at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC))

    row = ComplianceDaily.objects.get(kind=SlaClock.Kind.FIRST_TOUCH)
    assert (row.met_on_time, row.met_late) == (1, 0)
    assert row.day == datetime(2026, 11, 30).date()  # due Monday 11:30, four working hours in
    assert [name for name in HISTOGRAM_COLUMNS if getattr(row, name)] == [f"h{bucket_of(90 * 60):02d}"]


def test_a_rebuild_replaces_the_rollup_with_the_recomputation(rep):
    contact_id = lead(rep)
    services.record_touch(contact_id=contact_id, at=MONDAY + timedelta(minutes=10))
    kept = stored()
    ComplianceDaily.objects.update(met_on_time=99)
    seen = []

    rows = rollup.rebuild(progress=lambda done, total: seen.append((done, total)))

    assert rows == 1
    assert stored() == kept
    assert seen[-1] == (1, 1)


def test_a_touch_on_a_running_clock_changes_no_rollup_row(rep):
    contact_id = lead(rep)
    services.record_touch(contact_id=contact_id, at=MONDAY + timedelta(minutes=10))
    before = stored()

    # the attempts clock counts a touch but is still running: it counts nowhere yet
    SlaClock.objects.filter(kind=SlaClock.Kind.ATTEMPTS).update(attempts_required=5)
    services.record_touch(contact_id=contact_id, at=MONDAY + timedelta(minutes=20))

    assert stored() == before
