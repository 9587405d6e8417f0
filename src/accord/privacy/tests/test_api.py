"""The privacy endpoints: streamed export and erasure for the roles allowed, the one error shape for the rest."""

import json

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.capture.models import Contact
from accord.core.permissions import Role
from accord.privacy.models import Erasure
from accord.privacy.tests.conftest import EMAIL

pytestmark = pytest.mark.django_db


def body_of(response) -> dict:
    return json.loads(b"".join(response.streaming_content))


def test_an_admin_downloads_a_contacts_personal_data_as_a_json_file(person):
    response = api_as(person.admin).get(f"/contacts/{person.contact.pk}/personal-data")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="contact-{person.contact.pk}-personal-data.json"'
    assert response["Cache-Control"] == "no-store"
    document = body_of(response)
    assert (document["contact"]["email"], len(document["touchpoints"])) == (EMAIL, 2)


def test_an_admin_erases_a_contact_and_a_retry_is_told_it_is_already_erased(person):
    client = api_as(person.admin)

    first = client.post(f"/contacts/{person.contact.pk}/erase", {"confirm": EMAIL, "reason": "DSR-7"})
    again = client.post(f"/contacts/{person.contact.pk}/erase", {"confirm": "erase"})
    export = body_of(client.get(f"/contacts/{person.contact.pk}/personal-data"))

    assert first.status_code == 200
    assert {key: first.json()[key] for key in ("contact_id", "erased_by", "reason")} == {
        "contact_id": person.contact.pk, "erased_by": "ops", "reason": "DSR-7"}
    assert first.json()["counts"]["touchpoints"] == 2
    assert again.status_code == 409
    assert errors_of(again) == [(None, "conflict")]
    assert "already erased" in again.json()["errors"][0]["message"]
    assert (export["erased"], export["contact"]["email"]) == (True, None)


def test_a_wrong_confirmation_is_refused_naming_the_field_and_erases_nothing(person):
    response = api_as(person.admin).post(f"/contacts/{person.contact.pk}/erase", {"confirm": "yes please"})
    missing = api_as(person.admin).post(f"/contacts/{person.contact.pk}/erase", {"reason": "DSR-7"})

    assert (response.status_code, errors_of(response)) == (422, [("confirm", "invalid")])
    assert (missing.status_code, errors_of(missing)) == (422, [("confirm", "required")])
    assert Contact.objects.get(pk=person.contact.pk).email == EMAIL
    assert Erasure.objects.count() == 0


def test_a_rep_may_neither_export_nor_erase_even_their_own_lead(person):
    client = api_as(person.rep)

    export = client.get(f"/contacts/{person.contact.pk}/personal-data")
    erase = client.post(f"/contacts/{person.contact.pk}/erase", {"confirm": "erase"})

    assert (export.status_code, errors_of(export)) == (403, [(None, "forbidden")])
    assert (erase.status_code, errors_of(erase)) == (403, [(None, "forbidden")])
    assert Contact.objects.get(pk=person.contact.pk).email == EMAIL


def test_marketing_exports_but_may_not_erase(person):
    client = api_as(UserFactory(role=Role.MARKETING))

    export = client.get(f"/contacts/{person.contact.pk}/personal-data")
    erase = client.post(f"/contacts/{person.contact.pk}/erase", {"confirm": "erase"})

    assert (export.status_code, erase.status_code) == (200, 403)


def test_a_contact_that_does_not_exist_is_not_found_in_the_error_shape(person):
    client = api_as(person.admin)

    export = client.get("/contacts/999999/personal-data")
    erase = client.post("/contacts/999999/erase", {"confirm": "erase"})

    assert (export.status_code, errors_of(export)) == (404, [(None, "not_found")])
    assert (erase.status_code, errors_of(erase)) == (404, [(None, "not_found")])
