"""`accord routing` and `accord handoff sweep`, run in-process through the parsers the `accord` command adds."""

import argparse
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.core.vocabulary import LifecycleStage as S
from accord.handoff import services, tasks
from accord.handoff.cli import add_parser
from accord.handoff.tests.factories import ALL_HOURS, hot_lead, sales_team
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import RoutingConfig

pytestmark = pytest.mark.django_db


def main(argv: list[str]) -> int:
    # accord.cli sits above every app, so the test builds the same subcommands itself.
    parser = argparse.ArgumentParser(prog="accord")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_routing_apply_publishes_a_valid_document(tmp_path, capsys):
    sales_team("Sales NA")
    path = tmp_path / "routing.yaml"
    path.write_text(ALL_HOURS + "mql_threshold: 70\nrules:\n  - {name: na, team: Sales NA}\n")

    assert main(["routing", "apply", str(path)]) == 0

    assert capsys.readouterr().out == "Routing v1 is active (MQL threshold 70, 1 rules).\n"
    assert RoutingConfig.objects.get().parsed["mql_threshold"] == 70


def test_routing_apply_refuses_a_mistake_with_its_line_and_stores_nothing(tmp_path, capsys):
    path = tmp_path / "routing.yaml"
    path.write_text("mql_threshold: 70\nrules:\n  - {name: na, team: Nobody}\n")

    assert main(["routing", "apply", str(path)]) == 2

    assert capsys.readouterr().err == (f"accord routing apply: {path} was not applied:\n"
                                       "  line 3: rules.0.team: no team is named 'Nobody'\n")
    assert RoutingConfig.objects.count() == 0


def test_routing_show_prints_the_active_document_and_lists_versions(capsys):
    assert main(["routing", "show"]) == 0
    assert "mql_threshold: 60" in capsys.readouterr().out

    assert main(["routing", "show", "--list"]) == 0
    assert capsys.readouterr().out.startswith("v1  ")


def test_handoff_sweep_evaluates_new_leads_and_says_what_it_did(capsys):
    sales_team("Sales NA")
    lifecycle.publish_routing(source=ALL_HOURS + "rules:\n  - {name: na, team: Sales NA}\n")
    services.sweep_new_leads()
    lead = hot_lead()
    capsys.readouterr()

    # Rows younger than the lag are read (and read again next time); this one is evaluated now.
    assert main(["handoff", "sweep"]) == 0

    lead.refresh_from_db()
    assert lead.lifecycle_stage == S.MQL
    assert "1 new MQLs, 1 assigned, 0 waiting for a manager." in capsys.readouterr().out


def test_the_sweep_task_runs_the_sweep_and_with_the_shipped_routing_the_mql_waits_for_a_manager():
    services.sweep_new_leads()
    lead = hot_lead()

    result = tasks.sweep_new_leads.call()

    lead.refresh_from_db()
    assert (lead.lifecycle_stage, lead.owner) == (S.MQL, None)
    assert (result["contacts_read"], result["evaluated"], result["mql"], result["unassigned"]) == (1, 1, 1, 1)
    assert timezone.now() - timedelta(minutes=1) < services.SweepCursor.objects.get().swept_at
