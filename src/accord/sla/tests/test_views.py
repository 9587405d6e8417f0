from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.sla import selectors, services
from accord.sla.models import SlaVersion
from accord.sla.tests.factories import LeadAssignmentFactory, SlaClockFactory, SlaVersionFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


def test_every_role_reads_the_sla_in_force_and_its_versions(client):
    SlaVersionFactory(note="kick-off")
    client.force_login(UserFactory(role=Role.SALES_REP))

    page = client.get(reverse("sla"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="sla-version">v1<' in html
    assert "within 1 working hour" in html
    assert "kick-off" in html
    assert "Publish a new version" not in html  # a rep reads, never edits


def test_a_revops_admin_publishes_a_new_version_from_the_page(client):
    first = SlaVersionFactory()
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    client.force_login(admin)
    source = first.source.replace("decision_hours: 16", "decision_hours: 8")

    response = client.post(reverse("sla"), {"source": source, "note": "faster decisions"})

    assert response.status_code == 302
    latest = SlaVersion.objects.get(version=2)
    assert (latest.created_by, latest.note, latest.document["sales"]["decision_hours"]) == (admin, "faster decisions", 8)


def test_an_invalid_document_is_shown_with_its_line_and_reason_and_nothing_is_published(client):
    SlaVersionFactory()
    client.force_login(UserFactory(role=Role.REVOPS_ADMIN))

    response = client.post(reverse("sla"), {"source": "warn_at: 0.75\non_breach: <shout>\n", "note": ""})

    assert response.status_code == 422
    html = response.content.decode()
    assert "line 2</a>: <code>on_breach</code>: Input should be &#x27;alert&#x27; or &#x27;alert_and_reassign&#x27;" in html
    assert "on_breach: &lt;shout&gt;" in html  # the text stays in the editor, escaped
    assert SlaVersion.objects.count() == 1


def test_a_sales_rep_cannot_publish_by_posting_to_the_page(client):
    SlaVersionFactory()
    client.force_login(UserFactory(role=Role.SALES_REP))

    response = client.post(reverse("sla"), {"source": "warn_at: 0.5\n", "note": ""})

    assert response.status_code == 403
    assert SlaVersion.objects.count() == 1


def test_a_version_page_shows_what_changed_from_the_one_before(client):
    first = SlaVersionFactory()
    SlaVersionFactory(source=first.source.replace("warn_at: 0.75", "warn_at: 0.8"))
    client.force_login(UserFactory(role=Role.EXECUTIVE))

    page = client.get(reverse("sla-version", args=[2]))

    html = page.content.decode()
    assert page.status_code == 200
    assert '<span class="diff-del">-warn_at: 0.75</span>' in html
    assert '<span class="diff-add">+warn_at: 0.8</span>' in html
    assert client.get(reverse("sla-version", args=[9])).status_code == 404


def test_the_countdown_include_carries_the_working_time_left_and_the_warn_threshold():
    SlaVersionFactory()
    rep = UserFactory(role=Role.SALES_REP)
    assignment = LeadAssignmentFactory(owner=rep, contact=ContactFactory(owner=rep),
                                       assigned_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    services.open_clocks(assignment=assignment, tier="warm")  # 4 working hours, due 13:00 UTC
    clock = selectors.clocks_for(contact_ids=[assignment.contact_id], visible_to=rep,
                                 now=datetime(2026, 11, 23, 11, 30, tzinfo=UTC))[assignment.contact_id][0]

    html = render_to_string("sla/_countdown.html", {"clock": clock})

    assert 'data-sla-state="running"' in html
    assert 'data-sla-remaining="5400"' in html
    assert 'data-sla-warn-below="3600"' in html
    assert f'data-sla-ticks-until="{int(datetime(2026, 11, 23, 17, 0, tzinfo=UTC).timestamp())}"' in html
    assert "1h 30m" in html


@pytest.mark.parametrize("leads", [1, 6])
def test_the_sla_page_costs_the_same_queries_whatever_the_number_of_versions_and_clocks(
    client, django_assert_num_queries, leads
):
    manager = UserFactory(role=Role.SALES_MANAGER, team=TeamFactory())
    for _ in range(leads):
        SlaVersionFactory(created_by=manager)
        rep = UserFactory(role=Role.SALES_REP, team=manager.team)
        SlaClockFactory(owner=rep, contact=ContactFactory(owner=rep))
    client.force_login(manager)

    with django_assert_num_queries(5):  # session, user, version in force, versions, running clocks
        page = client.get(reverse("sla"))

    assert page.status_code == 200
    assert page.content.decode().count("data-sla-countdown") == leads
