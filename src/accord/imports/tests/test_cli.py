import argparse
import json

import pytest

from accord.capture.models import Contact
from accord.imports.cli import add_parser
from accord.imports.tests.conftest import FILES

pytestmark = pytest.mark.django_db


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="accord")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_import_json_prints_exactly_the_counts_and_errors(csv_file, capsys):
    path = csv_file("Email,First Name\nann@example.org,Ann\nnope,Bob\n")

    code = run("import", "contacts", str(path), "--json")

    assert code == 1
    assert json.loads(capsys.readouterr().out) == {
        "created": 1, "updated": 0, "unchanged": 0, "rejected": 1,
        "errors": [{"row": 3, "column": "Email", "message": "'nope' is not a valid email address"}],
    }


def test_import_prints_a_human_summary_with_ignored_columns_and_the_error_report(csv_file, capsys):
    path = csv_file("Email,Shoe Size\nann@example.org,42\nnope,41\n")

    run("import", "contacts", str(path))

    out = capsys.readouterr().out
    assert "1 created, 0 updated, 0 unchanged, 1 rejected." in out
    assert "Ignored columns: Shoe Size" in out
    assert "row 3, Email: 'nope' is not a valid email address" in out
    assert "Every rejected row, with its reason:" in out


def test_import_dry_run_says_what_would_change_and_writes_nothing(capsys, mara, sam):
    code = run("import", "contacts", str(FILES / "hubspot_contacts.csv"), "--dry-run", "--preset", "hubspot")

    out = capsys.readouterr().out
    assert code == 0
    assert "5 would be created, 0 would be updated" in out
    assert "Dry run: nothing was written" in out
    assert Contact.objects.count() == 0


def test_import_maps_columns_given_with_map(csv_file, capsys):
    path = csv_file("Correo;Nombre\nana@example.org;Ana\n")

    code = run("import", "contacts", str(path), "--map", "Correo=email", "--map", "Nombre=first_name", "--json")

    assert (code, json.loads(capsys.readouterr().out)["created"]) == (0, 1)
    assert Contact.objects.get().first_name == "Ana"


def test_a_refused_import_exits_2_naming_the_missing_column(csv_file, capsys):
    path = csv_file("First Name\nAnn\n")

    code = run("import", "contacts", str(path))

    assert code == 2
    assert "accord import: The file has no column for email" in capsys.readouterr().err


def test_import_answers_help():
    with pytest.raises(SystemExit) as exit_info:
        run("import", "--help")
    assert exit_info.value.code == 0
