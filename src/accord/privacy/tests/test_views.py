"""The contact page's privacy actions: who sees the buttons, the confirmation step, the erased page."""

import pytest
from django.test import Client
from django.urls import reverse

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Contact
from accord.core.permissions import Role
from accord.privacy.models import Erasure
from accord.privacy.tests.conftest import EMAIL

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_sees_both_buttons_marketing_only_export_and_a_rep_neither(person):
    page = reverse("contact", args=[person.contact.pk])

    admin = signed_in(person.admin).get(page).content.decode()
    marketing = signed_in(UserFactory(role=Role.MARKETING)).get(page).content.decode()
    rep = signed_in(person.rep).get(page).content.decode()

    assert ("Export personal data" in admin, "Erase personal data" in admin) == (True, True)
    assert ("Export personal data" in marketing, "Erase personal data" in marketing) == (True, False)
    assert ("Export personal data" in rep, "Erase personal data" in rep) == (False, False)


def test_a_rep_cannot_reach_the_export_or_the_erase_page(person):
    client = signed_in(person.rep)

    export = client.get(reverse("contact-personal-data", args=[person.contact.pk]))
    form = client.get(reverse("contact-erase", args=[person.contact.pk]))
    post = client.post(reverse("contact-erase", args=[person.contact.pk]), {"confirm": "erase"})

    assert (export.status_code, form.status_code, post.status_code) == (403, 403, 403)
    assert Contact.objects.get(pk=person.contact.pk).email == EMAIL


def test_a_mismatched_confirmation_is_shown_under_its_field_and_nothing_is_erased(person):
    response = signed_in(person.admin).post(reverse("contact-erase", args=[person.contact.pk]),
                                            {"confirm": "dana@wrong.example", "reason": "DSR-9"})

    assert response.status_code == 422
    assert response.context["form"].errors == {"confirm": [
        f"Type the contact's email {EMAIL} or the word “erase” to confirm the erasure."]}
    assert Erasure.objects.count() == 0


def test_after_erasure_the_contact_page_says_who_erased_it_and_shows_no_personal_field(person):
    client = signed_in(person.admin)

    response = client.post(reverse("contact-erase", args=[person.contact.pk]), {"confirm": EMAIL, "reason": "DSR-9"})
    page = client.get(response["Location"]).content.decode()
    again = client.post(reverse("contact-erase", args=[person.contact.pk]), {"confirm": "erase"})

    assert (response.status_code, response["Location"]) == (302, reverse("contact", args=[person.contact.pk]))
    assert "Erased on" in page and f"by {person.admin}" in page
    assert EMAIL not in page and "Reyes" not in page and "Head of Finance" not in page
    assert "Erase personal data" not in page
    assert again.status_code == 409
    assert "already erased" in again.content.decode()
