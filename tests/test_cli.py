import subprocess
import sys

import pytest

from accord.cli import build_parser

SUBCOMMANDS = ["demo", "serve", "worker", "createuser", "jobs", "migrate", "import", "score", "sla", "routing", "handoff"]


def test_the_accord_command_lists_every_subcommand_in_its_help():
    done = subprocess.run(
        [sys.executable, "-m", "accord.cli", "--help"], capture_output=True, text=True, check=True
    )
    for name in [*SUBCOMMANDS, "manage"]:
        assert name in done.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_answers_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([name, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: accord {name}" in capsys.readouterr().out


def test_manage_passes_help_through_to_django():
    done = subprocess.run(
        [sys.executable, "-m", "accord.cli", "manage", "help", "migrate"],
        capture_output=True, text=True, check=True,
    )
    assert "Updates database schema" in done.stdout


@pytest.mark.django_db
def test_createuser_refuses_an_unknown_role_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "accord.cli", "createuser", "x", "--email", "x@example.com",
         "--role", "boss", "--password", "pw"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 2
    assert "invalid choice: 'boss'" in done.stderr
    assert "Traceback" not in done.stderr
