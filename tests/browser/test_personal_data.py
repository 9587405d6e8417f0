"""A revenue-ops admin answers a data-subject request from the contact page: exports, then erases."""

import json

import pytest

from accord.accounts.tests.factories import PASSWORD, UserFactory
from accord.capture.models import Contact
from accord.capture.tests.factories import AccountFactory, ContactFactory, TouchpointFactory
from accord.core.permissions import Role
from accord.privacy.models import Erasure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EMAIL = "dana.reyes@smallco.example"


def test_an_admin_exports_a_contacts_data_then_erases_it_and_the_page_shows_it_erased(live_server, page, results_dir):
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    contact = ContactFactory(email=EMAIL, first_name="Dana", last_name="Reyes", phone="+1 555 0100",
                             account=AccountFactory(name="Smallco"))
    TouchpointFactory.create_batch(3, contact=contact, url=f"https://www.example.com/?email={EMAIL}")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(admin.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export personal data").click()
    document = json.loads(download_info.value.path().read_text(encoding="utf-8"))

    page.get_by_role("link", name="Erase personal data…").click()
    page.get_by_label("Type the contact's email, or the word “erase”").fill("not the email")
    page.get_by_role("button", name="Erase personal data").click()
    page.get_by_text(f"Type the contact's email {EMAIL}").wait_for()
    page.get_by_label("Type the contact's email, or the word “erase”").fill(EMAIL)
    page.get_by_label("Request or ticket reference (optional)").fill("DSR-2026-031")
    page.get_by_role("button", name="Erase personal data").click()
    page.wait_for_url(f"{live_server.url}/contacts/{contact.pk}/")
    page.screenshot(path=str(results_dir / "contact-erased.png"), full_page=True)

    assert download_info.value.suggested_filename == f"contact-{contact.pk}-personal-data.json"
    assert (document["contact"]["email"], len(document["touchpoints"])) == (EMAIL, 3)
    assert page.get_by_test_id("erased").inner_text().startswith("Erased on ")
    assert f"by {admin}" in page.get_by_test_id("erased").inner_text()
    body = page.locator("main").inner_text()
    assert EMAIL not in body and "Dana" not in body and "555 0100" not in body
    assert page.get_by_role("link", name="Erase personal data…").count() == 0
    assert Contact.objects.get(pk=contact.pk).email is None
    assert Erasure.objects.get(contact=contact).reason == "DSR-2026-031"
    # The one refused confirmation answers 422, as every refused form does; nothing else failed.
    # (The reason phrase after the code is Python's, and its wording differs between versions.)
    [error] = page.console_errors
    assert error.startswith("Failed to load resource: the server responded with a status of 422 ")
