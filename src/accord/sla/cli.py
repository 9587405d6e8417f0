"""The `accord sla` commands: apply a new version of the SLA document, show one, and check or rebuild the
compliance and handover rollups.

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

    from accord.sla import handover_rollup, rollup

    console = Console(stderr=True)
    verb = "Rebuilding" if args.rebuild else "Checking"
    found: dict[str, int | list] = {}
    # Sales' clocks, then marketing's handovers and verdicts: two rollups, one command.
    for name, module, unit in (("compliance", rollup, "clocks"), ("handover", handover_rollup, "months")):
        with Progress(TextColumn(f"[bold]{verb} the {name} rollup"), BarColumn(), MofNCompleteColumn(),
                      TextColumn(unit), TimeRemainingColumn(), console=console, transient=True) as bar:
            task = bar.add_task(unit, total=None)

            def show(done: int, total: int, bar=bar, task=task) -> None:
                bar.update(task, completed=done, total=total)

            found[name] = module.rebuild(progress=show) if args.rebuild else module.differences(progress=show)
    if args.rebuild:
        print(f"The compliance rollup was rebuilt from the clocks: {found['compliance']:,} rows.")
        print(f"The handover rollup was rebuilt from the handovers and verdicts: {found['handover']:,} days.")
        return 0
    status = 0
    if found["compliance"]:
        print(f"The compliance rollup differs from the clocks on {len(found['compliance']):,} rows "
              "(e.g. clocks deleted with their leads); run `accord sla rollup --rebuild`.")
        status = 1
    else:
        print("The compliance rollup agrees with the clocks.")
    if found["handover"]:
        days = found["handover"]
        print(f"The handover rollup differs from the handovers and verdicts on {len(days):,} days "
              f"({days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}; e.g. a merge dropped a duplicate's handover); "
              "run `accord sla rollup --rebuild`.")
        status = 1
    else:
        print("The handover rollup agrees with the handovers and verdicts.")
    return status


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
        "rollup", help="check the compliance and handover rollups against the rows, or rebuild them",
        description="The compliance reports read rollups that the SLA services keep current: sales' from "
        "the clocks, marketing's from the handovers and verdicts. Check that they agree with those rows "
        "(exit 1 if not), or rebuild them, e.g. after an import or an upgrade. Each rebuild runs in one "
        "transaction: do it when the handoff is quiet.",
    )
    roll.add_argument("--rebuild", action="store_true",
                      help="replace the rollups with ones computed from the clocks, handovers and verdicts")
    roll.set_defaults(handler=cmd_rollup)
