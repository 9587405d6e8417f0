"""The handoff pages: the queue (pinned queries, one-click htmx actions), the lead page, routing."""

import pytest
from django.urls import reverse
from django.utils.timezone import localtime

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.handoff import services
from accord.handoff.tests.factories import ALL_HOURS, ContentAssetFactory, hot_lead, sales_team
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import Activity, LeadFeedback, RoutingConfig
from accord.sla.models import SlaClock

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def team():
    team, manager, reps = sales_team("Sales NA", reps=1, capacity=100)
    lifecycle.publish_routing(source=ALL_HOURS + 'rules:\n  - {name: na, team: "Sales NA"}\n')
    return team, manager, reps[0]


def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_queue_lists_the_reps_mqls_in_a_pinned_number_of_queries(client, team, django_assert_num_queries):
    _, _, rep = team
    services.evaluate_leads(contact_ids=[hot_lead().pk for _ in range(3)])
    signed_in(client, rep)
    client.get(reverse("leads"))  # the session and the permissions warm up once
    services.evaluate_leads(contact_ids=[hot_lead().pk for _ in range(5)])

    # session, user, count, page of leads with account, owner, campaign and SLA deadline joined,
    # and the page's SLA clocks for the countdowns (sla.selectors.clocks_for: one for the page);
    # the rejection reasons load with a row's reject dialog, not with the page
    with django_assert_num_queries(5):
        response = client.get(reverse("leads"))

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="lead-row"') == 8


def test_a_page_of_mqls_weighs_a_couple_of_kilobytes_a_row(client, team):
    # Given twenty MQLs, each with its three running SLA clocks
    _, _, rep = team
    services.evaluate_leads(contact_ids=[hot_lead().pk for _ in range(20)])

    # When the rep opens the queue
    html = signed_in(client, rep).get(reverse("leads")).content.decode()

    # Then every row is there with its actions, but no row carries a dialog: a row with three
    # countdowns, an accept form and two dialog buttons is about 1.8 KB, the page's shell about
    # 6 KB (it weighed 7 KB a row when each carried its dialogs, reasons and help)
    assert html.count('data-testid="lead-row"') == 20
    assert html.count(">Reject…</a>") == 20
    assert "<dialog" not in html
    assert html.count('id="lead-dialog"') == 1
    assert len(html.encode()) < 8_000 + 20 * 2_500


def test_a_rows_reject_dialog_loads_for_its_lead_with_the_reasons(client, team, django_assert_num_queries):
    _, _, rep = team
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])
    signed_in(client, rep).get(reverse("leads"))

    # session, user, the lead (scoped to the rep), the active rejection reasons
    with django_assert_num_queries(4):
        response = client.get(reverse("lead-dialog", args=[lead.pk, "reject"]), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<dialog") == 1
    assert f'<h2 id="reject-title-{lead.pk}">Reject {lead}</h2>' in html
    assert 'value="no_budget"' in html
    assert f'hx-post="/leads/{lead.pk}/reject/" hx-target="#lead-{lead.pk}"' in html


def test_a_dialog_is_refused_for_a_lead_it_does_not_apply_to_or_the_rep_cannot_see(client, team):
    _, _, rep = team
    accepted, theirs = hot_lead(), hot_lead()
    services.evaluate_leads(contact_ids=[accepted.pk])
    services.accept_lead(contact=accepted, by=rep)
    someone_else = UserFactory(role=Role.SALES_REP)
    signed_in(client, someone_else)

    assert client.get(reverse("lead-dialog", args=[theirs.pk, "reject"])).status_code == 404
    signed_in(client, rep)
    assert client.get(reverse("lead-dialog", args=[accepted.pk, "reject"])).status_code == 403
    assert client.get(reverse("lead-dialog", args=[accepted.pk, "delete"])).status_code == 404
    assert client.get(reverse("lead-dialog", args=[accepted.pk, "activity"])).status_code == 200


def test_accepting_from_the_queue_with_htmx_answers_with_the_updated_row(client, team):
    _, _, rep = team
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])

    response = signed_in(client, rep).post(reverse("lead-accept", args=[lead.pk]), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="lead-{lead.pk}"')
    assert f"Accepted {lead}." in html
    assert "Sales accepted (SAL)" in html
    lead.refresh_from_db()
    assert lead.lifecycle_stage == S.SAL


def test_rejecting_without_a_reason_shows_the_error_in_the_row_and_changes_nothing(client, team):
    _, _, rep = team
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])

    response = signed_in(client, rep).post(reverse("lead-reject", args=[lead.pk]), {"reason": ""}, headers=HTMX)

    assert "Reason: This field is required." in response.content.decode()
    assert LeadFeedback.objects.count() == 0


def test_rejecting_without_javascript_redirects_back_with_a_message(client, team):
    _, _, rep = team
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])

    response = signed_in(client, rep).post(reverse("lead-reject", args=[lead.pk]),
                                           {"reason": "no_budget", "next": "/leads/?view=new"})

    assert (response.status_code, response["Location"]) == (302, "/leads/?view=new")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == S.NURTURE


def test_a_redirect_elsewhere_than_this_site_is_ignored(client, team):
    _, _, rep = team
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])

    response = signed_in(client, rep).post(reverse("lead-accept", args=[lead.pk]), {"next": "//evil.example/"})

    assert response["Location"] == f"/leads/{lead.pk}/"


def test_the_activity_form_logs_once_however_often_it_is_submitted(client, team):
    _, _, rep = team
    lead = ContactFactory(owner=rep, lifecycle_stage=S.SAL)
    signed_in(client, rep)
    form = {"kind": "call", "outcome": "connected", "subject": "Discovery", "client_key": "abc-1"}

    client.post(reverse("lead-activity", args=[lead.pk]), form, headers=HTMX)
    client.post(reverse("lead-activity", args=[lead.pk]), form, headers=HTMX)

    assert list(Activity.objects.values_list("subject", "user")) == [("Discovery", rep.pk)]


def test_converting_from_the_queue_sends_the_browser_to_the_new_deal(client, team):
    from accord.deals.tests.factories import PipelineStageFactory

    PipelineStageFactory()
    _, _, rep = team
    lead = ContactFactory(owner=rep, lifecycle_stage=S.SAL)

    response = signed_in(client, rep).post(reverse("lead-convert", args=[lead.pk]), headers=HTMX)

    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/deals/")


def test_a_rep_cannot_act_on_another_reps_lead(client, team):
    lead = ContactFactory(owner=UserFactory(), lifecycle_stage=S.MQL)

    response = signed_in(client, team[2]).post(reverse("lead-accept", args=[lead.pk]))

    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.lifecycle_stage == S.MQL


def test_the_lead_page_explains_the_score_and_shows_the_packet(client, team):
    _, _, rep = team
    ContentAssetFactory(title="ROI calculator", stage=S.MQL)
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])

    html = signed_in(client, rep).get(reverse("lead", args=[lead.pk])).content.decode()

    for text in ("What raises it", "Requested a demo today (+25)", "VP at a 51–200 software company",
                 "Handoff packet", "ROI calculator", "Stages entered", "rule rule:na", "Accept lead"):
        assert text in html


def test_the_lead_page_names_the_required_fields_the_lead_lacked_when_it_was_handed_over(client, team):
    _, _, rep = team
    lead = hot_lead()
    type(lead).objects.filter(pk=lead.pk).update(first_name="")
    services.evaluate_leads(contact_ids=[lead.pk])

    html = signed_in(client, rep).get(reverse("lead", args=[lead.pk])).content.decode()

    assert "lacking first name" in html
    assert "under SLA v1" in html


def test_the_contact_page_links_to_the_lead_page(client, team):
    lead = ContactFactory(owner=team[2])

    html = signed_in(client, team[2]).get(reverse("contact", args=[lead.pk])).content.decode()

    assert f'href="/leads/{lead.pk}/"' in html


def test_a_routing_document_with_a_mistake_is_shown_back_with_its_line(client, team):
    revops = UserFactory(role=Role.REVOPS_ADMIN)

    response = signed_in(client, revops).post(reverse("routing"), {"source": "mql_threshold: 60\nrules:\n  - {name: x, team: Nope}\n"})

    assert response.status_code == 422
    assert "line 3: rules.0.team: no team is named &#x27;Nope&#x27;" in response.content.decode()
    assert RoutingConfig.objects.count() == 1


def test_publishing_routing_from_the_page_makes_a_new_active_version(client, team):
    revops = UserFactory(role=Role.REVOPS_ADMIN)

    response = signed_in(client, revops).post(reverse("routing"), {"source": "mql_threshold: 75\n"})

    assert response.status_code == 302
    active = RoutingConfig.objects.get(is_active=True)
    assert (active.version, active.created_by, active.parsed["mql_threshold"]) == (2, revops, 75)


def test_a_rep_may_not_open_the_routing_page(client, team):
    assert signed_in(client, team[2]).get(reverse("routing")).status_code == 403


def test_the_queue_row_and_the_lead_page_show_the_real_deadline_and_a_countdown_per_running_clock(client, team):
    _, _, rep = team
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])
    services.accept_lead(contact=lead, by=rep)  # meets the decision clock: two countdowns remain
    due = SlaClock.objects.filter(contact=lead, kind__in=["first_touch", "attempts"]).order_by("due_at").first().due_at
    signed_in(client, rep)

    queue = client.get(reverse("leads"), {"view": "working"}).content.decode()
    page = client.get(reverse("lead", args=[lead.pk])).content.decode()

    for html in (queue, page):
        assert html.count("data-sla-countdown") == 2
        assert "sla/countdown.js" in html
        assert 'data-sla-state="met"' not in html
    assert f'<td data-testid="follow-up-due">{localtime(due):%-d %b %H:%M}<br>' in queue
    assert f'<dd data-testid="follow-up-due">{localtime(due):%-d %b %Y %H:%M}<br>' in page
