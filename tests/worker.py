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


def run_worker_until_idle(*, data_dir: Path) -> subprocess.CompletedProcess:
    """Run `accord worker --batch`: it takes every queued task, runs it, and exits."""
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": worker_database_url(),
        "ACCORD_TASKS_IMMEDIATE": "false",
        "ACCORD_DATA_DIR": str(data_dir),
        "ACCORD_SECRET_KEY": "test-only",
    }
    return subprocess.run(
        [sys.executable, "-m", "accord.cli", "worker", "--batch"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )


DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "periodic"]}}
