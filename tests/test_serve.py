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
    lines = server.stdout.read().splitlines()
    # Each access log line ends with the request's time in microseconds (accord.config.gunicorn).
    login = next(line for line in lines if '"GET /login/ HTTP/1.1" 200' in line)
    assert login.rsplit(" ", 1)[1].isdigit()
    # The address is announced as ready once it answers, not while Django is still loading.
    ready = [index for index, line in enumerate(lines) if line.startswith(f"Accord is ready at {base}/ (started in ")]
    listening = [index for index, line in enumerate(lines) if f"Listening at: {base}" in line]
    assert len(ready) == 1 and listening[0] < ready[0]


def test_serve_refuses_a_port_something_else_listens_on(tmp_path):
    # Given another program listening on the port
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]

        # When Accord is asked to serve on it
        result = subprocess.run(
            [sys.executable, "-m", "accord.cli", "serve", "--port", str(port)],
            env={**os.environ, "ACCORD_DATA_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=60,
        )

    # Then it says so at once, and neither migrates nor starts a server
    assert result.returncode == 2
    assert result.stderr == f"accord: something is already listening on 127.0.0.1:{port}; choose another --port\n"
    assert not (tmp_path / "accord.sqlite3").exists()


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
