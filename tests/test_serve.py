"""`accord serve` brings up gunicorn on a fresh data folder and answers requests."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 180) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.slow
def test_serve_migrates_a_fresh_database_and_serves_pages_api_and_static_files(tmp_path):
    port = free_port()
    env = {**os.environ, "ACCORD_DATA_DIR": str(tmp_path), "ACCORD_DATABASE_URL": ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "accord.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/api/v1/openapi.json") == 200
        assert wait_for(f"{base}/login/") == 200
        # Anonymous API calls are refused, not served.
        assert wait_for(f"{base}/api/v1/contacts") == 401
        assert wait_for(f"{base}/static/admin/css/base.css") == 200
        assert (tmp_path / "accord.sqlite3").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Each access log line ends with the request's time in microseconds (accord.config.gunicorn).
    login = next(line for line in server.stdout.read().splitlines() if '"GET /login/ HTTP/1.1" 200' in line)
    assert login.rsplit(" ", 1)[1].isdigit()


def test_the_server_freezes_what_the_master_preloaded_out_of_the_garbage_collectors_reach():
    import gc

    from accord.config import gunicorn

    # Given a process holding long-lived objects, as the master does after preloading the app
    gc.unfreeze()
    try:
        # When gunicorn calls the hook before forking its workers
        gunicorn.when_ready(server=None)

        # Then those objects sit in the permanent generation, which no collection walks
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
