import pytest

from accord.accounts.tests.factories import UserFactory
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_an_unknown_page_answers_404_with_the_shell_and_a_way_home(client):
    client.force_login(UserFactory(role=Role.SALES_REP))

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"Not found" in response.content
    assert b'href="/"' in response.content
