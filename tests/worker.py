"""Run the real `accord worker` process against this test run's database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection


def worker_database_url() -> str:
    """Return a URL the worker process can use to reach this test run's database."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    parts = urlsplit(os.environ["ACCORD_DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def _worker_env(data_dir: Path, extra_env: dict[str, str] | None) -> dict[str, str]:
    return {
        **os.environ,
        "ACCORD_DATABASE_URL": worker_database_url(),
        "ACCORD_TASKS_IMMEDIATE": "false",
        "ACCORD_DATA_DIR": str(data_dir),
        "ACCORD_SECRET_KEY": "test-only",
        **(extra_env or {}),
    }


def run_worker_until_idle(*, data_dir: Path, extra_env: dict[str, str] | None = None
                          ) -> subprocess.CompletedProcess:
    """Run `accord worker --batch`: it takes every queued task, runs it, and exits."""
    return subprocess.run(
        [sys.executable, "-m", "accord.cli", "worker", "--batch"],
        env=_worker_env(data_dir, extra_env), capture_output=True, text=True, timeout=180,
        check=False,
    )


def start_worker(*, data_dir: Path, extra_env: dict[str, str] | None = None, batch: bool = True
                 ) -> subprocess.Popen:
    """Start `accord worker --batch` in the background, for tests that kill it mid-run.

    `batch=False` starts it as deployed: running until stopped, with its scheduler running the
    periodic tasks (the SLA checker among them). Its log goes to `data_dir/worker.log`: a pipe
    nobody reads would fill up and stall the worker.
    """
    with (data_dir / "worker.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "accord.cli", "worker", *(["--batch"] if batch else [])],
            env=_worker_env(data_dir, extra_env), stdout=subprocess.DEVNULL, stderr=log,
        )


DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "periodic"]}}
