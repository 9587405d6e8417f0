"""The `accord routing` and `accord handoff` commands.

Wired into the `accord` command by accord.cli through `add_parser`; each handler sets
Django up only when it runs, so `accord --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from accord.core.cli import read_document, refuse_document, setup_django


def cmd_routing_apply(args: argparse.Namespace) -> int:
    setup_django()
    from accord.core.yamldoc import InvalidDocument
    from accord.lifecycle import services

    source = read_document("routing apply", args.file)
    if source is None:
        return 2
    try:
        config = services.publish_routing(source=source)
    except InvalidDocument as error:
        return refuse_document("routing apply", args.file, error.errors)
    print(f"Routing v{config.version} is active (MQL threshold {config.parsed['mql_threshold']}, "
          f"{len(config.parsed['rules'])} rules).")
    return 0


def cmd_routing_show(args: argparse.Namespace) -> int:
    setup_django()
    from accord.lifecycle import selectors, services

    if args.list:
        for config in selectors.routing_versions():
            by = config.created_by or "accord"
            print(f"v{config.version}  {config.created_at:%Y-%m-%d %H:%M}  {by}"
                  f"{'  (active)' if config.is_active else ''}")
        return 0
    if args.version is not None:
        config = selectors.routing_version(version=args.version)
        if config is None:
            print(f"accord routing show: no version {args.version}", file=sys.stderr)
            return 2
    else:
        services.active_routing()
        config = selectors.active_routing_config()
    print(config.source, end="" if config.source.endswith("\n") else "\n")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    setup_django()
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from accord.handoff import services

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
        task = bar.add_task("Reading new contacts and touchpoints", total=None)
        result = services.sweep_new_leads(
            progress=lambda done, total, message: bar.update(task, description=message))
    print(
        f"Read {result['contacts_read']:,} new contacts and {result['touchpoints_read']:,} touchpoints; "
        f"evaluated {result['evaluated']:,}: {result['mql']:,} new MQLs, {result['assigned']:,} assigned, "
        f"{result['unassigned']:,} waiting for a manager."
    )
    return 0


def add_parser(subparsers) -> None:
    """Add `routing` and `handoff` to the `accord` command's subparsers."""
    routing = subparsers.add_parser(
        "routing", help="the MQL threshold and lead routing rules",
        description="Publish a routing document as a new version, or show one.")
    sub = routing.add_subparsers(dest="routing_command", metavar="COMMAND", required=True)
    apply = sub.add_parser(
        "apply", help="validate, publish and activate a routing document",
        description="Validate FILE (refused with line numbers when invalid), store it as the next "
        "version and make it active for new MQLs.")
    apply.add_argument("file", metavar="FILE", help="YAML routing document")
    apply.set_defaults(handler=cmd_routing_apply)
    show = sub.add_parser("show", help="print the active routing document (or a version)",
                          description="Print a routing document as it was published.")
    show.add_argument("--version", type=int, help="a stored version instead of the active one")
    show.add_argument("--list", action="store_true", help="list every version instead")
    show.set_defaults(handler=cmd_routing_show)

    handoff = subparsers.add_parser(
        "handoff", help="hand new MQLs to sales",
        description="Find contacts that are new or newly active, score them, and route new MQLs.")
    handoff_sub = handoff.add_subparsers(dest="handoff_command", metavar="COMMAND", required=True)
    sweep = handoff_sub.add_parser(
        "sweep", help="evaluate new contacts and touchpoints now",
        description="Evaluate contacts created or touched since the last sweep; safe to run at any time.")
    sweep.set_defaults(handler=cmd_sweep)
