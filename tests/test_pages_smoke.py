"""Every page each demo login can reach answers without a server error, on the demo company's data."""

from datetime import date

import pytest
from django.urls import reverse

from accord.capture.models import Account, Campaign, CaptureSource, Contact
from accord.deals.models import Deal
from accord.demo.services import DEMO_PASSWORD, load_demo
from accord.web.navigation import items_for

pytestmark = pytest.mark.django_db

LOGINS = ["marketing", "rep", "manager", "revops", "exec"]


@pytest.fixture
def demo_company():
    load_demo(seed=3, scale=0.02, as_of=date(2026, 11, 20))


def pages_for(client) -> list[str]:
    user = client.user
    urls = [reverse(item.url_name) for item in items_for(user)]
    contact, deal = Contact.objects.order_by("id").first(), Deal.objects.order_by("id").first()
    urls += [
        reverse("contact", args=[contact.pk]),
        reverse("lead", args=[contact.pk]),
        f"{reverse('leads')}?view=all&page=2",
        f"{reverse('leads')}?view=nonsense",
        f"/api/v1/leads/{contact.pk}",
        "/api/v1/leads?view=working&limit=5",
        reverse("deal", args=[deal.pk]),
        reverse("campaign", args=[Campaign.objects.order_by("id").first().pk]),
        f"{reverse('contacts')}?stage=mql&sort=-score",
        f"{reverse('accounts')}?segment=b2b&page=2",
        f"{reverse('campaigns')}?channel=paid_search",
        f"{reverse('deals')}?status=won",
        f"{reverse('contacts')}?stage=nonsense&page=999",
        "/api/v1/contacts?limit=5",
        "/api/v1/deals?status=open&limit=5",
        "/api/v1/me",
    ]
    source = CaptureSource.objects.order_by("id").first()
    if source:
        urls.append(reverse("capture-source", args=[source.pk]))
    return urls


@pytest.mark.parametrize("username", LOGINS)
def test_no_page_a_demo_login_can_reach_answers_with_a_server_error(client, demo_company, username):
    assert client.login(username=username, password=DEMO_PASSWORD)
    client.user = Contact._meta.apps.get_model("accounts", "User").objects.get(username=username)
    assert Account.objects.exists() and Campaign.objects.exists()

    answers = {url: client.get(url).status_code for url in pages_for(client)}

    assert {url: code for url, code in answers.items() if code >= 500} == {}
    assert answers[reverse("home")] == 200
    # Everything in the role's own navigation opens for it.
    assert all(answers[reverse(item.url_name)] == 200 for item in items_for(client.user))
