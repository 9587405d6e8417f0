"""The `accord score` commands: publish and show rules, rescore, train, compare and roll back models.

Wired into the `accord` command by accord.cli through `add_parser`; each handler sets
Django up only when it runs, so `accord --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from accord.core.cli import read_document, refuse_document, setup_django


def _bar():
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description:<48}"), BarColumn(), TaskProgressColumn(),
                    TimeElapsedColumn())


def _run_with_bar(title: str, work):
    with _bar() as bar:
        task = bar.add_task(title, total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message[:48])

        return work(progress)


def cmd_rules_apply(args: argparse.Namespace) -> int:
    setup_django()
    from accord.core.yamldoc import InvalidDocument
    from accord.scoring import services

    source = read_document("score rules apply", args.file)
    if source is None:
        return 2
    try:
        rule_set = services.publish_rule_set(source=source)
    except InvalidDocument as error:
        return refuse_document("score rules apply", args.file, error.errors)
    print(f"Scoring rules v{rule_set.version} are active.")
    if args.no_rescore:
        return 0
    result = _run_with_bar("Rescoring", lambda p: services.rescore(progress=p))
    print(f"Rescored {result['contacts']:,} contacts; {result['changed']:,} scores changed.")
    return 0


def cmd_rules_show(args: argparse.Namespace) -> int:
    setup_django()
    from accord.scoring import selectors, services

    if args.version is not None:
        chosen = selectors.rule_set(version=args.version)
    else:
        services.active_rules()
        chosen = selectors.active_rule_set()
    if args.list:
        for item in selectors.rule_sets():
            by = item.created_by.username if item.created_by else "accord"
            print(f"v{item.version:<4} {item.created_at:%Y-%m-%d %H:%M}  {by:<12} {'active' if item.is_active else ''}")
        return 0
    print(f"# Scoring rules v{chosen.version}{' (active)' if chosen.is_active else ''}")
    print(chosen.source.rstrip())
    return 0


def cmd_rescore(args: argparse.Namespace) -> int:
    setup_django()
    from accord.scoring import services

    result = _run_with_bar("Rescoring", lambda p: services.rescore(progress=p, full=args.full))
    print(f"Rescored {result['contacts']:,} contacts; {result['changed']:,} scores changed "
          f"(rules v{result['rule_version']}"
          + (f", model v{result['model_version']})." if result["model_version"] else ")."))
    return 0


def _card_lines(version) -> list[str]:
    if version.unavailable_reason:
        return [f"Model v{version.version} ({version.trained_at:%Y-%m-%d %H:%M}): {version.unavailable_reason}"]
    lines = [
        f"Model v{version.version}{' (active)' if version.is_active else ''}, trained {version.trained_at:%Y-%m-%d %H:%M}",
        f"  outcome       {version.outcome} within {version.horizon_days} days",
        f"  training      {version.train_start:%Y-%m-%d} → {version.train_end:%Y-%m-%d}, {version.train_size:,} snapshots,"
        f" {100 * (version.positive_rate or 0):.1f}% positive",
        f"  held out      {version.eval_start:%Y-%m-%d} → {version.eval_end:%Y-%m-%d}, {version.eval_size:,} snapshots",
        f"  ROC AUC       {version.roc_auc:.3f} (rules {version.rules_roc_auc:.3f})",
        f"  PR AUC        {version.pr_auc:.3f} (rules {version.rules_pr_auc:.3f})",
        f"  Brier         {version.brier:.4f}",
        f"  top decile    lift {version.lift_by_decile[0]:.2f} (rules {version.rules_lift_by_decile[0]:.2f})",
        f"  lift/decile   {' '.join(f'{x:.2f}' for x in version.lift_by_decile)}",
        f"  calibration   predicted {version.calibration.get('predicted_mean')}, observed {version.calibration.get('observed_rate')}",
        f"  features      {len(version.features)}",
    ]
    return lines


def cmd_model_train(args: argparse.Namespace) -> int:
    setup_django()
    from accord.scoring import predictive, services

    try:
        config = predictive.Config(outcome=args.outcome, horizon_days=args.horizon_days)
    except ValueError as error:
        print(f"accord score model train: {error}", file=sys.stderr)
        return 2
    version = _run_with_bar("Training", lambda p: services.train_model(config=config, progress=p,
                                                                      activate=not args.no_activate))
    print("\n".join(_card_lines(version)))
    if version.unavailable_reason:
        print("Rule scores stay in charge.")
        return 1
    return 0


def cmd_model_list(args: argparse.Namespace) -> int:
    setup_django()
    from accord.scoring import selectors

    for version in selectors.model_versions():
        print(_card_lines(version)[0] if version.unavailable_reason else
              f"v{version.version:<4} {version.trained_at:%Y-%m-%d %H:%M}  ROC AUC {version.roc_auc:.3f}"
              f"  PR AUC {version.pr_auc:.3f}{'  active' if version.is_active else ''}")
    return 0


def cmd_model_show(args: argparse.Namespace) -> int:
    setup_django()
    from accord.scoring import selectors

    version = selectors.model_version(version=args.version) if args.version else selectors.active_model()
    if version is None:
        print("No active predictive model: rule scores are in charge.")
        return 1
    print("\n".join(_card_lines(version)))
    return 0


def cmd_model_compare(args: argparse.Namespace) -> int:
    setup_django()
    from accord.scoring import selectors

    comparison = selectors.model_comparison(first=args.a, second=args.b)
    width = max(len(row[0]) for row in comparison)
    print(f"{'':<{width}}  {'v' + str(args.a):>12}  {'v' + str(args.b):>12}")
    for name, first, second in comparison:
        print(f"{name:<{width}}  {first:>12}  {second:>12}")
    return 0


def cmd_model_activate(args: argparse.Namespace) -> int:
    setup_django()
    from accord.scoring import services

    try:
        version = services.activate_model(version=args.version)
    except ValueError as error:
        print(f"accord score model activate: {error}", file=sys.stderr)
        return 2
    print(f"Model v{version.version} is active. Run `accord score rescore` to apply it now.")
    return 0


def add_parser(subparsers) -> None:
    """Add `score` and its subcommands to the `accord` command's subparsers."""
    score = subparsers.add_parser(
        "score", help="lead scoring: rules, rescoring and the predictive model",
        description="Publish scoring rules, rescore contacts, and train, compare and roll back "
        "predictive models.",
    )
    sub = score.add_subparsers(dest="score_command", metavar="COMMAND", required=True)

    rules = sub.add_parser("rules", help="publish or show the scoring rules",
                           description="Publish a rules document as a new version, or show one.")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="COMMAND", required=True)
    apply = rules_sub.add_parser(
        "apply", help="validate, publish and activate a rules document, then rescore",
        description="Validate FILE (refused with line numbers when invalid), store it as the next "
        "version, make it active and rescore every contact.",
    )
    apply.add_argument("file", metavar="FILE", help="YAML rules document")
    apply.add_argument("--no-rescore", action="store_true", help="publish only; rescore later")
    apply.set_defaults(handler=cmd_rules_apply)
    show = rules_sub.add_parser("show", help="print the active rules (or a version)",
                                description="Print a rules document as it was published.")
    show.add_argument("--version", type=int, help="a stored version instead of the active one")
    show.add_argument("--list", action="store_true", help="list every version instead")
    show.set_defaults(handler=cmd_rules_show)

    rescore = sub.add_parser("rescore", help="rescore every contact now",
                             description="Score every contact with the active rules (and model).")
    rescore.add_argument("--full", action="store_true",
                         help="read every touchpoint and activity and rebuild the engagement rollup "
                              "(after touches were moved or deleted in bulk)")
    rescore.set_defaults(handler=cmd_rescore)

    model = sub.add_parser("model", help="train, list, compare and activate predictive models",
                           description="Manage the predictive conversion model and its versions.")
    model_sub = model.add_subparsers(dest="model_command", metavar="COMMAND", required=True)
    train = model_sub.add_parser("train", help="train a new model version now, with a progress bar",
                                 description="Train on the history, evaluate on a later held-out "
                                 "window, store the model card, and activate it if it could be trained.")
    train.add_argument("--outcome", default="sql", choices=["sql", "opportunity", "won"],
                       help="what a lead must reach to count as converted: SQL or later, "
                            "opportunity or later, or a won deal it is on (default: sql)")
    train.add_argument("--horizon-days", type=int, default=90,
                       help="days after the snapshot to reach the outcome (1–730)")
    train.add_argument("--no-activate", action="store_true", help="store the version without activating it")
    train.set_defaults(handler=cmd_model_train)
    listing = model_sub.add_parser("list", help="list model versions", description="List model versions.")
    listing.set_defaults(handler=cmd_model_list)
    card = model_sub.add_parser("show", help="print a model card", description="Print a model card.")
    card.add_argument("version", type=int, nargs="?", help="version (default: the active one)")
    card.set_defaults(handler=cmd_model_show)
    compare = model_sub.add_parser("compare", help="compare two model versions side by side",
                                   description="Compare two model cards metric by metric.")
    compare.add_argument("a", type=int, metavar="A")
    compare.add_argument("b", type=int, metavar="B")
    compare.set_defaults(handler=cmd_model_compare)
    activate = model_sub.add_parser("activate", help="make a version active (roll back or forward)",
                                    description="Make model version N the one new scores use.")
    activate.add_argument("version", type=int, metavar="N")
    activate.set_defaults(handler=cmd_model_activate)
