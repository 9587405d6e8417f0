"""The `accord notifications` subcommand: send the daily digests, or sweep the outbox, now.

Both are also periodic tasks of `accord worker`; the commands are for cron-less set-ups,
catching up after downtime, and checking the configuration.
"""

from __future__ import annotations

import argparse
import json

from accord.core.cli import setup_django


def add_parser(subparsers) -> None:
    """Register `notifications` on the `accord` command's subparsers."""
    parser = subparsers.add_parser(
        "notifications", help="send the daily digests or retry due deliveries now",
        description=(
            "digest: gather each person's waiting digest-mode notifications into one email "
            "(at most one per person per day; running it again the same day sends nothing).\n"
            "sweep: queue every delivery that is due for a retry and take back deliveries a "
            "killed worker left half-sent. `accord worker` sends what they queue."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=("digest", "sweep"))
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from accord.notifications import services

    if args.action == "digest":
        counts = services.send_digests(timezone.now())
        text = f"Queued {counts['digests']} digest email(s); `accord worker` sends them."
    else:
        counts = services.sweep()
        text = (f"Queued {counts['queued']} due deliveries; took back {counts['released']} "
                "left half-sent by a stopped worker.")
    print(json.dumps(counts) if args.json else text)
    return 0
