"""The `accord import` subcommand: parse options, run the import in this process, show the outcome.

Exit status: 0 when every row landed, 1 when some rows were rejected (the others landed),
2 when the import was refused as a whole and nothing was written.
"""

from __future__ import annotations

import argparse
import json
import sys

from accord.core.cli import setup_django

KIND_CHOICES = ("contacts", "accounts", "deals", "touchpoints", "costs")
PRESET_CHOICES = (
    "hubspot", "salesforce", "google-ads", "microsoft-ads", "meta-ads", "linkedin-ads", "generic",
)
SHOWN_ERRORS = 10


def add_parser(subparsers) -> None:
    """Register `import` on the `accord` command's subparsers."""
    parser = subparsers.add_parser(
        "import",
        help="import contacts, accounts, deals, touchpoints or costs from a CSV file",
        description=(
            "Import a CSV file, for instance a HubSpot or Salesforce export. Records are "
            "upserted, so running the same file again changes nothing; bad rows are rejected "
            "with their line number and reason, listed in an error report CSV, and the good "
            "rows still land. See docs/imports.md."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=KIND_CHOICES, help="what the file holds")
    parser.add_argument("file", help="path of the CSV file")
    parser.add_argument(
        "--preset", choices=PRESET_CHOICES,
        help="the tool that exported the file (default: detected from the header)",
    )
    parser.add_argument(
        "--map", action="append", dest="mapping", default=[], metavar='"Column Name=field"',
        help="read a column as a field (repeatable); '-' as the field ignores the column",
    )
    parser.add_argument(
        "--encoding", help="the file's encoding, e.g. utf-8, cp1252, latin-1 (default: detected)"
    )
    parser.add_argument(
        "--dry-run", action="store_true",
        help="check every row against the database and say what would change; write nothing",
    )
    parser.add_argument(
        "--json", action="store_true",
        help='print only {"created", "updated", "unchanged", "rejected", "errors"} as JSON',
    )
    parser.add_argument(
        "--by", metavar="USER",
        help="username or email of the person the import's changes are recorded as made by",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from accord.core.errors import AccordError
    from accord.imports.services import import_file

    by = None
    if args.by:
        by = get_user_model().objects.filter(Q(username=args.by) | Q(email__iexact=args.by)).first()
        if by is None:
            print(f"accord import: no user {args.by!r}", file=sys.stderr)
            return 2
    options = dict(
        kind=args.kind, path=args.file, by=by, preset=args.preset, mapping=args.mapping,
        encoding=args.encoding, dry_run=args.dry_run,
    )
    try:
        summary = import_file(**options) if args.json else _with_progress_bar(options)
    except AccordError as error:
        if args.json:
            print(json.dumps({"error": error.message}))
        print(f"accord import: {error.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        _print_summary(summary)
    return 1 if summary.rejected else 0


def _with_progress_bar(options: dict):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from accord.imports.services import import_file

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]Importing {task.description}"), BarColumn(), DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task(options["kind"], total=None, rows=0)

        def show(step) -> None:
            bar.update(task, completed=step.bytes_read, total=step.bytes_total, rows=step.rows)

        return import_file(**options, on_progress=show)


def _print_summary(summary) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    verb = "Would import" if summary.dry_run else "Imported"
    preset = f"{summary.preset} ({'detected' if summary.preset_detected else 'given'})"
    delimiter = {"\t": "tab", ",": "comma", ";": "semicolon"}[summary.delimiter]
    console.print(
        f"{verb} {summary.kind} from {summary.file} in {summary.seconds:.1f} s: "
        f"{summary.rows:,} rows, preset {preset}, encoding {summary.encoding}, {delimiter}-separated."
    )
    prefix = "would be " if summary.dry_run else ""
    console.print(
        f"  {summary.created:,} {prefix}created, {summary.updated:,} {prefix}updated, "
        f"{summary.unchanged:,} unchanged, {summary.rejected:,} rejected."
    )
    if summary.dry_run:
        console.print("  Dry run: nothing was written to the database.")
    if summary.ignored_columns:
        console.print("  Ignored columns: " + ", ".join(summary.ignored_columns))
    for error in summary.errors[:SHOWN_ERRORS]:
        console.print(f"  row {error.row}, {error.column}: {error.message}")
    if len(summary.errors) > SHOWN_ERRORS or summary.rejected > len(summary.errors):
        console.print("  …")
    if summary.error_report:
        console.print(f"  Every rejected row, with its reason: {summary.error_report}")
