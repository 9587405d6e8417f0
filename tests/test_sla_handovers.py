"""The handoff records each MQL it hands to sales for the SLA's marketing side, once per sweep, and its rollup follows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.capture.services import merge_contacts
from accord.capture.tests.factories import ContactFactory
from accord.config.schedule import SCHEDULE
from accord.core.errors import Conflict
from accord.core.permissions import Role
from accord.handoff import services
from accord.handoff.tests.factories import ALL_HOURS, hot_lead, sales_team
from accord.lifecycle import services as lifecycle
from accord.privacy.services import erase_contact
from accord.sla import handover_rollup, periods, reports
from accord.sla import services as sla
from accord.sla import tasks as sla_tasks
from accord.sla.models import Handover, HandoverDaily, MergeCursor

pytestmark = pytest.mark.django_db


def test_evaluating_leads_records_one_handover_per_new_mql_with_what_it_lacked():
    _, _, reps = sales_team("Sales NA", reps=1)
    lifecycle.publish_routing(source=ALL_HOURS + 'rules:\n  - {name: na, when: {region: [na]}, team: "Sales NA"}\n')
    lead = hot_lead(phone="")

    services.evaluate_leads(contact_ids=[lead.pk])
    services.evaluate_leads(contact_ids=[lead.pk])  # already an MQL: not handed over again

    handover = Handover.objects.get()
    assert handover.contact_id == lead.pk
    assert handover.owner == reps[0]
    assert handover.team == reps[0].team
    assert handover.sla_version.version == 1
    assert handover.missing_fields == [] and handover.complete  # the shipped SLA does not require a phone


@pytest.fixture
def mql():
    sales_team("Sales NA", reps=1)
    lifecycle.publish_routing(source=ALL_HOURS + 'rules:\n  - {name: na, when: {region: [na]}, team: "Sales NA"}\n')
    lead = hot_lead(phone="")
    services.evaluate_leads(contact_ids=[lead.pk])
    lead.refresh_from_db()
    return lead


def rollup_totals() -> tuple[int, int, int]:
    return tuple(sum(HandoverDaily.objects.values_list(name, flat=True)) for name in ("handed_over", "accepted",
                                                                                       "rejected"))


def test_the_handoffs_handovers_and_verdicts_reach_marketings_rollup_in_their_own_transactions(mql):
    assert rollup_totals() == (1, 0, 0)

    services.accept_lead(contact=mql, by=mql.owner)
    services.accept_lead(contact=mql, by=mql.owner)  # a second click changes nothing
    services.reject_lead(contact=mql, by=mql.owner, reason="no_need")  # changed its mind: a second verdict

    assert rollup_totals() == (1, 1, 1)
    assert handover_rollup.differences() == []
    today = reports.marketing_commitments(period=periods.named("this_month", timezone.localdate()))
    assert (today.handed_over, today.accepted, today.rejected) == (1, 1, 1)


def test_a_verdict_the_handoff_refuses_leaves_the_rollup_unchanged(mql):
    services.reject_lead(contact=mql, by=mql.owner, reason="no_need")  # disqualified
    before = rollup_totals()

    with pytest.raises(Conflict):
        services.reject_lead(contact=mql, by=mql.owner, reason="competitor")

    assert rollup_totals() == before == (1, 0, 1)


def test_merging_a_duplicate_moves_its_handovers_and_verdicts_without_changing_the_figures(mql):
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    services.accept_lead(contact=mql, by=mql.owner)
    survivor = ContactFactory()
    before = rollup_totals()

    merge_contacts(survivor=survivor, duplicate=mql, by=admin)

    assert Handover.objects.get().contact == survivor
    assert rollup_totals() == before == (1, 1, 0)
    assert handover_rollup.differences() == []


def test_a_merge_that_drops_a_duplicates_simultaneous_handover_is_found_by_the_check_and_mended_by_a_rebuild():
    # Two records of one person promoted in the same sweep hold handovers at the same instant;
    # the merge keeps the survivor's and drops the duplicate's (capture cannot tell the SLA).
    sla.sla_in_force()
    survivor, duplicate = ContactFactory(), ContactFactory()
    moment = timezone.now()
    sla.record_handovers(contact_ids=[survivor.pk, duplicate.pk], at=moment)

    merge_contacts(survivor=survivor, duplicate=duplicate, by=UserFactory(role=Role.REVOPS_ADMIN))

    assert Handover.objects.count() == 1
    assert handover_rollup.differences() == [timezone.localdate(moment)]
    handover_rollup.rebuild()
    assert rollup_totals() == (1, 0, 0)


def test_the_hourly_reconcile_brings_the_rollup_back_in_step_after_a_merge_drops_a_same_sweep_handover():
    # Given two records of one person handed over in the same sweep, and a third lead that day
    sla.sla_in_force()
    survivor, duplicate, other = ContactFactory(), ContactFactory(), ContactFactory()
    moment = timezone.now()
    sla.record_handovers(contact_ids=[survivor.pk, duplicate.pk, other.pk], at=moment)
    merge = merge_contacts(survivor=survivor, duplicate=duplicate, by=UserFactory(role=Role.REVOPS_ADMIN))
    assert rollup_totals() == (3, 0, 0)

    # When the periodic task runs within the merge's lag, then after it, then again
    early = handover_rollup.reconcile_merges(now=merge.at + timedelta(seconds=30))
    assert rollup_totals() == (3, 0, 0)
    first = handover_rollup.reconcile_merges(now=merge.at + handover_rollup.MERGE_LAG)
    again = handover_rollup.reconcile_merges(now=merge.at + timedelta(hours=1))

    # Then the merge is reconciled once, after the lag (its transaction may still be open before),
    # and the rollup agrees with the handovers
    assert (early, first, again) == ({"merges": 0, "days": 0}, {"merges": 1, "days": 1}, {"merges": 0, "days": 0})
    assert rollup_totals() == (2, 0, 0)
    assert handover_rollup.differences() == []
    assert MergeCursor.objects.get().last_merge_id == merge.pk


def test_the_reconcile_task_is_scheduled_hourly():
    entry = next(p for p in SCHEDULE if p.name == "sla.reconcile_handover_rollup")

    assert (entry.task, entry.every) == (sla_tasks.reconcile_handover_rollup, timedelta(hours=1))


def test_erasing_a_handed_over_lead_keeps_marketings_figures(mql):
    services.accept_lead(contact=mql, by=mql.owner)
    before = rollup_totals()

    erase_contact(contact_id=mql.pk, by=UserFactory(role=Role.REVOPS_ADMIN), confirm="erase")

    assert rollup_totals() == before == (1, 1, 0)
    assert handover_rollup.differences() == []
