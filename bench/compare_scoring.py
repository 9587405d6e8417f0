"""Compare rule scoring with the predictive model on the simulated company's later months.

    .venv/bin/python bench/compare_scoring.py [--scale 10] [--seed 1] [--data-dir DIR]

Loads the demo company (accord.demo) into a fresh SQLite database (or reuses DIR when it
already holds a finished load), trains the model on the earlier window and prints both
scorers' ROC AUC, PR AUC and top-decile lift on the later, held-out window. Both are
scored as of each lead's snapshot, from the same rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0, help="demo size (10 ≈ 200,000 contacts)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2026-06-30", help="last day of the simulated history")
    parser.add_argument("--data-dir", help="reuse this folder's database (default: a new temporary one)")
    args = parser.parse_args()
    os.environ["ACCORD_DATA_DIR"] = args.data_dir or tempfile.mkdtemp(prefix="accord-compare-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from accord.demo.services import load_demo
    from accord.scoring import services

    call_command("migrate", interactive=False, verbosity=0)
    as_of = date.fromisoformat(args.as_of)
    started = time.perf_counter()
    load_demo(seed=args.seed, scale=args.scale, as_of=as_of)
    print(f"Demo company (seed {args.seed}, scale {args.scale}) ready in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    version = services.train_model(as_of=datetime.combine(as_of, datetime.max.time(), UTC), activate=False)
    print(f"Trained in {time.perf_counter() - started:.0f} s")
    if version.unavailable_reason:
        print(version.unavailable_reason)
        return 1
    print(f"Training window  {version.train_start:%Y-%m-%d} → {version.train_end:%Y-%m-%d} "
          f"({version.train_size:,} snapshots, {100 * version.positive_rate:.1f}% {version.outcome} within "
          f"{version.horizon_days} days)")
    print(f"Held-out window  {version.eval_start:%Y-%m-%d} → {version.eval_end:%Y-%m-%d} "
          f"({version.eval_size:,} snapshots)")
    print(f"{'':<22}{'ROC AUC':>10}{'PR AUC':>10}{'top-decile lift':>18}")
    print(f"{'rules (default)':<22}{version.rules_roc_auc:>10.3f}{version.rules_pr_auc:>10.3f}"
          f"{version.rules_lift_by_decile[0]:>18.2f}")
    print(f"{'predictive model':<22}{version.roc_auc:>10.3f}{version.pr_auc:>10.3f}"
          f"{version.lift_by_decile[0]:>18.2f}")
    calibration = version.calibration
    print(f"Calibration on the held-out window: predicted mean {calibration['predicted_mean']:.4f}, "
          f"observed rate {calibration['observed_rate']:.4f}; Brier {version.brier:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
