"""The handoff records each MQL it hands to sales for the SLA's marketing side, once per sweep."""

import pytest

from accord.handoff import services
from accord.handoff.tests.factories import ALL_HOURS, hot_lead, sales_team
from accord.lifecycle import services as lifecycle
from accord.sla.models import Handover

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
