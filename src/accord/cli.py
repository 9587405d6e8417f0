"""The `accord` command.

Each subcommand parses its arguments, sets Django up, and calls one service or
management command; the work itself lives in the apps.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import date

from accord.core.cli import setup_django

DEMO_HOST = "127.0.0.1"
DEMO_PORT = 8000
# One process a core, each with a few threads: a request waiting for its write to commit
# (capture.groupcommit groups a process's writes into one transaction and one fsync) holds
# a thread, not a process, while the others parse and render on the core.
WEB_WORKERS = os.cpu_count() or 1
WEB_THREADS = 16


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def cmd_manage(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["accord manage", *args.rest])
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    setup_django()
    _migrate(verbosity=1)
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    setup_django()
    import getpass

    from accord.accounts import services
    from accord.core.errors import AccordError

    password = args.password or os.environ.get("ACCORD_NEW_USER_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("accord createuser: give --password or set ACCORD_NEW_USER_PASSWORD", file=sys.stderr)
            return 2
        password = getpass.getpass("Password: ")
    try:
        user = services.create_user(
            username=args.username,
            email=args.email,
            role=args.role,
            password=password,
            team_name=args.team,
            first_name=args.first_name,
            last_name=args.last_name,
        )
    except AccordError as error:
        print(f"accord createuser: {error.message}", file=sys.stderr)
        return 2
    print(f"Created {user.username} ({user.get_role_display()}).")
    return 0


def _gunicorn_argv(host: str, port: int, workers: int, threads: int = WEB_THREADS) -> list[str]:
    """Return gunicorn's command-line options for the web server (the program name excluded)."""
    return [
        "accord.config.wsgi:application",
        "--config", "python:accord.config.gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--access-logfile", "-",
        "--graceful-timeout", "10",
        # Import Django once in the master, then fork: workers answer at once and share
        # memory. Safe because nothing opens a database connection at import time.
        "--preload",
    ]


def _web_argv(host: str, port: int, workers: int, threads: int = WEB_THREADS) -> list[str]:
    return [sys.executable, "-m", "accord.cli", "serve", "--web-process", "--host", host, "--port", str(port),
            "--workers", str(workers), "--threads", str(threads)]


def _worker_argv() -> list[str]:
    return [sys.executable, "-m", "accord.cli", "worker"]


def _serve_web(args: argparse.Namespace) -> int:
    """Migrate, then become gunicorn's master in this process.

    One process sets Django up for both: a separate `python -m gunicorn` after the migration
    check set it up a second time, seconds before the server could answer.
    """
    setup_django()
    _migrate()
    from django.db import connections

    # The workers fork from this process: none may inherit the migration's connection.
    connections.close_all()
    from gunicorn.app.wsgiapp import WSGIApplication

    sys.argv = ["accord serve", *_gunicorn_argv(args.host, args.port, args.workers, args.threads)]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog="accord serve").run()
    return 0


def _listening(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _run_children(web: list[str], *, host: str, port: int, then: tuple[list[str], ...] = ()) -> int:
    """Run the web server, say when it answers, start `then` (the worker), and stop them all on Ctrl-C.

    The worker starts once the server answers, so the migration is done, and it does not
    compete with the server's start for the cores.
    """
    import time

    started = time.monotonic()
    if _listening(host, port):
        print(f"accord: something is already listening on {host}:{port}; choose another --port", file=sys.stderr)
        return 2
    children = [subprocess.Popen(web)]  # noqa: S603

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            for child in children:
                code = child.poll()
                if code is not None:
                    stop()
                    for other in children:
                        other.wait()
                    return code
            if started and _listening(host, port):
                print(f"Accord is ready at http://{host}:{port}/ (started in {time.monotonic() - started:.1f} s)",
                      flush=True)
                started = 0.0
                children.extend(subprocess.Popen(cmd) for cmd in then)  # noqa: S603
            with contextlib.suppress(subprocess.TimeoutExpired):
                children[0].wait(timeout=0.1 if started else 1)
    except KeyboardInterrupt:
        stop()
        for child in children:
            child.wait()
        return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.web_process:
        return _serve_web(args)
    print(f"Starting Accord at http://{args.host}:{args.port}/ …", flush=True)
    return _run_children(_web_argv(args.host, args.port, args.workers, args.threads), host=args.host,
                         port=args.port, then=(_worker_argv(),) if args.with_worker else ())


def cmd_worker(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    options = {"queue_name": args.queue, "startup_delay": False}
    if args.batch:
        options["batch"] = True
    elif not args.no_scheduler:
        from accord.config.scheduler import start_scheduler

        start_scheduler()
    call_command("db_worker", **options)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    setup_django()
    from accord.demo import services as demo

    _migrate()
    logins = demo.load_demo(
        seed=args.seed, scale=args.scale, reset=args.reset, progress=True, as_of=args.as_of
    )
    print()
    print(f"Accord demo: http://{args.host}:{args.port}/")
    print(f"Logins (password for all: {demo.DEMO_PASSWORD})")
    for login in logins:
        print(f"  {login.username:<10} {login.role_label}")
    sys.stdout.flush()
    if args.no_serve:
        return 0
    return _run_children(_web_argv(args.host, args.port, args.workers), host=args.host, port=args.port,
                         then=(_worker_argv(),))


def cmd_jobs(args: argparse.Namespace) -> int:
    setup_django()
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
    from rich.table import Table

    from accord.core.models import Job

    console = Console()
    if args.watch is None:
        table = Table("id", "job", "status", "progress", "by", "created")
        for job in Job.objects.select_related("created_by")[: args.limit]:
            progress = f"{job.progress_done:,}/{job.progress_total:,}" if job.progress_total else ""
            table.add_row(
                str(job.pk), job.title, job.get_status_display(), progress,
                job.created_by.username if job.created_by else "", f"{job.created_at:%Y-%m-%d %H:%M}",
            )
        console.print(table)
        return 0
    try:
        job = Job.objects.get(pk=args.watch)
    except Job.DoesNotExist:
        console.print(f"accord jobs: no job {args.watch}")
        return 2
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[message]}"),
        console=console,
    ) as bar:
        task_id = bar.add_task(job.title, total=job.progress_total, message=job.message)
        while True:
            job.refresh_from_db()
            bar.update(task_id, completed=job.progress_done, total=job.progress_total, message=job.message)
            if job.is_finished:
                break
            time.sleep(0.5)
    console.print(f"{job.title}: {job.get_status_display()}" + (f" ({job.error})" if job.error else ""))
    return 0 if job.status == Job.Status.SUCCEEDED else 1


Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accord",
        description="Accord: one revenue team, marketing and sales on one system.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo",
        help="load the simulated company and serve it",
        description="Migrate the database, load a seeded simulation of an 18-month company, "
        "create one login per role, and serve the app.",
    )
    demo.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    demo.add_argument("--scale", type=float, default=1.0, help="size multiplier (1 = 20,000 contacts)")
    demo.add_argument("--reset", action="store_true", help="delete existing data and load again")
    demo.add_argument(
        "--as-of", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
        help="last simulated day (default: today, UTC)",
    )
    demo.add_argument("--no-serve", action="store_true", help="load the data, then exit")
    demo.add_argument("--host", default=DEMO_HOST)
    demo.add_argument("--port", type=int, default=DEMO_PORT)
    demo.add_argument("--workers", type=int, default=3, help="web server processes")
    demo.set_defaults(handler=cmd_demo)

    serve = sub.add_parser(
        "serve", help="serve the web app and API", description="Migrate, then serve with gunicorn (WSGI, threaded workers)."
    )
    serve.add_argument("--host", default=DEMO_HOST)
    serve.add_argument("--port", type=int, default=DEMO_PORT)
    serve.add_argument("--workers", type=int, default=WEB_WORKERS, help="web server processes (default: 1 a core)")
    serve.add_argument("--threads", type=int, default=WEB_THREADS, help="threads per process")
    serve.add_argument("--with-worker", action="store_true", help="also run a background worker")
    # The child `accord serve` starts: migrate, then run gunicorn's master in the same process.
    serve.add_argument("--web-process", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser(
        "worker", help="run background jobs", description="Run queued background tasks as they arrive, "
        "and the periodic tasks of config/schedule.py (the SLA checker) on a thread of their own."
    )
    worker.add_argument("--queue", default="default", help="queue to take tasks from")
    worker.add_argument("--batch", action="store_true",
                        help="exit once the queue is empty (periodic tasks do not run)")
    worker.add_argument("--no-scheduler", action="store_true",
                        help="do not run the periodic tasks of config/schedule.py in this worker")
    worker.set_defaults(handler=cmd_worker)

    createuser = sub.add_parser(
        "createuser", help="create a login", description="Create a user with a role."
    )
    createuser.add_argument("username")
    createuser.add_argument("--email", required=True)
    createuser.add_argument(
        "--role",
        required=True,
        choices=["marketing", "sales_rep", "sales_manager", "revops_admin", "executive"],
    )
    createuser.add_argument("--team", help="team name (created if missing)")
    createuser.add_argument("--first-name", default="")
    createuser.add_argument("--last-name", default="")
    createuser.add_argument("--password", help="else ACCORD_NEW_USER_PASSWORD, else asked")
    createuser.set_defaults(handler=cmd_createuser)

    jobs = sub.add_parser(
        "jobs", help="list background jobs or watch one", description="List recent jobs, or follow one's progress."
    )
    jobs.add_argument("--watch", type=int, metavar="ID", help="show a live progress bar for this job")
    jobs.add_argument("--limit", type=int, default=20)
    jobs.set_defaults(handler=cmd_jobs)

    # Later subcommands live with their apps; each sets Django up only when it runs.
    from accord.imports.cli import add_parser as add_import_parser

    add_import_parser(sub)
    from accord.scoring.cli import add_parser as add_score_parser

    add_score_parser(sub)
    from accord.sla.cli import add_parser as add_sla_parser

    add_sla_parser(sub)
    from accord.handoff.cli import add_parser as add_handoff_parser

    add_handoff_parser(sub)
    from accord.lifecycle.cli import add_parser as add_feedback_parser

    add_feedback_parser(sub)
    from accord.notifications.cli import add_parser as add_notifications_parser

    add_notifications_parser(sub)

    migrate = sub.add_parser("migrate", help="create or update the database tables")
    migrate.set_defaults(handler=cmd_migrate)

    manage = sub.add_parser(
        "manage",
        help="run a Django management command",
        description="Pass the remaining arguments to Django's management commands.",
        add_help=False,
    )
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
