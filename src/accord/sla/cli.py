"""The `accord sla` commands: apply a new version of the SLA document, show one, and check or rebuild the
compliance rollup.

Wired into the `accord` command by accord.cli through `add_parser`; each handler sets
Django up only when it runs.
"""

from __future__ import annotations

import argparse
import sys

from accord.core.cli import read_document, refuse_document, setup_django


def cmd_apply(args: argparse.Namespace) -> int:
    setup_django()
    from accord.accounts.models import User
    from accord.core.errors import PermissionDenied
    from accord.core.yamldoc import InvalidDocument
    from accord.sla import services

    source = read_document("sla apply", args.file)
    if source is None:
        return 2
    by = None
    if args.by:
        by = User.objects.filter(username=args.by, is_active=True).first()
        if by is None:
            print(f"accord sla apply: no active user {args.by!r}", file=sys.stderr)
            return 2
    try:
        version = services.publish_sla_version(source=source, by=by, note=args.note)
    except InvalidDocument as error:
        return refuse_document("sla apply", args.file, error.errors)
    except PermissionDenied as error:
        print(f"accord sla apply: {error.message}", file=sys.stderr)
        return 2
    print(f"SLA v{version.version} is in force from {version.effective_from:%Y-%m-%d %H:%M} UTC. "
          "Clocks opened from now on use it; running clocks keep the version they started under.")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    setup_django()
    from accord.sla import selectors, services

    if args.list:
        services.sla_in_force()
        for item in selectors.versions():
            by = item.created_by.username if item.created_by else "accord"
            print(f"v{item.version:<4} {item.effective_from:%Y-%m-%d %H:%M}  {by:<12} {item.note}")
        return 0
    if args.version is not None:
        chosen = selectors.version(number=args.version)
        if chosen is None:
            print(f"accord sla show: there is no version {args.version}", file=sys.stderr)
            return 2
    else:
        chosen, _ = services.sla_in_force()
    print(f"# SLA v{chosen.version}, in force from {chosen.effective_from:%Y-%m-%d %H:%M} UTC")
    print(chosen.source.rstrip())
    return 0


def cmd_rollup(args: argparse.Namespace) -> int:
    setup_django()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from accord.sla import rollup

    console = Console(stderr=True)
    verb = "Rebuilding" if args.rebuild else "Checking"
    with Progress(TextColumn(f"[bold]{verb} the compliance rollup"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("clocks"), TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("clocks", total=None)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if args.rebuild:
            rows = rollup.rebuild(progress=show)
        else:
            differences = rollup.differences(progress=show)
    if args.rebuild:
        print(f"The compliance rollup was rebuilt from the clocks: {rows:,} rows.")
        return 0
    if differences:
        print(f"The compliance rollup differs from the clocks on {len(differences):,} rows "
              "(e.g. clocks deleted with their leads); run `accord sla rollup --rebuild`.")
        return 1
    print("The compliance rollup agrees with the clocks.")
    return 0


def add_parser(subparsers) -> None:
    """Add `sla` and its subcommands to the `accord` command's subparsers."""
    sla = subparsers.add_parser(
        "sla", help="the marketing–sales SLA: apply a new version or show one",
        description="Publish the SLA document as a new version, or print a version.",
    )
    sub = sla.add_subparsers(dest="sla_command", metavar="COMMAND", required=True)
    apply = sub.add_parser(
        "apply", help="validate and publish an SLA document as the next version",
        description="Validate FILE (refused with line numbers when invalid) and store it as the "
        "next version, in force from now.",
    )
    apply.add_argument("file", metavar="FILE", help="YAML SLA document")
    apply.add_argument("--note", default="", help="why it changed (kept with the version)")
    apply.add_argument("--by", metavar="USERNAME", help="the person publishing (checked for permission)")
    apply.set_defaults(handler=cmd_apply)
    show = sub.add_parser("show", help="print the SLA in force (or a version, or the list)",
                          description="Print an SLA version as it was published.")
    show.add_argument("--version", type=int, help="a stored version instead of the one in force")
    show.add_argument("--list", action="store_true", help="list every version with who and when")
    show.set_defaults(handler=cmd_show)
    roll = sub.add_parser(
        "rollup", help="check the compliance rollup against the clocks, or rebuild it",
        description="The compliance reports read a daily rollup that the SLA services keep current. "
        "Check that it agrees with the clocks (exit 1 if not), or rebuild it from them, e.g. after an "
        "import or an upgrade. The rebuild runs in one transaction: do it when clocks are quiet.",
    )
    roll.add_argument("--rebuild", action="store_true", help="replace the rollup with one computed from the clocks")
    roll.set_defaults(handler=cmd_rollup)
