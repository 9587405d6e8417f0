"""What the apps' `accord` subcommands share: Django set up on demand, and documents read from files.

Each app's cli module is wired into the `accord` command by accord.cli, which sits above
every app; the apps cannot import it, so what they share lives here, at the bottom.
Nothing here imports Django at module level: `accord --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path


def setup_django() -> None:
    """Configure Django with Accord's settings, unless the environment names other settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    import django

    django.setup()


def fail(command: str, message: str) -> int:
    """Print `accord <command>: <message>` on stderr and return the exit status for bad input."""
    print(f"accord {command}: {message}", file=sys.stderr)
    return 2


def read_document(command: str, path: str) -> str | None:
    """Return a document file's text, or say why it cannot be read and return None."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(command, f"cannot read {path}: {getattr(error, 'strerror', None) or 'not UTF-8 text'}")
        return None


def refuse_document(command: str, path: str, problems: Iterable[str]) -> int:
    """Say that a document was not applied and list its problems (each names its line)."""
    print(f"accord {command}: {path} was not applied:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 2
