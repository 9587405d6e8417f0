"""The `accord feedback` command: rebuild the lead-quality rollup from the history.

Wired into the `accord` command by accord.cli through `add_parser`; Django is set up only
when the command runs, so `accord --help` stays fast.
"""

from __future__ import annotations

import argparse

from accord.core.cli import setup_django


def cmd_rebuild(args: argparse.Namespace) -> int:
    setup_django()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from accord.lifecycle import services

    with Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn()) as bar:
        task = bar.add_task("Lead quality", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        result = services.rebuild_feedback_rollup(progress=progress)
    print(f"Read {result['events']:,} handovers and verdicts; the rollup has {result['rows']:,} rows.")
    return 0


def add_parser(subparsers) -> None:
    """Add `feedback` to the `accord` command's subparsers."""
    feedback = subparsers.add_parser(
        "feedback", help="sales' feedback and the lead-quality numbers",
        description="Maintain what the lead-quality page reads.")
    sub = feedback.add_subparsers(dest="feedback_command", metavar="COMMAND", required=True)
    rebuild = sub.add_parser(
        "rebuild", help="recount the lead-quality rollup from the history",
        description="Give every feedback row its handover and origin, and recount the daily rollup from "
        "the stage history and the feedback (after a bulk load; safe to run at any time).")
    rebuild.set_defaults(handler=cmd_rebuild)
