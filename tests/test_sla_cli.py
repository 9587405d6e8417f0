"""`accord sla apply` and `accord sla show`, called as the command line calls them."""

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.cli import main
from accord.core.permissions import Role
from accord.sla.models import SlaVersion
from accord.sla.services import DEFAULT_SLA

pytestmark = pytest.mark.django_db


def test_apply_publishes_a_valid_document_as_the_next_version_by_the_named_person(tmp_path, capsys):
    admin = UserFactory(role=Role.REVOPS_ADMIN, username="alice")
    document = tmp_path / "sla.yaml"
    document.write_text(DEFAULT_SLA.read_text().replace("decision_hours: 16", "decision_hours: 8"))

    code = main(["sla", "apply", str(document), "--note", "faster decisions", "--by", "alice"])

    assert code == 0
    version = SlaVersion.objects.get()
    assert (version.version, version.created_by, version.note) == (1, admin, "faster decisions")
    assert version.document["sales"]["decision_hours"] == 8
    assert capsys.readouterr().out.startswith("SLA v1 is in force from ")


def test_apply_refuses_an_invalid_document_with_its_lines_and_a_nonzero_exit(tmp_path, capsys):
    document = tmp_path / "sla.yaml"
    document.write_text("warn_at: 3\nsales:\n  decision_hours: soon\n")

    code = main(["sla", "apply", str(document)])

    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"accord sla apply: {document} was not applied:",
        "  line 1: warn_at: Input should be less than 1",
        "  line 3: sales.decision_hours: Input should be a valid number, unable to parse string as a number",
    ]
    assert SlaVersion.objects.count() == 0


def test_apply_refuses_a_person_whose_role_may_not_edit_the_sla(tmp_path, capsys):
    UserFactory(role=Role.SALES_REP, username="bob")
    document = tmp_path / "sla.yaml"
    document.write_text(DEFAULT_SLA.read_text())

    code = main(["sla", "apply", str(document), "--by", "bob"])

    assert code == 2
    assert "may not edit sla" in capsys.readouterr().err
    assert SlaVersion.objects.count() == 0


def test_show_lists_every_version_with_who_and_why(capsys):
    main(["sla", "show"])  # publishes the shipped default the first time
    capsys.readouterr()

    code = main(["sla", "show", "--list"])

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("v1 ")
    assert "Shipped default" in out


def test_rollup_checks_the_compliance_rollup_and_rebuilds_it_from_the_clocks(capsys):
    from datetime import timedelta

    from django.utils import timezone

    from accord.sla.models import ComplianceDaily, SlaClock
    from accord.sla.tests.factories import SlaClockFactory

    started = timezone.now() - timedelta(days=2)
    SlaClockFactory(started_at=started, met_at=started + timedelta(seconds=30))
    SlaClockFactory(started_at=started, breached_at=started + timedelta(minutes=2))
    SlaClockFactory(started_at=started)  # still running: counts nowhere

    assert main(["sla", "rollup"]) == 1  # clocks written behind the services' back
    assert "differs from the clocks on 2 rows" in capsys.readouterr().out

    assert main(["sla", "rollup", "--rebuild"]) == 0
    assert capsys.readouterr().out == ("The compliance rollup was rebuilt from the clocks: 2 rows.\n"
                                       "The handover rollup was rebuilt from the handovers and verdicts: 0 days.\n")
    assert sorted((row.met_on_time, row.breached) for row in ComplianceDaily.objects.all()) == [(0, 1), (1, 0)]
    assert SlaClock.objects.count() == 3

    assert main(["sla", "rollup"]) == 0
    assert capsys.readouterr().out == ("The compliance rollup agrees with the clocks.\n"
                                       "The handover rollup agrees with the handovers and verdicts.\n")


def test_rollup_checks_the_handover_rollup_and_rebuilds_it_from_handovers_and_verdicts(capsys):
    from datetime import UTC, date, datetime

    from accord.capture.tests.factories import ContactFactory
    from accord.lifecycle.tests.factories import LeadFeedbackFactory
    from accord.sla.models import HandoverDaily
    from accord.sla.tests.factories import HandoverFactory

    lead = ContactFactory()
    HandoverFactory(contact=lead, at=datetime(2026, 11, 3, 12, tzinfo=UTC), missing_fields=["phone"], complete=False)
    LeadFeedbackFactory(contact=lead, decision="accept", created_at=datetime(2026, 11, 4, 9, tzinfo=UTC))

    assert main(["sla", "rollup"]) == 1  # rows written behind the services' back
    assert ("The handover rollup differs from the handovers and verdicts on 2 days (2026-11-03 to 2026-11-04;"
            in capsys.readouterr().out)

    assert main(["sla", "rollup", "--rebuild"]) == 0
    assert capsys.readouterr().out.endswith("The handover rollup was rebuilt from the handovers and verdicts: 2 days.\n")
    assert list(HandoverDaily.objects.values_list("day", "handed_over", "complete", "missing_phone", "accepted")) == [
        (date(2026, 11, 3), 1, 0, 1, 0), (date(2026, 11, 4), 0, 0, 0, 1)]

    assert main(["sla", "rollup"]) == 0
    assert capsys.readouterr().out.endswith("The handover rollup agrees with the handovers and verdicts.\n")
