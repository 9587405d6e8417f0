import json

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.cli import main
from accord.core.permissions import Role
from accord.notifications import services
from accord.notifications.models import Digest, Notification

pytestmark = pytest.mark.django_db


def test_accord_notifications_digest_sends_each_waiting_person_one_digest_and_says_how_many(capsys):
    rep = UserFactory(role=Role.SALES_REP)
    services.notify(recipient=rep, kind=Notification.Kind.DEAL_WON, title="Deal won", dedupe_key="d:1")

    assert main(["notifications", "digest", "--json"]) == 0
    assert main(["notifications", "digest", "--json"]) == 0

    first, second = capsys.readouterr().out.splitlines()
    assert (json.loads(first), json.loads(second)) == ({"digests": 1}, {"digests": 0})
    assert Digest.objects.get().recipient == rep


def test_accord_notifications_sweep_reports_what_it_queued(capsys):
    assert main(["notifications", "sweep"]) == 0

    assert capsys.readouterr().out == "Queued 0 due deliveries; took back 0 left half-sent by a stopped worker.\n"
